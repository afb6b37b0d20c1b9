r"""Margin (SVM) losses: hinge, squared hinge, soft margin and the multi-class hinge.

The binary losses take real scores :math:`s` and labels :math:`t \in \{-1, +1\}` of the
same shape and depend on them only through the margin :math:`z = t\,s`. The multi-class
hinge takes logits ``[N, C]`` (or ``[N, C, d1, ...]``) and class indices, as
:func:`losslib.classification.cross_entropy` does.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import _validation as V
from .registry import register

__all__ = [
    "hinge_loss",
    "squared_hinge_loss",
    "soft_margin_loss",
    "multiclass_hinge_loss",
]


def _binary_margin(scores: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Validate ``scores`` / ``target`` and return the margin ``t * s`` in the scores' dtype."""
    V.check_floating("scores", scores)
    V.check_floating("target", target)
    V.check_nonempty("scores", scores)
    V.check_same_shape("scores", scores, "target", target)
    V.check_sign_labels("target", target)
    return target.to(scores.dtype) * scores


@register(
    family="classification",
    summary="Hinge loss max(0, margin - t s) of the support vector machine, labels in {-1, +1}.",
    cite="cortes1995support",
    chapter="classification/hinge",
    reference=None,
)
def hinge_loss(
    scores: torch.Tensor,
    target: torch.Tensor,
    *,
    margin: float = 1.0,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Binary hinge loss (the loss of the soft-margin support vector machine).

    .. math::
        \ell(s, t) = \max(0,\; \mu - t\,s)

    with score :math:`s`, label :math:`t \in \{-1, +1\}` and margin :math:`\mu \ge 0`.
    The loss is zero once the example is on the correct side with functional margin
    :math:`t\,s \ge \mu`. ``margin=0`` gives the perceptron loss :math:`\max(0, -t\,s)`.
    At the kink :math:`t\,s = \mu` autograd returns the subgradient 0.

    Args:
        scores: real-valued classifier scores :math:`s`, any shape.
        target: labels :math:`t`, a floating tensor of the shape of ``scores`` with values
            in :math:`\{-1, +1\}` (a value check, see :func:`losslib.value_checks`).
        margin: :math:`\mu \ge 0`; a negative margin raises ``ValueError``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (elementwise, the shape of ``scores``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`cortes1995support`. Equivalent: no torch function takes scores and
    labels this way (``torch.nn.functional.hinge_embedding_loss`` is a different loss on
    distances); ``sklearn.metrics.hinge_loss`` computes the mean for ``margin=1``.
    """
    V.check_reduction(reduction)
    V.check_nonnegative("margin", margin)
    z = _binary_margin(scores, target)
    loss = torch.relu(margin - z)
    return V.reduce(loss, reduction)


@register(
    family="classification",
    summary="Squared hinge max(0, margin - t s)^2 (L2-SVM): differentiable at the margin.",
    cite="cortes1995support",
    chapter="classification/hinge",
    reference=None,
)
def squared_hinge_loss(
    scores: torch.Tensor,
    target: torch.Tensor,
    *,
    margin: float = 1.0,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Squared hinge loss (the loss of the L2-SVM).

    .. math::
        \ell(s, t) = \max(0,\; \mu - t\,s)^2

    with score :math:`s`, label :math:`t \in \{-1, +1\}` and margin :math:`\mu \ge 0`.
    Its derivative :math:`-2t\max(0, \mu - t s)` is continuous, so the loss is
    differentiable everywhere; the price is a quadratic penalty for large violations.

    Args:
        scores: real-valued classifier scores :math:`s`, any shape.
        target: labels :math:`t`, a floating tensor of the shape of ``scores`` with values
            in :math:`\{-1, +1\}`.
        margin: :math:`\mu \ge 0`; a negative margin raises ``ValueError``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (elementwise, the shape of ``scores``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: the soft-margin penalty :math:`\sum_i \xi_i^\sigma` with :math:`\sigma = 2`
    of :cite:t:`cortes1995support`. Equivalent: ``sklearn.svm.LinearSVC(loss="squared_hinge")``
    minimises its mean plus an L2 penalty.
    """
    V.check_reduction(reduction)
    V.check_nonnegative("margin", margin)
    z = _binary_margin(scores, target)
    loss = torch.relu(margin - z).square()
    return V.reduce(loss, reduction)


@register(
    family="classification",
    summary="Soft-margin (logistic) loss log(1 + exp(-t s)), the smooth surrogate of the hinge.",
    cite="rosasco2004are",
    chapter="classification/hinge",
    reference="torch.nn.functional.soft_margin_loss",
)
def soft_margin_loss(
    scores: torch.Tensor,
    target: torch.Tensor,
    *,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Soft-margin loss, i.e. the logistic loss written with labels :math:`\pm 1`.

    .. math::
        \ell(s, t) = \log\bigl(1 + e^{-t\,s}\bigr) = \operatorname{softplus}(-t\,s)

    computed with ``softplus``, so it stays finite for any finite score (torch's
    ``soft_margin_loss`` evaluates :math:`\log(1 + e^{x})` directly and returns ``inf``
    for :math:`-t\,s \gtrsim 89` in float32). It equals
    ``binary_cross_entropy_with_logits(s, (t + 1) / 2)``.

    Args:
        scores: real-valued classifier scores :math:`s`, any shape.
        target: labels :math:`t`, a floating tensor of the shape of ``scores`` with values
            in :math:`\{-1, +1\}`.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (elementwise, the shape of ``scores``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: the logistic loss among the convex surrogates compared by
    :cite:t:`rosasco2004are`. Equivalent: ``torch.nn.functional.soft_margin_loss``
    (where that is finite).
    """
    V.check_reduction(reduction)
    z = _binary_margin(scores, target)
    loss = F.softplus(-z)
    return V.reduce(loss, reduction)


@register(
    family="classification",
    summary="Weston-Watkins multi-class SVM loss: sum over wrong classes of max(0, margin - s_y + s_j).",
    cite="weston1999support",
    chapter="classification/hinge",
    reference="torch.nn.functional.multi_margin_loss",
)
def multiclass_hinge_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    margin: float = 1.0,
    squared: bool = False,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Multi-class hinge loss of Weston and Watkins (the "SVM loss" of CS231n).

    .. math::
        \ell(\mathbf{s}, y) = \sum_{j \ne y} \max(0,\; \mu - s_y + s_j)^p ,
        \qquad p = 2 \text{ if squared else } 1 .

    Every wrong class :math:`j` whose score comes within :math:`\mu` of the true class's
    score :math:`s_y` adds its violation. (Crammer and Singer's variant takes the maximum
    over :math:`j \ne y` instead of the sum.)

    Args:
        logits: scores :math:`\mathbf{s}`, ``[N, C]`` or ``[N, C, d1, ...]`` (class dim 1).
        target: class indices :math:`y`, integer, ``[N]`` or ``[N, d1, ...]``, in ``[0, C)``.
        margin: :math:`\mu \ge 0`; a negative margin raises ``ValueError``.
        squared: square each violation (:math:`p = 2`).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[N]`` or ``[N, d1, ...]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Note:
        ``torch.nn.functional.multi_margin_loss`` divides the sum by :math:`C`: for 2-D
        ``logits``, ``multiclass_hinge_loss(x, y, reduction="none")`` equals
        ``C * multi_margin_loss(x, y, p=1 or 2, margin=margin, reduction="none")``.

    Reference: :cite:t:`weston1999support`; :cite:t:`karpathy2016cs231n`.
    Equivalent: ``C * torch.nn.functional.multi_margin_loss`` (2-D, float32/float64).
    """
    V.check_reduction(reduction)
    V.check_nonnegative("margin", margin)
    num_classes = V.check_class_scores("logits", logits)
    V.check_index_target(logits, target, num_classes)
    if logits.dim() == 2 and logits.dtype in (torch.float32, torch.float64):
        # torch's fused kernel computes the same sum divided by C
        per_example = F.multi_margin_loss(logits, target, p=2 if squared else 1, margin=margin, reduction="none")
        return V.reduce(num_classes * per_example, reduction)
    index = target.unsqueeze(1)
    true_score = logits.gather(1, index)
    violation = torch.relu(margin - true_score + logits)
    if squared:
        violation = violation.square()
    is_true = torch.zeros_like(logits, dtype=torch.bool).scatter_(1, index, True)
    loss = violation.masked_fill(is_true, 0.0).sum(dim=1)
    return V.reduce(loss, reduction)
