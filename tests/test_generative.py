"""Generative models (issue 14): the libraries' conventions, the hard cases and the errors.

- ``gaussian_kl_loss`` against ``torch.distributions.kl_divergence``; ``logvar`` of +-30 in
  float32 finite (value and gradient) and close to float64;
- ``diffusion_loss`` against diffusers 0.42.1: ``DDPMScheduler.add_noise`` (the model's
  input, so the convention of x_t), ``DDPMScheduler.get_velocity`` (the v target) and the
  min-SNR-gamma weights of diffusers' example training scripts, e.g.
  ``examples/text_to_image/train_text_to_image.py``::

      snr = compute_snr(noise_scheduler, timesteps)
      mse_loss_weights = torch.stack([snr, args.snr_gamma * torch.ones_like(timesteps)], dim=1).min(dim=1)[0]
      if noise_scheduler.config.prediction_type == "epsilon":
          mse_loss_weights = mse_loss_weights / snr
      elif noise_scheduler.config.prediction_type == "v_prediction":
          mse_loss_weights = mse_loss_weights / (snr + 1)

  (``compute_snr`` is in ``diffusers/training_utils.py``: ``(sqrt(ac) / sqrt(1 - ac)) ** 2``;
  for ``"sample"``, our ``"x0"``, the scripts keep ``min(snr, gamma)``); alpha_bar at 0 and
  1: diffusers' ratio is 0/0 there, ours is the finite limit (decided and documented);
- the penalties: a hand check that their gradient reaches the critic's parameters
  (linear and quadratic critics, closed forms), WGAN-GP against the usual autograd recipe
  with the same epsilon, ``torch.no_grad()`` callers;
- the GAN losses: saturation of the minimax generator loss, the BCE forms, every kind;
- every documented error; hypothesis properties.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.distributions import Normal, kl_divergence

import losslib

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
PROPERTY = settings(max_examples=25, deadline=None, derandomize=True)
KINDS = ("minimax", "nonsaturating", "hinge", "wasserstein", "least_squares")


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def randn(*shape, seed=0, dtype=torch.float64):
    return torch.randn(*shape, generator=gen(seed), dtype=dtype)


# ------------------------------------------------------------------------ Gaussian KL, VAE


@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (7, 1)])
def test_gaussian_kl_equals_torch_distributions(shape):
    mu, logvar = randn(*shape, seed=1), randn(*shape, seed=2)
    want = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(-1)
    got = losslib.gaussian_kl_loss(mu, logvar, reduction="none")
    assert got.shape == shape[:-1]
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("value", [-30.0, 30.0])
def test_gaussian_kl_logvar_30_float32_finite(value):
    mu = torch.randn(4, 3, generator=gen(3))
    logvar = torch.full((4, 3), value, requires_grad=True)
    loss = losslib.gaussian_kl_loss(mu, logvar, reduction="sum")
    (grad,) = torch.autograd.grad(loss, logvar)
    assert torch.isfinite(loss) and torch.isfinite(grad).all()
    want = losslib.gaussian_kl_loss(mu.double(), logvar.detach().double(), reduction="sum")
    torch.testing.assert_close(loss.double(), want, rtol=1e-6, atol=0)
    # d/dlogvar of (e^l - 1 - l)/2 is (e^l - 1)/2
    torch.testing.assert_close(grad.double(), 0.5 * torch.expm1(logvar.detach().double()), rtol=1e-6, atol=1e-6)


def test_gaussian_kl_is_accurate_near_logvar_zero():
    # e^l - 1 - l = l^2/2 + l^3/6 + ...: expm1 avoids the cancellation of exp(l) - 1 - l
    logvar = torch.full((1, 1), 1e-5, dtype=torch.float64)
    got = losslib.gaussian_kl_loss(torch.zeros(1, 1, dtype=torch.float64), logvar)
    series = 0.5 * (1e-10 / 2 + 1e-15 / 6 + 1e-20 / 24)
    torch.testing.assert_close(got, torch.tensor(series, dtype=torch.float64), rtol=1e-9, atol=0)


def test_vae_loss_terms():
    recon, target = randn(4, 2, 3, seed=1), torch.rand(4, 2, 3, generator=gen(2), dtype=torch.float64)
    mu, logvar = randn(4, 2, seed=3), randn(4, 2, seed=4)
    kl = losslib.gaussian_kl_loss(mu, logvar, reduction="none")
    bce = F.binary_cross_entropy_with_logits(recon, target, reduction="none").sum((1, 2))
    got = losslib.vae_loss(recon, target, mu, logvar, beta=4.0, reduction="none")
    torch.testing.assert_close(got, bce + 4.0 * kl)
    gauss = losslib.vae_loss(recon, target, mu, logvar, likelihood="gaussian", beta=0.0, reduction="none")
    torch.testing.assert_close(gauss, 0.5 * ((target - recon) ** 2).sum((1, 2)))


def test_vae_loss_is_an_upper_bound_on_the_exact_nll_of_a_linear_gaussian_model():
    # x = w z + noise, z ~ N(0, 1), noise ~ N(0, I): p(x) = N(0, w w^T + I); the exact posterior
    # q(z|x) = N(m, s^2) makes the ELBO tight: E_q[-log p(x|z)] + KL = -log p(x)
    torch.manual_seed(0)
    w = torch.tensor([[1.5], [-0.5]], dtype=torch.float64)
    x = torch.tensor([[0.7, -1.2]], dtype=torch.float64)
    s2 = 1.0 / (1.0 + float(w.T @ w))
    m = s2 * (x @ w)
    z = m + s2**0.5 * torch.randn(200_000, 1, dtype=torch.float64)
    recon = z @ w.T
    loss = losslib.vae_loss(
        recon,
        x.expand_as(recon),
        m.expand(200_000, 1),
        torch.full((200_000, 1), torch.log(torch.tensor(s2))),
        likelihood="gaussian",
    )
    const = 0.5 * 2 * torch.log(torch.tensor(2 * torch.pi, dtype=torch.float64))  # dropped by the loss
    exact = -torch.distributions.MultivariateNormal(
        torch.zeros(2, dtype=torch.float64), w @ w.T + torch.eye(2, dtype=torch.float64)
    ).log_prob(x)
    torch.testing.assert_close(loss + const, exact[0], rtol=2e-3, atol=0)


# ------------------------------------------------------------------------ GAN losses


def test_discriminator_gan_kinds_are_binary_cross_entropy():
    real, fake = randn(8, seed=1) * 5, randn(8, seed=2) * 5
    want = F.binary_cross_entropy_with_logits(real, torch.ones_like(real), reduction="none") + (
        F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake), reduction="none")
    )
    for kind in ("minimax", "nonsaturating"):
        torch.testing.assert_close(losslib.gan_discriminator_loss(real, fake, kind=kind, reduction="none"), want)


def test_generator_losses_match_their_log_forms():
    fake = randn(8, seed=3) * 3
    p = torch.sigmoid(fake)
    torch.testing.assert_close(losslib.gan_generator_loss(fake, kind="minimax", reduction="none"), torch.log1p(-p))
    torch.testing.assert_close(losslib.gan_generator_loss(fake, kind="nonsaturating", reduction="none"), -torch.log(p))


def test_minimax_generator_loss_saturates_and_nonsaturating_does_not():
    d = torch.tensor([-10.0, 0.0, 10.0], dtype=torch.float64, requires_grad=True)
    (g_mm,) = torch.autograd.grad(losslib.gan_generator_loss(d, kind="minimax", reduction="sum"), d)
    (g_ns,) = torch.autograd.grad(losslib.gan_generator_loss(d, kind="nonsaturating", reduction="sum"), d)
    torch.testing.assert_close(g_mm, -torch.sigmoid(d.detach()))
    torch.testing.assert_close(g_ns, torch.sigmoid(d.detach()) - 1)
    assert abs(g_mm[0]) < 1e-4 < 0.99 < abs(g_ns[0])  # fakes rejected: minimax has no gradient


@pytest.mark.parametrize("kind", KINDS)
def test_gan_losses_stable_at_logits_1e4_float32(kind):
    logits = torch.tensor([-1e4, 1e4], requires_grad=True)
    for loss in (
        losslib.gan_discriminator_loss(logits, logits.flip(0), kind=kind),
        losslib.gan_generator_loss(logits, kind=kind),
    ):
        (grad,) = torch.autograd.grad(loss, logits)
        assert torch.isfinite(loss) and torch.isfinite(grad).all()


@pytest.mark.parametrize("fn", [losslib.gan_discriminator_loss, losslib.gan_generator_loss])
def test_unknown_gan_kind_raises(fn):
    args = (torch.zeros(3), torch.zeros(3)) if fn is losslib.gan_discriminator_loss else (torch.zeros(3),)
    with pytest.raises(ValueError, match="kind must be one of"):
        fn(*args, kind="relativistic")


def test_real_and_fake_of_different_shapes_raise():
    with pytest.raises(ValueError, match="fake_logits must have the shape of real_logits"):
        losslib.gan_discriminator_loss(torch.zeros(4, 1), torch.zeros(4))
    critic = torch.nn.Linear(3, 1).double()
    with pytest.raises(ValueError, match="fake must have the shape of real"):
        losslib.gradient_penalty(critic, randn(4, 3), randn(5, 3))


# ------------------------------------------------------------------------ penalties


def _linear_critic(w):
    critic = torch.nn.Linear(len(w), 1).double()
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([w], dtype=torch.float64))
        critic.bias.fill_(0.3)
    return critic


def test_gradient_penalty_gradient_reaches_the_critic_parameters():
    # linear critic f(x) = w.x + b: grad_x f = w at every x, so GP = lambda (|w| - 1)^2 and
    # d GP / d w = 2 lambda (|w| - 1) w / |w|, d GP / d b = 0
    critic = _linear_critic([1.2, -0.4, 2.0])
    gp = losslib.gradient_penalty(critic, randn(6, 3, seed=1), randn(6, 3, seed=2), weight=10.0, generator=gen(0))
    w = critic.weight.detach()[0]
    norm = w.norm()
    torch.testing.assert_close(gp, 10.0 * (norm - 1) ** 2)
    gp.backward()
    torch.testing.assert_close(critic.weight.grad[0], 2 * 10.0 * (norm - 1) * w / norm)
    assert critic.bias.grad is None or torch.all(critic.bias.grad == 0)


def test_r1_penalty_gradient_reaches_the_critic_parameters():
    # quadratic critic f(x) = a/2 |x|^2: grad_x f = a x, R1 = gamma/2 a^2 mean |x|^2,
    # d R1 / d a = gamma a mean |x|^2
    a = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    real = randn(5, 4, seed=3)

    def critic(x):
        return 0.5 * a * (x**2).sum(1)

    r1 = losslib.r1_penalty(critic, real, gamma=6.0)
    mean_sq = (real**2).sum(1).mean()
    torch.testing.assert_close(r1, 0.5 * 6.0 * a.detach() ** 2 * mean_sq)
    r1.backward()
    torch.testing.assert_close(a.grad, 6.0 * a.detach() * mean_sq)
    # and a linear critic: R1 = gamma/2 |w|^2, d/dw = gamma w
    lin = _linear_critic([0.5, -1.0, 2.0])
    losslib.r1_penalty(lin, randn(4, 3, seed=4), gamma=2.0).backward()
    torch.testing.assert_close(lin.weight.grad, 2.0 * lin.weight.detach())


def test_gradient_penalty_equals_the_usual_recipe_with_the_same_epsilon():
    torch.manual_seed(0)
    critic = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()
    real, fake = randn(16, 2, seed=5), randn(16, 2, seed=6)
    got = losslib.gradient_penalty(critic, real, fake, weight=10.0, generator=gen(7))
    eps = torch.rand(16, generator=gen(7), dtype=torch.float32).double().view(16, 1)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    want = 10.0 * ((g.norm(dim=1) - 1) ** 2).mean()
    torch.testing.assert_close(got, want)
    # the parameters' gradients agree too (the penalty is in the graph)
    # (the last bias does not move the input gradient: it gets none)
    got_grads = torch.autograd.grad(got, list(critic.parameters()), allow_unused=True)
    want_grads = torch.autograd.grad(want, list(critic.parameters()), allow_unused=True)
    assert got_grads[-1] is None and want_grads[-1] is None
    for a, b in zip(got_grads[:-1], want_grads[:-1], strict=True):
        torch.testing.assert_close(a, b)


def test_penalties_work_inside_no_grad_callers_and_images():
    critic = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 1))
    real, fake = torch.randn(3, 1, 3, 4), torch.randn(3, 1, 3, 4)
    with torch.no_grad():
        gp = losslib.gradient_penalty(critic, real, fake, generator=gen(0))
        r1 = losslib.r1_penalty(critic, real)
    assert torch.isfinite(gp) and torch.isfinite(r1)


def test_gradient_penalty_is_finite_where_the_critic_is_flat():
    # tanh saturates at 1e4 in float32: the input gradient is exactly 0, the norm's kink
    x = torch.full((4, 2), 1e4, requires_grad=True)
    scale = torch.tensor(1.0, requires_grad=True)

    def flat(v):
        return (scale * torch.tanh(v)).sum(1)

    gp = losslib.gradient_penalty(flat, x, x.detach() + 1, weight=1.0, generator=gen(0))
    grads = torch.autograd.grad(gp, [x, scale])
    torch.testing.assert_close(gp, torch.tensor(1.0))
    assert all(torch.isfinite(g).all() for g in grads)


def test_gradient_penalty_same_seed_same_value_in_every_dtype():
    critic64 = _linear_critic([0.3, 0.9])
    real, fake = randn(5, 2, seed=1), randn(5, 2, seed=2)
    a = losslib.gradient_penalty(lambda x: critic64(x.double()).to(x.dtype), real, fake, generator=gen(3))
    b = losslib.gradient_penalty(
        lambda x: critic64(x.double()).to(x.dtype), real.float(), fake.float(), generator=gen(3)
    )
    torch.testing.assert_close(a.float(), b, rtol=1e-5, atol=1e-6)


def test_penalty_errors():
    real = randn(4, 3)
    critic = _linear_critic([1.0, 0.0, 0.0])
    with pytest.raises(TypeError, match="critic must be callable"):
        losslib.gradient_penalty(real, real, real)
    with pytest.raises(TypeError, match="critic must be callable"):
        losslib.r1_penalty("critic", real)
    with pytest.raises(TypeError, match="real must be a floating-point tensor"):
        losslib.gradient_penalty(critic, real.long(), real)
    with pytest.raises(TypeError, match="fake must be a floating-point tensor"):
        losslib.gradient_penalty(critic, real, real.long())
    with pytest.raises(ValueError, match=r"critic\(x\) must have shape \[N\] or \[N, 1\]"):
        losslib.r1_penalty(lambda x: x, real)
    with pytest.raises(ValueError, match="weight must be non-negative"):
        losslib.gradient_penalty(critic, real, real, weight=-1.0)
    with pytest.raises(ValueError, match="gamma must be non-negative"):
        losslib.r1_penalty(critic, real, gamma=-1.0)
    with pytest.raises(ValueError, match=r"real must have shape \[N, d1, ...\]"):
        losslib.r1_penalty(critic, real[0])


# ------------------------------------------------------------------------ diffusion (diffusers)


@pytest.fixture(scope="module")
def ddpm():
    diffusers = pytest.importorskip("diffusers")
    from diffusers.training_utils import compute_snr

    return diffusers.DDPMScheduler(num_train_timesteps=1000), compute_snr


def _scripts_min_snr_weight(scheduler, compute_snr, timesteps, gamma, prediction_type):
    """The weighting of diffusers' example training scripts, verbatim in structure."""
    snr = compute_snr(scheduler, timesteps)
    w = torch.stack([snr, gamma * torch.ones_like(timesteps)], dim=1).min(dim=1)[0]
    if prediction_type == "epsilon":
        w = w / snr
    elif prediction_type == "v_prediction":
        w = w / (snr + 1)
    return w


