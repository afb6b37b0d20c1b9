r"""Generative models: the VAE's ELBO, GAN losses and penalties, diffusion and flow matching (book Part X).

- :func:`gaussian_kl_loss` and :func:`vae_loss`: the negative ELBO of a VAE with a diagonal
  Gaussian posterior and a standard normal prior (β-VAE through ``beta``);
- :func:`gan_discriminator_loss` and :func:`gan_generator_loss`: the two players' losses of
  a GAN in five conventions (minimax, non-saturating, hinge, Wasserstein, least squares),
  written on the critic's raw scores (logits) with stable primitives;
- :func:`gradient_penalty` (WGAN-GP) and :func:`r1_penalty`: penalties on the critic's input
  gradient, differentiable in the critic's parameters (``create_graph=True``);
- :func:`diffusion_loss` (ε, x₀ or v targets, optional min-SNR-γ weights) and
  :func:`flow_matching_loss` (straight paths).

Every per-example loss reduces over all non-batch dims (dim 0 is the batch).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import _validation as V
from .registry import register

__all__ = [
    "gaussian_kl_loss",
    "vae_loss",
    "gan_discriminator_loss",
    "gan_generator_loss",
    "gradient_penalty",
    "r1_penalty",
    "diffusion_loss",
    "flow_matching_loss",
]

LIKELIHOODS = ("bernoulli", "gaussian")
GAN_KINDS = ("minimax", "nonsaturating", "hinge", "wasserstein", "least_squares")
PARAMETERIZATIONS = ("eps", "x0", "v")


def _feature_dims(tensor: torch.Tensor) -> tuple[int, ...]:
    """Every dim but the batch dim 0."""
    return tuple(range(1, tensor.dim()))


def _row_mse(
    prediction: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None, reduction: str
) -> torch.Tensor:
    """Per-row mean squared error over the feature dims, times ``weight [N]``, reduced. Every
    row has the same number of entries, so ``"mean"`` / ``"sum"`` of the row means are the
    mean of all entries / its ``N`` multiple: one fused ``F.mse_loss`` pass (a reduction over
    a short inner dim is slow)."""
    if weight is None and reduction != "none":
        mean = F.mse_loss(prediction, target)
        return mean if reduction == "mean" else mean * prediction.shape[0]
    squared = F.mse_loss(prediction, target, reduction="none")
    if weight is not None:
        squared = squared * weight.view(-1, *([1] * (squared.dim() - 1)))
    if reduction == "mean":
        return squared.mean()
    if reduction == "sum":
        return squared.mean() * squared.shape[0]
    return squared.mean(_feature_dims(squared))


def _check_batched(name: str, tensor: torch.Tensor) -> None:
    """Floating ``[N, d1, ...]`` with at least one feature dim, non-empty."""
    V.check_floating(name, tensor)
    V.check_min_dim(name, tensor, 2, "[N, d1, ...] (dim 0 is the batch)")
    V.check_nonempty(name, tensor)


def _check_like(first_name: str, first: torch.Tensor, name: str, tensor: torch.Tensor) -> None:
    V.check_floating(name, tensor)
    V.check_same_shape(first_name, first, name, tensor)


@register(
    family="generative",
    summary="KL(N(μ, diag e^logvar) ‖ N(0, I)) in closed form, summed over the latent dim: the VAE's regulariser.",
    cite="kingma2014auto",
    chapter="generative/vae",
    reference="torch.distributions.kl_divergence",
)
def gaussian_kl_loss(mu: torch.Tensor, logvar: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    r"""KL divergence of a diagonal Gaussian from the standard normal.

    .. math::
        \mathrm{KL}\bigl(\mathcal N(\mu, \operatorname{diag} \sigma^2) \,\|\, \mathcal N(0, I)\bigr)
        = \tfrac12 \sum_{j} \bigl(\mu_j^2 + \sigma_j^2 - 1 - \log \sigma_j^2\bigr),
        \qquad \log \sigma_j^2 = \text{logvar}_j

    :math:`\sigma^2 - 1 - \log \sigma^2` is computed as ``expm1(logvar) - logvar`` (exact near
    ``logvar = 0``); ``logvar`` of :math:`\pm 30` is finite in float32, beyond about 88
    :math:`e^{\text{logvar}}` overflows float32 (clamp the encoder's output if it can get there).

    Args:
        mu: the posterior means, ``[..., D]`` (the last dim is the latent dim).
        logvar: the posterior log-variances, the shape of ``mu``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (the leading shape ``[...]``).

    Returns:
        The KL, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`kingma2014auto` (their appendix B). Equivalent:
    ``torch.distributions.kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0, 1)).sum(-1)``.
    """
    V.check_reduction(reduction)
    V.check_floating("mu", mu)
    V.check_min_dim("mu", mu, 1, "[..., D] (the last dim is the latent dim)")
    V.check_nonempty("mu", mu)
    _check_like("mu", mu, "logvar", logvar)
    kl = 0.5 * (mu.square() + torch.expm1(logvar) - logvar).sum(-1)
    return V.reduce(kl, reduction)


@register(
    family="generative",
    summary="Negative ELBO of a VAE: reconstruction NLL (Bernoulli or unit Gaussian) + β · Gaussian KL, per example.",
    cite="kingma2014auto",
    chapter="generative/vae",
    reference=None,
)
def vae_loss(
    recon: torch.Tensor,
    target: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    *,
    likelihood: str = "bernoulli",
    beta: float = 1.0,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Negative evidence lower bound of a VAE (β-VAE when ``beta != 1``).

    .. math::
        \ell(x) = -\log p_\theta(x \mid z) + \beta\, \mathrm{KL}\bigl(q_\phi(z \mid x) \,\|\, \mathcal N(0, I)\bigr),
        \qquad z = \mu + \sigma \odot \varepsilon

    with the reconstruction term summed over every non-batch dim:
    ``"bernoulli"``: :math:`\sum_i \mathrm{BCE}(\text{recon}_i, x_i)` on logits;
    ``"gaussian"`` (unit variance, the constant :math:`\tfrac d2 \log 2\pi` dropped):
    :math:`\tfrac12 \lVert x - \text{recon} \rVert^2`. The KL is :func:`gaussian_kl_loss`.
    The caller samples :math:`z` (the reparameterisation trick) and decodes it into ``recon``.

    Args:
        recon: the decoder's output for one sample of :math:`z`, ``[N, d1, ...]``: logits
            (``"bernoulli"``) or means (``"gaussian"``).
        target: the data :math:`x`, the shape of ``recon``; in ``[0, 1]`` for ``"bernoulli"``.
        mu: the posterior means, ``[N, D]``.
        logvar: the posterior log-variances, ``[N, D]``.
        likelihood: ``"bernoulli"`` or ``"gaussian"``.
        beta: the weight :math:`\beta \ge 0` of the KL (1 is the ELBO; Higgins et al.'s β-VAE).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[N]``).

    Returns:
        The negative ELBO (an upper bound on :math:`-\log p_\theta(x)` when ``beta = 1`` and
        the Gaussian constant is added back), a scalar unless ``reduction="none"``.

    Reference: :cite:t:`kingma2014auto`; β from :cite:t:`higgins2017beta`. Equivalent:
    ``F.binary_cross_entropy_with_logits(recon, x, reduction="none").sum(dims)`` (or
    ``0.5 * F.mse_loss(..., reduction="none").sum(dims)``) plus ``beta`` times the
    ``torch.distributions`` KL summed over the latent dim.
    """
    V.check_reduction(reduction)
    V.check_choice("likelihood", likelihood, LIKELIHOODS)
    V.check_real("beta", beta)
    V.check_nonnegative("beta", beta)
    _check_batched("recon", recon)
    _check_like("recon", recon, "target", target)
    V.check_floating("mu", mu)
    V.check_ndim("mu", mu, 2, "[N, D]")
    V.check_same_batch("recon", recon, "mu", mu)
    _check_like("mu", mu, "logvar", logvar)
    dims = _feature_dims(recon)
    if likelihood == "bernoulli":
        V.check_probabilities("target", target)
        nll = F.binary_cross_entropy_with_logits(recon, target, reduction="none").sum(dims)
    else:
        nll = 0.5 * (target - recon).square().sum(dims)
    kl = gaussian_kl_loss(mu, logvar, reduction="none")
    return V.reduce(nll + beta * kl, reduction)


