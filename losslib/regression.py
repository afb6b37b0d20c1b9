r"""Regression losses of the residual :math:`e = \hat y - y` (``input - target``).

Conventions (see ``losslib-api.md``): input first, target second, the two of the same
shape (never broadcast), ``reduction`` in ``{"mean", "sum", "none"}`` with ``"none"``
elementwise.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from . import _validation as V
from .registry import register

__all__ = [
    "l1_loss",
    "mse_loss",
    "rmse_loss",
    "nmae_loss",
    "lp_loss",
    "huber_loss",
    "smooth_l1_loss",
    "asymmetric_huber_loss",
    "log_cosh_loss",
    "mape_loss",
    "msle_loss",
    "poisson_nll_loss",
    "quantile_loss",
]


def _check_pair(input: torch.Tensor, target: torch.Tensor) -> None:
    """``input`` and ``target``: floating point, non-empty, the same shape."""
    V.check_floating("input", input)
    V.check_floating("target", target)
    V.check_nonempty("input", input)
    V.check_same_shape("input", input, "target", target)


@register(
    family="regression",
    summary="Mean absolute error: Laplace negative log-likelihood, estimates the median.",
    cite="hastie2009elements",
    chapter="regression/mae-mse",
    reference="torch.nn.functional.l1_loss",
)
def l1_loss(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    r"""Absolute error (L1 loss; MAE with ``reduction="mean"``).

    .. math::
        \ell = |\hat y - y|

    Args:
        input: predictions :math:`\hat y`, any shape.
        target: targets :math:`y`, the shape of ``input``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (elementwise).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`hastie2009elements`. Equivalent: ``torch.nn.functional.l1_loss``.
    """
    V.check_reduction(reduction)
    _check_pair(input, target)
    return F.l1_loss(input, target, reduction=reduction)


@register(
    family="regression",
    summary="Mean squared error: Gaussian negative log-likelihood, estimates the mean.",
    cite="hastie2009elements",
    chapter="regression/mae-mse",
    reference="torch.nn.functional.mse_loss",
)
def mse_loss(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    r"""Squared error (L2 loss; MSE with ``reduction="mean"``).

    .. math::
        \ell = (\hat y - y)^2

    Args:
        input: predictions :math:`\hat y`, any shape.
        target: targets :math:`y`, the shape of ``input`` (torch would broadcast; losslib
            raises ``ValueError`` instead).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (elementwise).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`hastie2009elements`. Equivalent: ``torch.nn.functional.mse_loss``.
    """
    V.check_reduction(reduction)
    _check_pair(input, target)
    return F.mse_loss(input, target, reduction=reduction)


# --------------------------------------------------------------------- RMSE, NMAE, Lp

_NMAE_NORMS = ("range", "mean", "max")


def _safe_sqrt(x: torch.Tensor) -> torch.Tensor:
    r""":math:`\sqrt{x}` for :math:`x \ge 0` with gradient 0 (not ``inf``) at :math:`x = 0`.

    The inner ``where`` keeps the argument of ``sqrt`` away from 0, so its backward never
    produces ``inf`` (which the chain rule would turn into ``inf * 0 = nan``); the outer
    ``where`` puts the exact value 0 back and sends no gradient through that branch.
    """
    positive = x > 0
    inner = torch.where(positive, x, torch.ones_like(x))
    return torch.where(positive, inner.sqrt(), torch.zeros_like(x))


@register(
    family="regression",
    summary="Root mean squared error: MSE in the units of the target, with a finite gradient at zero error.",
    cite="willmott2005advantages",
    chapter="regression/rmse-nmae",
    reference=None,
)
def rmse_loss(input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    r"""Root mean squared error over all elements.

    .. math::
        \mathrm{RMSE} = \sqrt{\frac{1}{n}\sum_{i=1}^{n} (\hat y_i - y_i)^2}

    The gradient is :math:`e_i / (n\,\mathrm{RMSE})` wherever the RMSE is positive and 0
    (a subgradient) when every residual is 0, where :math:`\sqrt{\cdot}` has an infinite
    slope. When the mean of the squares overflows (residuals beyond about 1e19 in float32),
    the residuals are divided by their largest magnitude (a constant for autograd) before
    squaring, so the RMSE stays finite wherever it is representable.

    Args:
        input: predictions :math:`\hat y`, any shape.
        target: targets :math:`y`, the shape of ``input``.

    Returns:
        The RMSE, a scalar (there is no ``reduction``: the square root is taken after the
        mean over all ``n`` elements).

    Reference: :cite:t:`willmott2005advantages`. Equivalent: ``torch.sqrt(F.mse_loss(input,
    target))`` away from zero error (whose gradient is ``nan`` at zero error).
    """
    _check_pair(input, target)
    mse = F.mse_loss(input, target)  # fused: the fast path
    value = mse.item()  # one scalar read picks the branch
    if value == 0.0:
        return _safe_sqrt(mse)  # gradient 0, not nan, at zero error
    if not math.isinf(value):
        return mse.sqrt()  # also propagates a nan
    e = input - target
    scale = e.detach().abs().amax()
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    return scale * _safe_sqrt((e / scale).square().mean())


@register(
    family="regression",
    summary="Normalised mean absolute error: MAE divided by the range, |mean| or max |.| of the target.",
    cite="hyndman2006another",
    chapter="regression/rmse-nmae",
    reference=None,
)
def nmae_loss(input: torch.Tensor, target: torch.Tensor, *, norm: str | float = "range") -> torch.Tensor:
    r"""Normalised mean absolute error: a unit-free MAE.

    .. math::
        \mathrm{NMAE} = \frac{1}{Z}\,\frac{1}{n}\sum_{i=1}^{n} |\hat y_i - y_i|,
        \qquad Z \in \{\max_i y_i - \min_i y_i,\ |\bar y|,\ \max_i |y_i|,\ \text{a constant}\}

    ``norm="mean"`` divides by the *absolute value* of the mean of the target, so the NMAE
    stays a non-negative magnitude for targets with a negative mean (the sign of the mean
    says nothing about the scale of the errors).  The normaliser is computed from
    ``target`` and is part of the graph (it receives gradient if ``target`` does).

    Args:
        input: predictions :math:`\hat y`, any shape.
        target: targets :math:`y`, the shape of ``input``.
        norm: the normaliser :math:`Z`: ``"range"`` (``max - min`` of the target),
            ``"mean"`` (``|mean|`` of the target), ``"max"`` (``max |target|``) or a
            positive number (e.g. a known full-scale value).

    Returns:
        The NMAE, a scalar (there is no ``reduction``: the normaliser is a property of
        the whole target).

    Raises:
        ValueError: an unknown ``norm`` string, a non-positive number, or a normaliser
            computed from the target that is zero (a constant target for ``"range"``, a
            zero mean for ``"mean"``, an all-zero target for ``"max"``).

    Reference: :cite:t:`hyndman2006another` (scale-free error measures). Equivalent: none in
    torch; ``F.l1_loss(input, target) / Z``.
    """
    _check_pair(input, target)
    if isinstance(norm, str):
        V.check_choice("norm", norm, _NMAE_NORMS)
        if norm == "range":
            normaliser = target.amax() - target.amin()
            what = "max(target) - min(target): the target is constant"
        elif norm == "mean":
            normaliser = target.mean().abs()
            what = "|mean(target)|: the target has mean zero"
        else:
            normaliser = target.abs().amax()
            what = "max |target|: the target is all zeros"
        V.check_nonzero_scalar(f"the normaliser of norm={norm!r}", normaliser, what)
    else:
        V.check_real("norm", norm)
        V.check_positive("norm", float(norm))
        normaliser = float(norm)
    return F.l1_loss(input, target) / normaliser


@register(
    family="regression",
    summary="Lp (Minkowski) loss |e|^p: p = 1 is L1 (median), p = 2 is MSE (mean).",
    cite="bishop2006prml",
    chapter="regression/mae-mse",
    reference=None,
)
def lp_loss(input: torch.Tensor, target: torch.Tensor, *, p: float = 2.0, reduction: str = "mean") -> torch.Tensor:
    r"""Lp (Minkowski) loss, elementwise.

    .. math::
        \ell = |\hat y - y|^p, \qquad p > 0

    ``p = 1`` calls ``F.l1_loss`` and ``p = 2`` calls ``F.mse_loss``. The derivative
    :math:`p\,|e|^{p-1}\operatorname{sign}(e)` is finite everywhere for :math:`p \ge 1`
    (0 at :math:`e = 0` for :math:`p > 1`, the subgradient 0 for :math:`p = 1`). For
    :math:`p < 1` the slope is unbounded as :math:`e \to 0`; losslib returns the gradient
    0 at exactly :math:`e = 0` (where the mathematical derivative does not exist) and the
    true, possibly huge, slope elsewhere. Note this is the p-th *power* of the p-norm of
    the residuals (summed or averaged), not the p-norm itself.

    Args:
        input: predictions :math:`\hat y`, any shape.
        target: targets :math:`y`, the shape of ``input``.
        p: the exponent, a real number ``> 0``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (elementwise).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`bishop2006prml` (Section 1.5.5, the Minkowski loss).
    Equivalent: ``F.l1_loss`` (``p=1``), ``F.mse_loss`` (``p=2``).
    """
    V.check_reduction(reduction)
    V.check_real("p", p)
    V.check_positive("p", float(p))
    _check_pair(input, target)
    p = float(p)
    if p == 1.0:
        return F.l1_loss(input, target, reduction=reduction)
    if p == 2.0:
        return F.mse_loss(input, target, reduction=reduction)
    a = (input - target).abs()
    if p > 1.0:
        loss = a.pow(p)
    else:
        nonzero = a > 0
        loss = torch.where(nonzero, torch.where(nonzero, a, torch.ones_like(a)).pow(p), torch.zeros_like(a))
    return V.reduce(loss, reduction)


# ------------------------------------------------------------ robust and task-specific
# (huber, smooth L1, asymmetric Huber, log-cosh, MAPE, MSLE, Poisson NLL, quantile)


_LOG_2 = 0.6931471805599453  # log 2


def _check_threshold(name: str, value: float) -> None:
    """A threshold hyper-parameter (``delta``, ``beta``, ``alpha``): a positive real."""
    V.check_real(name, value)
    V.check_positive(name, value)


@register(
    family="regression",
    summary="Huber loss: quadratic for |e| <= delta, linear beyond; robust M-estimation.",
    cite="huber1964robust",
    chapter="regression/huber",
    reference="torch.nn.functional.huber_loss",
)
def huber_loss(
    input: torch.Tensor, target: torch.Tensor, *, delta: float = 1.0, reduction: str = "mean"
) -> torch.Tensor:
    r"""Huber loss of the residual :math:`e = \hat y - y`.

    .. math::
        \ell_\delta(e) = \begin{cases} \tfrac12 e^2 & |e| \le \delta \\
        \delta\,(|e| - \tfrac12 \delta) & |e| > \delta \end{cases}

    Continuous with a continuous derivative :math:`\operatorname{clip}(e, -\delta, \delta)`.

    Args:
        input: predictions :math:`\hat y`, any shape.
        target: targets :math:`y`, the shape of ``input``.
        delta: the threshold :math:`\delta > 0` between the quadratic and the linear part
            (``ValueError`` otherwise).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (elementwise).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`huber1964robust`. Equivalent: ``torch.nn.functional.huber_loss``.
    """
    V.check_reduction(reduction)
    _check_threshold("delta", delta)
    _check_pair(input, target)
    return F.huber_loss(input, target, reduction=reduction, delta=float(delta))


@register(
    family="regression",
    summary="Smooth L1 loss of Fast R-CNN: Huber divided by beta, slope 1 in the tails.",
    cite="girshick2015fast",
    chapter="regression/huber",
    reference="torch.nn.functional.smooth_l1_loss",
)
def smooth_l1_loss(
    input: torch.Tensor, target: torch.Tensor, *, beta: float = 1.0, reduction: str = "mean"
) -> torch.Tensor:
    r"""Smooth L1 loss (Fast R-CNN): the Huber loss divided by its threshold.

    .. math::
        \ell_\beta(e) = \begin{cases} \dfrac{e^2}{2\beta} & |e| < \beta \\
        |e| - \tfrac12 \beta & |e| \ge \beta \end{cases}
        \;=\; \frac{1}{\beta}\,\mathrm{huber}_\beta(e)

    ``beta = 0`` (which torch accepts and treats as the L1 loss) raises ``ValueError``
    here, as every non-positive threshold does: use :func:`l1_loss` for the limit.

    Args:
        input: predictions :math:`\hat y`, any shape.
        target: targets :math:`y`, the shape of ``input``.
        beta: the threshold :math:`\beta > 0` (``ValueError`` otherwise).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (elementwise).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`girshick2015fast`. Equivalent: ``torch.nn.functional.smooth_l1_loss``.
    """
    V.check_reduction(reduction)
    _check_threshold("beta", beta)
    _check_pair(input, target)
    return F.smooth_l1_loss(input, target, reduction=reduction, beta=float(beta))


@register(
    family="regression",
    summary="Asymmetric Huber: Huber for over-prediction, alpha times Huber for under-prediction.",
    cite="huber1964robust",
    chapter="regression/huber",
    reference=None,
)
def asymmetric_huber_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    delta: float = 1.0,
    alpha: float = 2.0,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Asymmetric Huber loss: the Huber loss scaled by ``alpha`` for negative residuals.

    .. math::
        \ell_{\delta,\alpha}(e) = \begin{cases} \mathrm{huber}_\delta(e) & e \ge 0 \\
        \alpha\,\mathrm{huber}_\delta(e) & e < 0 \end{cases}, \qquad e = \hat y - y

    Continuous and continuously differentiable (both one-sided derivatives vanish at
    :math:`e = 0`, and scaling keeps the Huber loss :math:`C^1` at :math:`\pm\delta`);
    ``alpha = 1`` is :func:`huber_loss`. ``alpha > 1`` makes under-prediction
    (:math:`\hat y < y`) dearer.

    Args:
        input: predictions :math:`\hat y`, any shape.
        target: targets :math:`y`, the shape of ``input``.
        delta: the Huber threshold :math:`\delta > 0` (``ValueError`` otherwise).
        alpha: the weight :math:`\alpha > 0` of negative residuals (``ValueError`` otherwise).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (elementwise).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: the Huber loss of :cite:t:`huber1964robust` with a sign-dependent weight;
    no equivalent in torch (compared with the formula).
    """
    V.check_reduction(reduction)
    _check_threshold("delta", delta)
    _check_threshold("alpha", alpha)
    _check_pair(input, target)
    huber = F.huber_loss(input, target, reduction="none", delta=float(delta))
    loss = torch.where(input < target, float(alpha) * huber, huber)
    return V.reduce(loss, reduction)