@pytest.mark.parametrize("parameterization", ["eps", "x0", "v"])
@pytest.mark.parametrize("gamma", [None, 5.0])
def test_diffusion_loss_matches_diffusers(ddpm, parameterization, gamma):
    scheduler, compute_snr = ddpm
    g = gen(11)
    x0 = torch.randn(16, 3, 4, 4, generator=g)
    noise = torch.randn(16, 3, 4, 4, generator=g)
    pred = torch.randn(16, 3, 4, 4, generator=g)
    t = torch.randint(0, 1000, (16,), generator=g)
    alpha_bar = scheduler.alphas_cumprod[t]
    # the convention of x_t in the docstring is diffusers' add_noise
    x_t = scheduler.add_noise(x0, noise, t)
    a = alpha_bar.view(-1, 1, 1, 1)
    torch.testing.assert_close(x_t, a.sqrt() * x0 + (1 - a).sqrt() * noise, rtol=1e-5, atol=1e-6)
    target = {"eps": noise, "x0": x0, "v": scheduler.get_velocity(x0, noise, t)}[parameterization]
    want = F.mse_loss(pred, target, reduction="none").mean((1, 2, 3))
    if gamma is not None:
        kind = {"eps": "epsilon", "x0": "sample", "v": "v_prediction"}[parameterization]
        want = want * _scripts_min_snr_weight(scheduler, compute_snr, t, gamma, kind)
    got = losslib.diffusion_loss(
        pred, x0, noise, alpha_bar, parameterization=parameterization, min_snr_gamma=gamma, reduction="none"
    )
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("parameterization", ["eps", "x0", "v"])
def test_min_snr_weights_are_finite_limits_at_alpha_bar_0_and_1(parameterization):
    gamma = 5.0
    x0, noise = randn(2, 3, seed=1), randn(2, 3, seed=2)
    pred = torch.zeros(2, 3, dtype=torch.float64)
    alpha_bar = torch.tensor([0.0, 1.0], dtype=torch.float64)
    weighted = losslib.diffusion_loss(
        pred, x0, noise, alpha_bar, parameterization=parameterization, min_snr_gamma=gamma, reduction="none"
    )
    plain = losslib.diffusion_loss(pred, x0, noise, alpha_bar, parameterization=parameterization, reduction="none")
    assert torch.isfinite(weighted).all() and torch.isfinite(plain).all()
    limits = {"eps": (1.0, 0.0), "v": (0.0, 0.0), "x0": (0.0, gamma)}[parameterization]
    torch.testing.assert_close(weighted, plain * torch.tensor(limits, dtype=torch.float64))
    # the limits are those of the interior: alpha_bar = 1e-9 and 1 - 1e-9
    near = torch.tensor([1e-9, 1 - 1e-9], dtype=torch.float64)
    w_near = losslib.diffusion_loss(
        pred, x0, noise, near, parameterization=parameterization, min_snr_gamma=gamma, reduction="none"
    ) / losslib.diffusion_loss(pred, x0, noise, near, parameterization=parameterization, reduction="none")
    torch.testing.assert_close(w_near, torch.tensor(limits, dtype=torch.float64), rtol=0, atol=1e-7)


