r"""Classification losses: cross-entropy and its relatives.

Conventions (see ``losslib-api.md``): prediction first, target second, keyword-only
hyper-parameters, ``reduction`` in ``{"mean", "sum", "none"}`` with ``"mean"`` always the
plain mean of the ``"none"`` output, class dimension 1.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import _validation as V
from .registry import register

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "nll_loss",
    "focal_loss",
    "sigmoid_focal_loss",
    "kl_divergence",
    "poly1_loss",
    "poly_loss",
]


def _check_broadcasts_to(name: str, tensor: torch.Tensor, shape: torch.Size, what: str) -> None:
    try:
        ok = torch.broadcast_shapes(tensor.shape, shape) == shape
    except RuntimeError:
        ok = False
    if not ok:
        raise ValueError(
            f"{name} must broadcast to the shape of {what} {tuple(shape)}, got shape {tuple(tensor.shape)}"
        )


@register(
    family="classification",
    summary="Binary cross-entropy on probabilities (Bernoulli negative log-likelihood).",
    cite="bishop2006prml",
    chapter="classification/cross-entropy",
    reference="torch.nn.functional.binary_cross_entropy",
)
def binary_cross_entropy(
    probs: torch.Tensor,
    target: torch.Tensor,
    *,
    weight: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Binary cross-entropy of predicted probabilities.

    .. math::
        \ell = -w\,[\,y \log p + (1 - y) \log(1 - p)\,]

    with each logarithm clamped at :math:`-100` (as torch does), so a confident mistake
    costs at most 100 nats instead of infinity. Prefer
    :func:`binary_cross_entropy_with_logits`, which never needs the clamp.

    Args:
        probs: predicted probabilities :math:`p \in [0, 1]`, any shape.
        target: targets :math:`y \in [0, 1]` (hard or soft labels), the shape of ``probs``.
        weight: optional rescaling weight :math:`w`, broadcastable to ``probs``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (elementwise, the shape of ``probs``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: the Bernoulli likelihood, :cite:t:`bishop2006prml` section 4.3.2.
    Equivalent: ``torch.nn.functional.binary_cross_entropy``.
    """
    V.check_reduction(reduction)
    V.check_floating("probs", probs)
    V.check_floating("target", target)
    V.check_nonempty("probs", probs)
    V.check_same_shape("probs", probs, "target", target)
    if weight is not None:
        V.check_floating("weight", weight)
        _check_broadcasts_to("weight", weight, probs.shape, "probs")
    V.check_probabilities("probs", probs)
    V.check_probabilities("target", target)
    # torch's "mean" is the plain mean of the weighted elements here: pass it through
    return F.binary_cross_entropy(probs, target, weight=weight, reduction=reduction)