@register(
    family="regression",
    summary="Log-cosh loss: e^2/2 near zero, |e| - log 2 in the tails, smooth everywhere.",
    cite="saleh2022statistical",
    chapter="regression/more-regression",
    reference=None,
)
def log_cosh_loss(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    r"""Log-cosh loss of the residual, computed without overflow.

    .. math::
        \ell(e) = \log\cosh(e) = |e| + \log\left(1 + e^{-2|e|}\right) - \log 2

    The right-hand form (a softplus of :math:`-2|e|`) never evaluates :math:`\cosh`,
    which overflows float32 for :math:`|e| > 89`; it is finite, with gradient
    :math:`\tanh(e)`, for residuals of any size. Clamped at 0 against rounding.

    Args:
        input: predictions :math:`\hat y`, any shape.
        target: targets :math:`y`, the shape of ``input``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (elementwise).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`saleh2022statistical`. No torch equivalent (compared with the formula).
    """
    V.check_reduction(reduction)
    _check_pair(input, target)
    a = (input - target).abs()
    loss = (a + F.softplus(-2.0 * a) - _LOG_2).clamp_min(0.0)
    return V.reduce(loss, reduction)


@register(
    family="regression",
    summary="Absolute percentage error |e| / |y| (a fraction): scale-free, biased low.",
    cite="hyndman2006another",
    chapter="regression/more-regression",
    reference=None,
)
def mape_loss(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    r"""Absolute percentage error, as a fraction (MAPE with ``reduction="mean"``).

    .. math::
        \ell = \frac{|\hat y - y|}{\max(|y|, \varepsilon)}, \qquad
        \varepsilon = \texttt{torch.finfo(dtype).eps}

    Not multiplied by 100. A zero target divides by :math:`\varepsilon`, so the loss is
    finite but huge there: MAPE is meant for targets far from zero.

    Args:
        input: predictions :math:`\hat y`, any shape.
        target: targets :math:`y`, the shape of ``input``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (elementwise).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`hyndman2006another`. Equivalent (``"mean"``):
    ``sklearn.metrics.mean_absolute_percentage_error``, which uses float64's eps.
    """
    V.check_reduction(reduction)
    _check_pair(input, target)
    eps = torch.finfo(input.dtype).eps
    loss = (input - target).abs() / target.abs().clamp_min(eps)
    return V.reduce(loss, reduction)


@register(
    family="regression",
    summary="Squared logarithmic error (log1p): relative errors of non-negative targets.",
    cite="tofallis2015better",
    chapter="regression/more-regression",
    reference=None,
)
def msle_loss(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    r"""Squared logarithmic error (MSLE with ``reduction="mean"``).

    .. math::
        \ell = \left(\log(1 + \hat y) - \log(1 + y)\right)^2

    Values :math:`\le -1` in ``input`` or ``target`` raise ``ValueError`` (a value check,
    switched off with :func:`losslib.value_checks`; then they give NaN).

    Args:
        input: predictions :math:`\hat y > -1`, any shape.
        target: targets :math:`y > -1`, the shape of ``input``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (elementwise).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`tofallis2015better` (the log accuracy ratio). Equivalent
    (``"mean"``): ``sklearn.metrics.mean_squared_log_error``.
    """
    V.check_reduction(reduction)
    _check_pair(input, target)
    V.check_greater_than("input", input, -1.0)
    V.check_greater_than("target", target, -1.0)
    loss = (torch.log1p(input) - torch.log1p(target)) ** 2
    return V.reduce(loss, reduction)


@register(
    family="regression",
    summary="Poisson negative log-likelihood of counts given a (log-)rate.",
    cite="mccullagh1989generalized",
    chapter="regression/more-regression",
    reference="torch.nn.functional.poisson_nll_loss",
)
def poisson_nll_loss(
    input: torch.Tensor,
    target: torch.Tensor,
    *,
    log_input: bool = True,
    full: bool = False,
    eps: float = 1e-8,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Poisson negative log-likelihood of counts :math:`y` given a rate :math:`\lambda`.

    .. math::
        \ell = \lambda - y \log \lambda \;\Big[+\, y\log y - y + \tfrac12 \log(2\pi y)
        \text{ if full and } y > 1\Big]

    With ``log_input=True`` the input is :math:`\log\lambda` and the loss is
    :math:`e^{x} - y\,x`; otherwise the input is :math:`\lambda \ge 0` and
    :math:`\log(\lambda + \varepsilon)` is used. ``full`` adds Stirling's approximation
    of :math:`\log y!`. Without it the loss drops terms constant in :math:`\lambda`, so it
    can be negative.

    Args:
        input: log-rates (``log_input=True``) or rates :math:`\ge 0`, any shape.
        target: counts :math:`y \ge 0` (floating point), the shape of ``input``; negative
            values raise ``ValueError`` (a switchable value check), as do negative rates.
        log_input: whether ``input`` is the log-rate.
        full: add the Stirling term of :math:`\log y!`.
        eps: :math:`\varepsilon \ge 0` added to the rate inside the log when
            ``log_input=False``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (elementwise).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`mccullagh1989generalized`. Equivalent:
    ``torch.nn.functional.poisson_nll_loss``.
    """
    V.check_reduction(reduction)
    V.check_choice("log_input", log_input, (True, False))
    V.check_choice("full", full, (True, False))
    V.check_real("eps", eps)
    V.check_nonnegative("eps", eps)
    _check_pair(input, target)
    V.check_nonnegative_values("target", target)
    if not log_input:
        V.check_nonnegative_values("input", input)
    return F.poisson_nll_loss(
        input, target, log_input=bool(log_input), full=bool(full), eps=float(eps), reduction=reduction
    )


@register(
    family="regression",
    summary="Pinball (quantile) loss: its minimiser is the q-quantile of the target.",
    cite="koenker1978regression",
    chapter="regression/more-regression",
    reference=None,
)
def quantile_loss(
    input: torch.Tensor, target: torch.Tensor, *, q: float = 0.5, reduction: str = "mean"
) -> torch.Tensor:
    r"""Pinball loss of quantile regression.

    .. math::
        \ell_q = \max\left(q\,(y - \hat y),\; (q - 1)\,(y - \hat y)\right), \qquad 0 < q < 1

    Under-prediction costs :math:`q` per unit, over-prediction :math:`1 - q`; the constant
    minimising the mean loss is a :math:`q`-quantile of the targets, and ``q = 0.5``
    is half the absolute error.

    Args:
        input: predictions :math:`\hat y` of the :math:`q`-quantile, any shape.
        target: targets :math:`y`, the shape of ``input``.
        q: the quantile level, in the open interval :math:`(0, 1)` (``ValueError``
            otherwise).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (elementwise).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`koenker1978regression`. No torch equivalent (compared with the
    formula).
    """
    V.check_reduction(reduction)
    V.check_real("q", q)
    V.check_in_interval("q", q, 0.0, 1.0, closed=False)
    _check_pair(input, target)
    r = target - input
    loss = torch.maximum(q * r, (q - 1.0) * r)
    return V.reduce(loss, reduction)