def test_diffusers_ratio_is_nan_at_alpha_bar_0_where_ours_is_the_limit(ddpm):
    # why the forms differ: with SNR = 0 the scripts' min(snr, gamma) / snr is 0/0
    snr = torch.tensor([0.0])
    assert torch.isnan(torch.minimum(snr, torch.tensor([5.0])) / snr).all()


def test_diffusion_loss_float32_alpha_bar_ends_have_finite_gradient():
    pred = torch.randn(2, 4, requires_grad=True)
    loss = losslib.diffusion_loss(
        pred, torch.randn(2, 4), torch.randn(2, 4), torch.tensor([0.0, 1.0]), parameterization="v", min_snr_gamma=5.0
    )
    (grad,) = torch.autograd.grad(loss, pred)
    assert torch.isfinite(loss) and torch.isfinite(grad).all()


def test_diffusion_errors():
    x = randn(3, 2)
    ab = torch.rand(3, dtype=torch.float64)
    with pytest.raises(ValueError, match="parameterization must be one of"):
        losslib.diffusion_loss(x, x, x, ab, parameterization="score")
    with pytest.raises(ValueError, match="min_snr_gamma must be positive"):
        losslib.diffusion_loss(x, x, x, ab, min_snr_gamma=0.0)
    with pytest.raises(ValueError, match="alpha_bar must hold probabilities"):
        losslib.diffusion_loss(x, x, x, ab + 1.5)
    with pytest.raises(ValueError, match=r"alpha_bar must have shape \[N\]"):
        losslib.diffusion_loss(x, x, x, ab[:2])
    with pytest.raises(TypeError, match="alpha_bar must be a floating-point tensor"):
        losslib.diffusion_loss(x, x, x, torch.tensor([0, 1, 0]))
    with pytest.raises(ValueError, match="noise must have the shape of prediction"):
        losslib.diffusion_loss(x, x, x[:, :1], ab)
    with pytest.raises(ValueError, match=r"prediction must have shape \[N, d1, ...\]"):
        losslib.diffusion_loss(x[:, 0], x[:, 0], x[:, 0], ab)