@register(
    family="generative",
    summary="The discriminator's GAN loss on raw scores: minimax / non-saturating, hinge, Wasserstein, LSGAN.",
    cite="goodfellow2014generative",
    chapter="generative/gan",
    reference=None,
)
def gan_discriminator_loss(
    real_logits: torch.Tensor,
    fake_logits: torch.Tensor,
    *,
    kind: str = "nonsaturating",
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Discriminator loss of a GAN, per sample pair.

    .. math::
        \text{minimax, nonsaturating:}\ \ \operatorname{softplus}(-D(x)) + \operatorname{softplus}(D(G(z)))
        = -\log \sigma(D(x)) - \log\bigl(1 - \sigma(D(G(z)))\bigr)

    ``"hinge"``: :math:`\operatorname{relu}(1 - D(x)) + \operatorname{relu}(1 + D(G(z)))`;
    ``"wasserstein"``: :math:`D(G(z)) - D(x)`;
    ``"least_squares"``: :math:`\tfrac12 (D(x) - 1)^2 + \tfrac12 D(G(z))^2`.
    The two GAN kinds share the discriminator's loss (they differ in the generator's).

    Args:
        real_logits: the critic's raw scores :math:`D(x)` on real data, any shape ``[N, ...]``.
        fake_logits: the scores :math:`D(G(z))` on generated data, the shape of ``real_logits``
            (pair the batches; different shapes raise).
        kind: ``"minimax"``, ``"nonsaturating"``, ``"hinge"``, ``"wasserstein"`` or
            ``"least_squares"``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (the input shape).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`goodfellow2014generative`; hinge :cite:p:`lim2017geometric`;
    Wasserstein :cite:p:`arjovsky2017wasserstein`; least squares :cite:p:`mao2017least`.
    Equivalent (GAN kinds): ``F.binary_cross_entropy_with_logits(real, ones) +
    F.binary_cross_entropy_with_logits(fake, zeros)``.
    """
    V.check_reduction(reduction)
    V.check_choice("kind", kind, GAN_KINDS)
    V.check_floating("real_logits", real_logits)
    V.check_min_dim("real_logits", real_logits, 1, "[N, ...]")
    V.check_nonempty("real_logits", real_logits)
    _check_like("real_logits", real_logits, "fake_logits", fake_logits)
    if kind in ("minimax", "nonsaturating"):
        loss = F.softplus(-real_logits) + F.softplus(fake_logits)
    elif kind == "hinge":
        loss = F.relu(1.0 - real_logits) + F.relu(1.0 + fake_logits)
    elif kind == "wasserstein":
        loss = fake_logits - real_logits
    else:
        loss = 0.5 * (real_logits - 1.0).square() + 0.5 * fake_logits.square()
    return V.reduce(loss, reduction)


@register(
    family="generative",
    summary="The generator's GAN loss on the scores of fakes: saturating minimax, non-saturating, hinge/W, LSGAN.",
    cite="goodfellow2014generative",
    chapter="generative/gan",
    reference=None,
)
def gan_generator_loss(
    fake_logits: torch.Tensor, *, kind: str = "nonsaturating", reduction: str = "mean"
) -> torch.Tensor:
    r"""Generator loss of a GAN, per generated sample.

    .. math::
        \text{minimax:}\ \ -\operatorname{softplus}(D(G(z))) = \log\bigl(1 - \sigma(D(G(z)))\bigr),
        \qquad \text{nonsaturating:}\ \ \operatorname{softplus}(-D(G(z))) = -\log \sigma(D(G(z)))

    ``"hinge"`` and ``"wasserstein"``: :math:`-D(G(z))`; ``"least_squares"``:
    :math:`\tfrac12 (D(G(z)) - 1)^2`. The minimax loss saturates: its derivative
    :math:`-\sigma(D)` vanishes where the critic rejects the fakes (:math:`D \ll 0`), the
    non-saturating one's, :math:`\sigma(D) - 1`, tends to :math:`-1` there.

    Args:
        fake_logits: the critic's raw scores :math:`D(G(z))` on generated data, ``[N, ...]``.
        kind: ``"minimax"``, ``"nonsaturating"``, ``"hinge"``, ``"wasserstein"`` or
            ``"least_squares"``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (the input shape).

    Returns:
        The loss, a scalar unless ``reduction="none"`` (negative for the minimax, hinge and
        Wasserstein kinds).

    Reference: :cite:t:`goodfellow2014generative` (both the minimax and the non-saturating
    loss); hinge :cite:p:`lim2017geometric`; Wasserstein :cite:p:`arjovsky2017wasserstein`;
    least squares :cite:p:`mao2017least`. Equivalent (non-saturating):
    ``F.binary_cross_entropy_with_logits(fake, ones)``.
    """
    V.check_reduction(reduction)
    V.check_choice("kind", kind, GAN_KINDS)
    V.check_floating("fake_logits", fake_logits)
    V.check_min_dim("fake_logits", fake_logits, 1, "[N, ...]")
    V.check_nonempty("fake_logits", fake_logits)
    if kind == "minimax":
        loss = -F.softplus(fake_logits)
    elif kind == "nonsaturating":
        loss = F.softplus(-fake_logits)
    elif kind in ("hinge", "wasserstein"):
        loss = -fake_logits
    else:
        loss = 0.5 * (fake_logits - 1.0).square()
    return V.reduce(loss, reduction)


def _input_gradient(critic, x: torch.Tensor, rows: int) -> torch.Tensor:
    """:math:`\\nabla_x \\sum_i \\text{critic}(x)_i`, kept in the graph (``create_graph=True``)."""
    with torch.enable_grad():
        if not x.requires_grad:
            x = x.detach().requires_grad_(True)
        scores = critic(x)
        V.check_one_score_per_row("critic(x)", scores, rows)
        (grad,) = torch.autograd.grad(scores.sum(), x, create_graph=True)
    return grad


@register(
    family="generative",
    summary="WGAN-GP: weight · mean (‖∇ critic(x̂)‖ - 1)² at random interpolates x̂ of real and fake samples.",
    cite="gulrajani2017improved",
    chapter="generative/gan",
    reference=None,
)
def gradient_penalty(
    critic,
    real: torch.Tensor,
    fake: torch.Tensor,
    *,
    weight: float = 10.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Gradient penalty of WGAN-GP (two-sided, at interpolates).

    .. math::
        \hat x_i = \epsilon_i x_i + (1 - \epsilon_i)\tilde x_i,\ \ \epsilon_i \sim U[0, 1],
        \qquad \lambda \cdot \frac1N \sum_i \bigl(\lVert \nabla_{\hat x} D(\hat x_i) \rVert_2 - 1\bigr)^2

    The input gradient is taken with ``create_graph=True``, so the penalty's gradient reaches
    the critic's parameters (and ``real`` / ``fake`` if they carry gradients: detach the fakes
    in the critic's step). :math:`\epsilon` is drawn in float32 from ``generator`` (then cast),
    so one seed gives the same interpolates in every dtype. The norm is
    :math:`\sqrt{\max(s, \text{tiny})}` of the squared sum :math:`s` (``tiny`` the dtype's
    smallest normal number): a finite gradient where the critic is flat, and a value that
    differs from the exact norm only when that is below :math:`\sqrt{\text{tiny}}`.

    Args:
        critic: a callable (function or module) mapping ``[N, d1, ...]`` to scores ``[N]`` or
            ``[N, 1]``, each row's score depending on that row only.
        real: real samples :math:`x`, ``[N, d1, ...]``.
        fake: generated samples :math:`\tilde x`, the shape of ``real``.
        weight: :math:`\lambda \ge 0` (10 in the paper).
        generator: the ``torch.Generator`` for :math:`\epsilon`, or ``None`` (torch's global one).

    Returns:
        The penalty, a scalar.

    Reference: :cite:t:`gulrajani2017improved` (their algorithm 1). Equivalent: the usual
    ``autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)`` recipe.
    """
    V.check_callable("critic", critic)
    V.check_real("weight", weight)
    V.check_nonnegative("weight", weight)
    _check_batched("real", real)
    _check_like("real", real, "fake", fake)
    rows = real.shape[0]
    eps = torch.rand(rows, generator=generator, dtype=torch.float32, device=real.device).to(real.dtype)
    eps = eps.view(rows, *([1] * (real.dim() - 1)))
    x_hat = eps * real + (1.0 - eps) * fake
    grad = _input_gradient(critic, x_hat, rows)
    squared = grad.square().sum(_feature_dims(grad))
    norm = squared.clamp(min=torch.finfo(squared.dtype).tiny).sqrt()
    return weight * (norm - 1.0).square().mean()