@register(
    family="classification",
    summary="Binary cross-entropy on logits, fused with the sigmoid for stability.",
    cite="bishop2006prml",
    chapter="classification/cross-entropy",
    reference="torch.nn.functional.binary_cross_entropy_with_logits",
)
def binary_cross_entropy_with_logits(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    weight: torch.Tensor | None = None,
    pos_weight: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Binary cross-entropy of logits :math:`z`, with :math:`p = \sigma(z)`.

    .. math::
        \ell = -w\,[\,\pi\, y \log \sigma(z) + (1 - y) \log \sigma(-z)\,]

    where :math:`\pi` is ``pos_weight`` (the weight of positive examples, per class) and
    :math:`\log\sigma(z) = -\operatorname{softplus}(-z)` is evaluated without overflow.

    Args:
        logits: real-valued scores :math:`z`, any shape (``[N, C]`` for multi-label).
        target: targets :math:`y \in [0, 1]`, the shape of ``logits``.
        weight: optional rescaling weight :math:`w`, broadcastable to ``logits``.
        pos_weight: optional positive-class weight :math:`\pi`, broadcastable to
            ``logits`` (typically ``[C]``).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (elementwise).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`bishop2006prml` section 4.3.2.
    Equivalent: ``torch.nn.functional.binary_cross_entropy_with_logits``.
    """
    V.check_reduction(reduction)
    V.check_floating("logits", logits)
    V.check_floating("target", target)
    V.check_nonempty("logits", logits)
    V.check_same_shape("logits", logits, "target", target)
    for name, extra in (("weight", weight), ("pos_weight", pos_weight)):
        if extra is not None:
            V.check_floating(name, extra)
            _check_broadcasts_to(name, extra, logits.shape, "logits")
    V.check_probabilities("target", target)
    return F.binary_cross_entropy_with_logits(logits, target, weight=weight, pos_weight=pos_weight, reduction=reduction)


@register(
    family="classification",
    summary="Softmax cross-entropy with class indices or probabilities, weights, smoothing, ignored targets.",
    cite="bridle1990probabilistic",
    chapter="classification/cross-entropy",
    reference="torch.nn.functional.cross_entropy",
)
def cross_entropy(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    weight: torch.Tensor | None = None,
    label_smoothing: float = 0.0,
    ignore_index: int | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Softmax cross-entropy (the "softmax loss", categorical cross-entropy).

    With class indices :math:`y` and smoothing :math:`\varepsilon` over :math:`C` classes,
    the target distribution is :math:`q_c = (1-\varepsilon)[c = y] + \varepsilon / C` and

    .. math::
        \ell = -\sum_{c=1}^{C} w_c\, q_c \log \operatorname{softmax}(z)_c ,

    computed with ``log_softmax`` (log-sum-exp), so it is finite for any finite logits.
    With probability targets :math:`q` the same formula applies with the given :math:`q`
    (smoothed as :math:`(1-\varepsilon) q + \varepsilon / C`).

    With ``ignore_index`` (class-index targets only, e.g. the padding of token sequences),
    a position whose target equals it is not counted: its ``"none"`` loss is 0, and
    ``"mean"`` is the mean over the counted positions,

    .. math::
        \frac{1}{|\{i : y_i \ne \text{ignore}\}|} \sum_{i : y_i \ne \text{ignore}} \ell_i .

    Args:
        logits: scores :math:`z`, ``[N, C]`` or ``[N, C, d1, ...]``.
        target: class indices (integer, ``[N]`` or ``[N, d1, ...]``, values in ``[0, C)``
            or equal to ``ignore_index``) or class probabilities (float, the shape of
            ``logits``).
        weight: optional class weights :math:`w`, ``[C]``.
        label_smoothing: :math:`\varepsilon \in [0, 1]`.
        ignore_index: ``None`` (every position counts) or an int: targets equal to it are
            not counted. It may lie outside ``[0, C)`` (torch's idiom is -100); the other
            targets are still checked to lie in ``[0, C)``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[N]`` or ``[N, d1, ...]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Raises:
        ValueError: With ``ignore_index`` and ``reduction="mean"``, when every target
            equals ``ignore_index``: the mean over no position is undefined (torch returns
            NaN); ``"sum"`` is then 0.

    Note:
        ``"mean"`` is the plain mean of the per-example losses (over the counted positions
        with ``ignore_index``), as for every losslib loss. With ``weight`` and class-index
        targets torch's ``"mean"`` instead divides by :math:`\sum_i w_{y_i}` over the
        counted positions; get that with ``reduction="sum"`` divided by
        ``weight[target[target != ignore_index]].sum()``. Without ``weight`` the two means
        are the same.

    Reference: :cite:t:`bridle1990probabilistic`; label smoothing
    :cite:p:`szegedy2016rethinking`. Equivalent: ``torch.nn.functional.cross_entropy``
    (``ignore_index=None`` is its default -100 when no target equals -100).
    """
    V.check_reduction(reduction)
    num_classes = V.check_class_scores("logits", logits)
    V.check_in_interval("label_smoothing", label_smoothing, 0.0, 1.0, closed=True)
    V.check_class_weight(weight, num_classes)
    if ignore_index is not None:
        V.check_int("ignore_index", ignore_index)
    if target.is_floating_point():
        if ignore_index is not None:
            raise ValueError("ignore_index applies to class-index targets only, got probability targets")
        V.check_same_shape("logits", logits, "target", target)
        V.check_probabilities("target", target)
    elif ignore_index is not None:
        V.check_integer("target", target)
        V.check_shape("target", target, logits.shape[:1] + logits.shape[2:], "[N, d1, ...]")
        V.check_class_indices_except("target", target, num_classes, ignore_index)
    else:
        V.check_index_target(logits, target, num_classes)
    if ignore_index is None:
        if weight is None:  # torch's mean is then the plain mean: use its fused reduction
            return F.cross_entropy(logits, target, label_smoothing=label_smoothing, reduction=reduction)
        loss = F.cross_entropy(logits, target, weight=weight, label_smoothing=label_smoothing, reduction="none")
        return V.reduce(loss, reduction)
    if reduction == "mean":
        counted = int((target != ignore_index).sum())
        V.check_some_counted("target", counted, f"every target equals ignore_index={ignore_index}")
        if weight is None:  # the mean over the counted positions is torch's unweighted mean
            return F.cross_entropy(
                logits, target, ignore_index=ignore_index, label_smoothing=label_smoothing, reduction="mean"
            )
    loss = F.cross_entropy(
        logits, target, weight=weight, ignore_index=ignore_index, label_smoothing=label_smoothing, reduction="none"
    )
    if reduction == "mean":
        return loss.sum() / counted
    return V.reduce(loss, reduction)


@register(
    family="classification",
    summary="Negative log-likelihood of log-probabilities at the target class.",
    cite="goodfellow2016deep",
    chapter="classification/cross-entropy",
    reference="torch.nn.functional.nll_loss",
)
def nll_loss(
    log_probs: torch.Tensor,
    target: torch.Tensor,
    *,
    weight: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Negative log-likelihood of the target class.

    .. math::
        \ell = -w_y \log p_y

    where ``log_probs`` already holds :math:`\log p` (e.g. the output of ``log_softmax``).
    ``nll_loss(log_softmax(z), y)`` equals ``cross_entropy(z, y)``.

    Args:
        log_probs: log-probabilities, ``[N, C]`` or ``[N, C, d1, ...]``.
        target: class indices, integer, ``[N]`` or ``[N, d1, ...]``, values in ``[0, C)``.
        weight: optional class weights :math:`w`, ``[C]``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[N]`` or ``[N, d1, ...]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Note:
        ``"mean"`` is the plain mean of the per-example losses (torch divides by
        :math:`\sum_i w_{y_i}` when ``weight`` is given).

    Reference: :cite:t:`goodfellow2016deep` section 6.2.2.
    Equivalent: ``torch.nn.functional.nll_loss``.
    """
    V.check_reduction(reduction)
    num_classes = V.check_class_scores("log_probs", log_probs)
    V.check_class_weight(weight, num_classes)
    V.check_index_target(log_probs, target, num_classes)
    if weight is None:  # torch's mean is then the plain mean: use its fused reduction
        return F.nll_loss(log_probs, target, reduction=reduction)
    loss = F.nll_loss(log_probs, target, weight=weight, reduction="none")
    return V.reduce(loss, reduction)


def _focal_modulation(one_minus_p: torch.Tensor, gamma: float) -> torch.Tensor:
    r"""The modulating factor :math:`(1 - p)^\gamma`, with a gradient that stays finite.

    For :math:`\gamma < 1` the derivative :math:`\gamma (1 - p)^{\gamma - 1}` is infinite at
    :math:`p = 1`, which a confident logit reaches exactly in floating point; autograd would
    then form ``0 * inf = nan``. The base is therefore clamped at the dtype's smallest
    normal number: the value changes by at most ``tiny**gamma`` (below any loss that can be
    represented next to it), and where the clamp is active its gradient is exactly zero, so
    the chain rule never meets an infinity. The true derivative of the loss there is
    :math:`\approx -\gamma (1-p)^\gamma \to 0`, so zero is also the right answer.
    """
    if gamma == 0:
        return torch.ones_like(one_minus_p)
    tiny = torch.finfo(one_minus_p.dtype).tiny
    return one_minus_p.clamp_min(tiny).pow(gamma)


def _check_gamma(gamma: float) -> float:
    V.check_real("gamma", gamma)
    V.check_nonnegative("gamma", float(gamma))
    return float(gamma)


@register(
    family="classification",
    summary="Softmax focal loss: cross-entropy scaled by (1 - p_y)^gamma to focus on hard examples.",
    cite="lin2017focal",
    chapter="classification/focal",
    reference=None,
)
def focal_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    gamma: float = 2.0,
    alpha: float | torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Softmax (multi-class) focal loss.

    With :math:`p = \operatorname{softmax}(z)` over the class dimension and the true class
    :math:`y`,

    .. math::
        \ell = -\alpha_y\, (1 - p_y)^{\gamma} \log p_y .

    :math:`\log p_y` comes from ``log_softmax``; :math:`1 - p_y` is computed as
    ``-expm1(log p_y)`` (accurate when :math:`p_y \to 1`) and clamped at the dtype's
    smallest positive normal number before the power, so the gradient stays finite even for
    :math:`\gamma < 1` on confident logits. ``gamma=0, alpha=None`` is exactly
    :func:`cross_entropy`.

    Args:
        logits: scores :math:`z`, ``[N, C]`` or ``[N, C, d1, ...]``.
        target: class indices, integer, ``[N]`` or ``[N, d1, ...]``, values in ``[0, C)``.
        gamma: focusing parameter :math:`\gamma \ge 0` (a negative value raises
            ``ValueError``).
        alpha: class weighting :math:`\alpha_y`: ``None`` (all ones), a non-negative float
            (the same for every class), or a ``[C]`` floating tensor of non-negative class
            weights.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[N]`` or ``[N, d1, ...]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`lin2017focal` (section 3.2 and appendix, the multi-class form).
    No torch equivalent; tested against a transcription of the formula.
    """
    V.check_reduction(reduction)
    num_classes = V.check_class_scores("logits", logits)
    gamma = _check_gamma(gamma)
    if alpha is not None and not isinstance(alpha, torch.Tensor):
        V.check_real("alpha", alpha)
        V.check_nonnegative("alpha", float(alpha))
    elif isinstance(alpha, torch.Tensor):
        V.check_floating("alpha", alpha)
        V.check_shape("alpha", alpha, (num_classes,), "[C]")
    V.check_index_target(logits, target, num_classes)
    if isinstance(alpha, torch.Tensor):
        V.check_nonnegative_values("alpha", alpha)
    log_p = F.log_softmax(logits, dim=1).gather(1, target.unsqueeze(1)).squeeze(1)
    loss = -_focal_modulation(-torch.expm1(log_p), gamma) * log_p
    if isinstance(alpha, torch.Tensor):
        loss = alpha.to(loss.dtype)[target] * loss
    elif alpha is not None:
        loss = float(alpha) * loss
    return V.reduce(loss, reduction)


@register(
    family="classification",
    summary="Sigmoid focal loss of Lin et al. for binary / multi-label (dense detection) tasks.",
    cite="lin2017focal",
    chapter="classification/focal",
    reference="torchvision.ops.sigmoid_focal_loss",
)
def sigmoid_focal_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    alpha: float | None = 0.25,
    gamma: float = 2.0,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Binary / multi-label focal loss (the form used in RetinaNet).

    Elementwise, with :math:`p = \sigma(z)`, :math:`p_t = p\,t + (1 - p)(1 - t)` and
    :math:`\alpha_t = \alpha\,t + (1 - \alpha)(1 - t)`,

    .. math::
        \ell = \alpha_t\, (1 - p_t)^{\gamma}\, \operatorname{BCE}(z, t),
        \qquad \operatorname{BCE}(z, t) = -t \log \sigma(z) - (1 - t) \log \sigma(-z),

    which for hard labels is :math:`-\alpha_t (1 - p_t)^\gamma \log p_t`. The BCE term is
    the fused ``binary_cross_entropy_with_logits``; :math:`1 - p_t` is computed without
    cancellation as :math:`(1 - t)\,\sigma(z) + t\,\sigma(-z)` and clamped at the dtype's
    smallest positive normal number before the power, so the gradient stays finite for
    :math:`\gamma < 1` on confident logits.

    Args:
        logits: scores :math:`z`, any shape (``[N]`` binary, ``[N, C]`` multi-label,
            ``[N, C, H, W]`` dense).
        target: targets :math:`t \in [0, 1]` (hard 0/1 or soft), the shape of ``logits``.
        alpha: weight :math:`\alpha \in [0, 1]` of the positives (:math:`1 - \alpha` for the
            negatives), or ``None`` for no alpha weighting.
        gamma: focusing parameter :math:`\gamma \ge 0`.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (elementwise, the shape of ``logits``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`lin2017focal`. Equivalent: ``torchvision.ops.sigmoid_focal_loss``
    with ``reduction="none"`` (which disables the weighting with ``alpha=-1`` instead of
    ``None``).
    """
    V.check_reduction(reduction)
    V.check_floating("logits", logits)
    V.check_floating("target", target)
    V.check_nonempty("logits", logits)
    V.check_same_shape("logits", logits, "target", target)
    gamma = _check_gamma(gamma)
    if alpha is not None:
        V.check_real("alpha", alpha)
        V.check_in_interval("alpha", float(alpha), 0.0, 1.0, closed=True)
    V.check_probabilities("target", target)
    ce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    one_minus_pt = (1 - target) * torch.sigmoid(logits) + target * torch.sigmoid(-logits)
    loss = _focal_modulation(one_minus_pt, gamma) * ce
    if alpha is not None:
        alpha = float(alpha)
        loss = (alpha * target + (1 - alpha) * (1 - target)) * loss
    return V.reduce(loss, reduction)


@register(
    family="classification",
    summary="Kullback-Leibler divergence of the softmax of the logits from a target distribution.",
    cite="kullback1951information",
    chapter="classification/kl-divergence",
    reference="torch.nn.functional.kl_div",
)
def kl_divergence(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Kullback-Leibler divergence :math:`D_{\mathrm{KL}}(p \,\|\, q)` of the model from the target.

    With :math:`q = \operatorname{softmax}(z)` over the class dimension and target
    probabilities :math:`p`, per example

    .. math::
        \ell = \sum_{c=1}^{C} p_c \left( \log p_c - \log q_c \right),
        \qquad 0 \log 0 = 0,

    written with ``log_softmax`` and ``torch.xlogy``, so classes with :math:`p_c = 0`
    contribute exactly 0 and give finite gradients, for the logits and for the target
    (there the derivative of :math:`p_c \log p_c`, which is :math:`-\infty`, is taken
    as 0, the convention of ``torch.xlogy``; ``F.kl_div`` returns NaN there).

    Args:
        logits: scores :math:`z` of the model, ``[N, C]`` or ``[N, C, d1, ...]``.
        target: the data distribution :math:`p`, probabilities in ``[0, 1]`` (each row
            should sum to 1), the shape of ``logits``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[N]`` or ``[N, d1, ...]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Note:
        The argument order follows losslib (prediction first), the math is
        :math:`D_{\mathrm{KL}}(\text{target} \,\|\, \text{model})`. For 2-D input ``"mean"``
        equals ``F.kl_div(F.log_softmax(logits, 1), target, reduction="batchmean")``; torch's
        own ``reduction="mean"`` divides by :math:`N C` instead and is not the KL divergence.

    Reference: :cite:t:`kullback1951information`; :cite:t:`cover2006elements` chapter 2.
    Equivalent: ``torch.nn.functional.kl_div`` summed over dim 1.
    """
    V.check_reduction(reduction)
    V.check_class_scores("logits", logits)
    V.check_floating("target", target)
    V.check_same_shape("logits", logits, "target", target)
    V.check_probabilities("target", target)
    log_q = F.log_softmax(logits, dim=1)
    if not target.requires_grad:
        # torch's fused kernel computes the same xlogy(p, p) - p log q; only its gradient
        # with respect to the target is NaN at p = 0, and none is asked for here.
        return V.reduce(F.kl_div(log_q, target, reduction="none").sum(dim=1), reduction)
    # p log p with 0 log 0 = 0. xlogy(p, p) alone has a 0/0 = NaN gradient with respect to
    # the target at p = 0; feeding it 1 there keeps the value 0 and every gradient finite.
    safe = torch.where(target > 0, target, torch.ones_like(target))
    loss = (torch.xlogy(target, safe) - target * log_q).sum(dim=1)
    return V.reduce(loss, reduction)


def _target_log_prob(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Checks class-index targets and returns :math:`\\log p_t`, ``[N]`` or ``[N, d1, ...]``."""
    num_classes = V.check_class_scores("logits", logits)
    V.check_index_target(logits, target, num_classes)
    return -F.cross_entropy(logits, target, reduction="none")


def _check_leading_epsilon(name: str, value: float) -> None:
    if not value >= -1.0:
        raise ValueError(
            f"{name} must be >= -1 (below -1 the loss rises as p_t -> 1, so it is no longer "
            f"minimised by the correct prediction), got {value!r}"
        )


@register(
    family="classification",
    summary="Poly-1: cross-entropy plus epsilon times (1 - p_t), the leading polynomial term.",
    cite="leng2022polyloss",
    chapter="classification/polyloss",
    reference=None,
)
def poly1_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    epsilon: float = 1.0,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Poly-1 loss of :cite:t:`leng2022polyloss`.

    With :math:`p_t = \operatorname{softmax}(z)_y` the probability of the target class,

    .. math::
        \ell = -\log p_t + \varepsilon\,(1 - p_t),

    i.e. the coefficient of the first term of :math:`-\log p_t = \sum_{j\ge1} (1-p_t)^j/j`
    is moved from 1 to :math:`1 + \varepsilon`. :math:`1 - p_t` is computed from
    :math:`\log p_t` (``log_softmax``) as ``-expm1(log p_t)``.

    Args:
        logits: scores :math:`z`, ``[N, C]`` or ``[N, C, d1, ...]``.
        target: class indices, integer, ``[N]`` or ``[N, d1, ...]``, values in ``[0, C)``.
        epsilon: :math:`\varepsilon`, a finite real number ``>= -1`` (``0`` gives
            cross-entropy; below ``-1`` the loss would grow as :math:`p_t \to 1`).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[N]`` or ``[N, d1, ...]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`leng2022polyloss`, equation (3). No torch equivalent; tested
    against a transcription of the paper's formula.
    """
    V.check_reduction(reduction)
    V.check_real("epsilon", epsilon)
    _check_leading_epsilon("epsilon", float(epsilon))
    log_pt = _target_log_prob(logits, target)
    loss = -log_pt + epsilon * -torch.expm1(log_pt)
    return V.reduce(loss, reduction)


@register(
    family="classification",
    summary="Poly-N: cross-entropy plus a polynomial sum_j epsilon_j (1 - p_t)^j.",
    cite="leng2022polyloss",
    chapter="classification/polyloss",
    reference=None,
)
def poly_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    epsilons,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Poly-N loss of :cite:t:`leng2022polyloss`.

    With :math:`p_t = \operatorname{softmax}(z)_y` and :math:`N` = ``len(epsilons)``,

    .. math::
        \ell = -\log p_t + \sum_{j=1}^{N} \varepsilon_j\,(1 - p_t)^j ,

    the paper's Poly-N: the coefficients of the first :math:`N` terms of the expansion
    :math:`-\log p_t = \sum_{j\ge1} (1-p_t)^j/j` become :math:`1/j + \varepsilon_j`.
    (Some texts write the perturbation as :math:`\sum_j \varepsilon'_j (1-p_t)^j / j`;
    pass ``epsilons = [e / j for j, e in enumerate(eps_prime, 1)]`` for that form.)
    ``poly_loss(..., epsilons=[e])`` equals ``poly1_loss(..., epsilon=e)``.

    Args:
        logits: scores :math:`z`, ``[N, C]`` or ``[N, C, d1, ...]``.
        target: class indices, integer, ``[N]`` or ``[N, d1, ...]``, values in ``[0, C)``.
        epsilons: :math:`(\varepsilon_1, \dots, \varepsilon_N)`, a non-empty sequence or 1-D
            floating tensor of finite numbers with :math:`\varepsilon_1 \ge -1` (a tensor
            that requires grad makes the coefficients learnable).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[N]`` or ``[N, d1, ...]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`leng2022polyloss`, equation (2) truncated (Poly-N). No torch
    equivalent; tested against a transcription of the paper's formula.
    """
    V.check_reduction(reduction)
    V.check_real_sequence("epsilons", epsilons)
    first = epsilons[0]
    _check_leading_epsilon("epsilons[0]", float(first.detach() if isinstance(first, torch.Tensor) else first))
    log_pt = _target_log_prob(logits, target)
    u = -torch.expm1(log_pt)  # 1 - p_t
    # Horner's scheme: sum_j eps_j u^j = u (eps_1 + u (eps_2 + ... u eps_N))
    poly = torch.zeros_like(u)
    for eps in reversed(list(epsilons)):
        poly = (poly + eps) * u
    loss = -log_pt + poly
    return V.reduce(loss, reduction)