# ------------------------------------------------------------------------ flow matching


def test_flow_matching_zero_at_the_straight_velocity():
    x0, x1 = randn(5, 2, seed=1), randn(5, 2, seed=2)
    assert torch.all(losslib.flow_matching_loss(x1 - x0, x0, x1, reduction="none") == 0)
    with pytest.raises(ValueError, match="x1 must have the shape of velocity"):
        losslib.flow_matching_loss(x0, x0, x1[:, :1])


# ------------------------------------------------------------------------ VAE errors


def test_vae_errors():
    recon, target = randn(4, 6), torch.rand(4, 6, dtype=torch.float64)
    mu = logvar = randn(4, 2)
    with pytest.raises(ValueError, match="likelihood must be one of"):
        losslib.vae_loss(recon, target, mu, logvar, likelihood="laplace")
    with pytest.raises(ValueError, match="beta must be non-negative"):
        losslib.vae_loss(recon, target, mu, logvar, beta=-0.1)
    with pytest.raises(ValueError, match="target must hold probabilities"):
        losslib.vae_loss(recon, target + 2, mu, logvar)
    with pytest.raises(ValueError, match=r"mu must have 4 rows"):
        losslib.vae_loss(recon, target, mu[:3], logvar[:3])
    with pytest.raises(ValueError, match=r"mu must have shape \[N, D\]"):
        losslib.vae_loss(recon, target, mu[None], logvar[None])
    with pytest.raises(ValueError, match="logvar must have the shape of mu"):
        losslib.gaussian_kl_loss(mu, logvar[:, :1])
    # a Gaussian likelihood takes any real target
    assert torch.isfinite(losslib.vae_loss(recon, target + 2, mu, logvar, likelihood="gaussian"))