@register(
    family="generative",
    summary="R1: γ/2 · mean ‖∇ critic(x)‖² on real data, the zero-centred penalty of Mescheder et al.",
    cite="mescheder2018training",
    chapter="generative/gan",
    reference=None,
)
def r1_penalty(critic, real: torch.Tensor, *, gamma: float = 10.0) -> torch.Tensor:
    r"""R1 gradient penalty on real data.

    .. math::
        \frac{\gamma}{2} \cdot \frac1N \sum_i \lVert \nabla_x D(x_i) \rVert_2^2

    Zero-centred (it pulls the critic's input gradient towards 0 on the data, not towards 1
    as WGAN-GP does); taken with ``create_graph=True`` so it trains the critic's parameters.

    Args:
        critic: a callable mapping ``[N, d1, ...]`` to scores ``[N]`` or ``[N, 1]``, each row's
            score depending on that row only.
        real: real samples, ``[N, d1, ...]``.
        gamma: :math:`\gamma \ge 0` (10 in many of the paper's experiments).

    Returns:
        The penalty, a scalar.

    Reference: :cite:t:`mescheder2018training` (their eq. 9).
    """
    V.check_callable("critic", critic)
    V.check_real("gamma", gamma)
    V.check_nonnegative("gamma", gamma)
    _check_batched("real", real)
    grad = _input_gradient(critic, real, real.shape[0])
    return 0.5 * gamma * grad.square().sum(_feature_dims(grad)).mean()


