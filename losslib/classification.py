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


def _check_class_input(name: str, scores: torch.Tensor) -> int:
    """``scores`` is ``[N, C]`` or ``[N, C, d1, ...]``; returns ``C``."""
    V.check_floating(name, scores)
    V.check_min_dim(name, scores, 2, "[N, C] or [N, C, d1, ...]")
    V.check_nonempty(name, scores)
    return scores.shape[1]


def _check_index_target(scores: torch.Tensor, target: torch.Tensor, num_classes: int) -> None:
    V.check_integer("target", target)
    expected = scores.shape[:1] + scores.shape[2:]
    if target.shape != expected:
        raise ValueError(
            f"target must have shape [N, d1, ...] = {tuple(expected)} for input of shape "
            f"{tuple(scores.shape)}, got shape {tuple(target.shape)}"
        )
    V.check_class_indices("target", target, num_classes)


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
    loss = F.binary_cross_entropy(probs, target, weight=weight, reduction="none")
    return V.reduce(loss, reduction)


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
    loss = F.binary_cross_entropy_with_logits(
        logits, target, weight=weight, pos_weight=pos_weight, reduction="none"
    )
    return V.reduce(loss, reduction)


@register(
    family="classification",
    summary="Softmax cross-entropy with class indices or probabilities, weights, smoothing.",
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

    Args:
        logits: scores :math:`z`, ``[N, C]`` or ``[N, C, d1, ...]``.
        target: class indices (integer, ``[N]`` or ``[N, d1, ...]``, values in ``[0, C)``)
            or class probabilities (float, the shape of ``logits``).
        weight: optional class weights :math:`w`, ``[C]``.
        label_smoothing: :math:`\varepsilon \in [0, 1]`.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[N]`` or ``[N, d1, ...]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Note:
        ``"mean"`` is the plain mean of the per-example losses, as for every losslib loss.
        With ``weight`` and class-index targets torch's ``"mean"`` instead divides by
        :math:`\sum_i w_{y_i}`; get that with ``reduction="sum"`` divided by
        ``weight[target].sum()``.

    Reference: :cite:t:`bridle1990probabilistic`; label smoothing
    :cite:p:`szegedy2016rethinking`. Equivalent: ``torch.nn.functional.cross_entropy``.
    """
    V.check_reduction(reduction)
    num_classes = _check_class_input("logits", logits)
    V.check_in_interval("label_smoothing", label_smoothing, 0.0, 1.0, closed=True)
    V.check_class_weight(weight, num_classes)
    if target.is_floating_point():
        V.check_same_shape("logits", logits, "target", target)
        V.check_probabilities("target", target)
    else:
        _check_index_target(logits, target, num_classes)
    loss = F.cross_entropy(logits, target, weight=weight, label_smoothing=label_smoothing, reduction="none")
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
    num_classes = _check_class_input("log_probs", log_probs)
    V.check_class_weight(weight, num_classes)
    _check_index_target(log_probs, target, num_classes)
    loss = F.nll_loss(log_probs, target, weight=weight, reduction="none")
    return V.reduce(loss, reduction)