# ------------------------------------------------------------------------ properties


@PROPERTY
@given(seed=SEEDS)
def test_kl_nonnegative_and_zero_only_at_the_prior(seed):
    mu, logvar = randn(4, 3, seed=seed), randn(4, 3, seed=seed + 1)
    assert (losslib.gaussian_kl_loss(mu, logvar, reduction="none") > 0).all()
    assert losslib.gaussian_kl_loss(torch.zeros(2, 3), torch.zeros(2, 3)) == 0


@PROPERTY
@given(seed=SEEDS, beta=st.floats(min_value=0.0, max_value=10.0))
def test_vae_loss_is_linear_in_beta(seed, beta):
    recon, target = randn(3, 4, seed=seed), torch.rand(3, 4, generator=gen(seed), dtype=torch.float64)
    mu, logvar = randn(3, 2, seed=seed + 1), randn(3, 2, seed=seed + 2)
    base = losslib.vae_loss(recon, target, mu, logvar, beta=0.0, reduction="none")
    kl = losslib.gaussian_kl_loss(mu, logvar, reduction="none")
    torch.testing.assert_close(
        losslib.vae_loss(recon, target, mu, logvar, beta=beta, reduction="none"), base + beta * kl
    )


@PROPERTY
@given(seed=SEEDS)
def test_hinge_discriminator_is_zero_beyond_the_margins(seed):
    real = 1 + randn(6, seed=seed).abs()
    fake = -1 - randn(6, seed=seed + 1).abs()
    assert torch.all(losslib.gan_discriminator_loss(real, fake, kind="hinge", reduction="none") == 0)
    assert torch.all(losslib.gan_discriminator_loss(fake, real, kind="hinge", reduction="none") >= 4)