def _min_snr_weight(alpha_bar: torch.Tensor, gamma: float, parameterization: str) -> torch.Tensor:
    r"""Min-SNR-γ weights with :math:`\mathrm{SNR} = \bar\alpha / (1 - \bar\alpha)`, written so that
    :math:`\bar\alpha \in \{0, 1\}` gives the finite limits (no 0/0):
    ε: :math:`\min(1, \gamma(1 - \bar\alpha)/\bar\alpha)`; v: :math:`\min(\bar\alpha, \gamma(1 - \bar\alpha))`;
    x₀: :math:`\min(\mathrm{SNR}, \gamma)`."""
    one_minus = 1.0 - alpha_bar
    if parameterization == "eps":
        return (gamma * one_minus / alpha_bar).clamp(max=1.0)
    if parameterization == "v":
        return torch.minimum(alpha_bar, gamma * one_minus)
    return (alpha_bar / one_minus).clamp(max=gamma)


@register(
    family="generative",
    summary="DDPM denoising loss: per-example MSE to the ε, x₀ or v target, optionally min-SNR-γ weighted.",
    cite="ho2020denoising",
    chapter="generative/diffusion",
    reference="diffusers DDPMScheduler.add_noise / get_velocity + min-SNR of its training scripts",
)
def diffusion_loss(
    prediction: torch.Tensor,
    x0: torch.Tensor,
    noise: torch.Tensor,
    alpha_bar: torch.Tensor,
    *,
    parameterization: str = "eps",
    min_snr_gamma: float | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Denoising loss of a diffusion model.

    The model saw :math:`x_t = \sqrt{\bar\alpha}\, x_0 + \sqrt{1 - \bar\alpha}\, \varepsilon` and
    predicted the target

    .. math::
        \varepsilon \ (\texttt{"eps"}), \qquad x_0 \ (\texttt{"x0"}), \qquad
        v = \sqrt{\bar\alpha}\, \varepsilon - \sqrt{1 - \bar\alpha}\, x_0 \ (\texttt{"v"});
        \qquad \ell = w(\bar\alpha) \cdot \operatorname{mean}_{\text{features}} (\text{prediction} - \text{target})^2

    with :math:`w = 1`, or, when ``min_snr_gamma`` is given, the min-SNR-γ weight with
    :math:`\mathrm{SNR} = \bar\alpha / (1 - \bar\alpha)` as in diffusers' training scripts:
    ε: :math:`\min(\mathrm{SNR}, \gamma)/\mathrm{SNR}`; v: :math:`\min(\mathrm{SNR}, \gamma)/(\mathrm{SNR} + 1)`;
    x₀: :math:`\min(\mathrm{SNR}, \gamma)`. They are computed in forms that stay finite at
    :math:`\bar\alpha = 0` and :math:`1` (the limits: ε 1 and 0, v 0 and 0, x₀ 0 and γ), where
    the textbook ratio is 0/0 or ∞/∞. ``alpha_bar`` is a constant of the loss (no gradient).

    Args:
        prediction: the model's output, ``[N, d1, ...]``.
        x0: the clean data, the shape of ``prediction``.
        noise: the noise :math:`\varepsilon` added to make :math:`x_t`, the shape of ``prediction``.
        alpha_bar: :math:`\bar\alpha_t \in [0, 1]` of each example, ``[N]``.
        parameterization: ``"eps"``, ``"x0"`` or ``"v"``.
        min_snr_gamma: :math:`\gamma > 0` of min-SNR-γ, or ``None`` (unweighted).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[N]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`ho2020denoising` (the ε loss, their eq. 14); v of
    :cite:t:`salimans2022progressive`; min-SNR-γ of :cite:t:`hang2023efficient`. Equivalent:
    targets of diffusers' ``DDPMScheduler.add_noise`` / ``get_velocity``, weights of
    ``diffusers.training_utils.compute_snr`` as used in its example training scripts.
    """
    V.check_reduction(reduction)
    V.check_choice("parameterization", parameterization, PARAMETERIZATIONS)
    if min_snr_gamma is not None:
        V.check_real("min_snr_gamma", min_snr_gamma)
        V.check_positive("min_snr_gamma", min_snr_gamma)
    _check_batched("prediction", prediction)
    _check_like("prediction", prediction, "x0", x0)
    _check_like("prediction", prediction, "noise", noise)
    V.check_floating("alpha_bar", alpha_bar)
    V.check_shape("alpha_bar", alpha_bar, prediction.shape[:1], "[N]")
    V.check_probabilities("alpha_bar", alpha_bar)
    alpha_bar = alpha_bar.detach()
    if parameterization == "eps":
        target = noise
    elif parameterization == "x0":
        target = x0
    else:
        shape = (-1, *([1] * (prediction.dim() - 1)))
        a = alpha_bar.to(prediction.dtype).view(shape)
        target = a.sqrt() * noise - (1.0 - a).sqrt() * x0
    weight = None
    if min_snr_gamma is not None:
        weight = _min_snr_weight(alpha_bar, float(min_snr_gamma), parameterization).to(prediction.dtype)
    return _row_mse(prediction, target, weight, reduction)


@register(
    family="generative",
    summary="Conditional flow matching with straight paths: per-example mean of (v(x_t, t) - (x1 - x0))².",
    cite="lipman2023flow",
    chapter="generative/diffusion",
    reference=None,
)
def flow_matching_loss(
    velocity: torch.Tensor, x0: torch.Tensor, x1: torch.Tensor, *, reduction: str = "mean"
) -> torch.Tensor:
    r"""Conditional flow-matching loss on straight (optimal-transport) paths.

    The model saw :math:`x_t = (1 - t)\, x_0 + t\, x_1` (:math:`x_0` noise, :math:`x_1` data)
    and predicted a velocity; the path's velocity is the constant :math:`x_1 - x_0`:

    .. math::
        \ell = \operatorname{mean}_{\text{features}} \bigl(v_\theta(x_t, t) - (x_1 - x_0)\bigr)^2

    Args:
        velocity: the model's predicted velocity, ``[N, d1, ...]``.
        x0: the path's start (noise), the shape of ``velocity``.
        x1: the path's end (data), the shape of ``velocity``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[N]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`lipman2023flow` (σ_min = 0); rectified flow of :cite:t:`liu2023flow`.
    """
    V.check_reduction(reduction)
    _check_batched("velocity", velocity)
    _check_like("velocity", velocity, "x0", x0)
    _check_like("velocity", velocity, "x1", x1)
    return _row_mse(velocity, x1 - x0, None, reduction)