@PROPERTY
@given(seed=SEEDS)
def test_large_gamma_min_snr_eps_is_unweighted_below_the_top(seed):
    x0, noise, pred = randn(5, 3, seed=seed), randn(5, 3, seed=seed + 1), randn(5, 3, seed=seed + 2)
    ab = torch.rand(5, generator=gen(seed), dtype=torch.float64) * 0.999
    torch.testing.assert_close(
        losslib.diffusion_loss(pred, x0, noise, ab, min_snr_gamma=1e6, reduction="none"),
        losslib.diffusion_loss(pred, x0, noise, ab, reduction="none"),
    )


@PROPERTY
@given(seed=SEEDS, shift=st.floats(min_value=-5.0, max_value=5.0))
def test_flow_matching_invariant_to_a_common_shift(seed, shift):
    v, x0, x1 = randn(4, 2, seed=seed), randn(4, 2, seed=seed + 1), randn(4, 2, seed=seed + 2)
    torch.testing.assert_close(
        losslib.flow_matching_loss(v, x0 + shift, x1 + shift), losslib.flow_matching_loss(v, x0, x1)
    )


@PROPERTY
@given(seed=SEEDS)
def test_v_target_is_the_rotation_of_eps_and_x0(seed):
    # v = sqrt(ab) eps - sqrt(1 - ab) x0, and then x0 = sqrt(ab) x_t - sqrt(1 - ab) v: predicting v
    # exactly is predicting x0 exactly (a zero x0 loss through the conversion)
    x0, noise = randn(4, 3, seed=seed), randn(4, 3, seed=seed + 1)
    ab = torch.rand(4, generator=gen(seed), dtype=torch.float64).view(-1, 1)
    v = ab.sqrt() * noise - (1 - ab).sqrt() * x0
    x_t = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
    x0_from_v = ab.sqrt() * x_t - (1 - ab).sqrt() * v
    assert losslib.diffusion_loss(v, x0, noise, ab.view(-1), parameterization="v") < 1e-28
    assert losslib.diffusion_loss(x0_from_v, x0, noise, ab.view(-1), parameterization="x0") < 1e-28
