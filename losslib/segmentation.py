r"""Segmentation losses: soft Dice and generalized Dice.

Both take per-class probabilities ``probs`` and a target of the same shape
``[N, C, d1, ...]`` (one-hot or soft masks, values in ``[0, 1]``) and measure overlap per
sample and class by summing over the spatial dims ``d1, ...`` (dims ``>= 2``), as MONAI's
``DiceLoss`` and ``GeneralizedDiceLoss`` do with ``batch=False``.
"""

from __future__ import annotations

import torch

from . import _validation as V
from .registry import register

__all__: list[str] = ["dice_loss", "generalized_dice_loss"]


def _check_masks(probs: torch.Tensor, target: torch.Tensor, smooth: float, reduction: str) -> None:
    V.check_reduction(reduction)
    V.check_floating("probs", probs)
    V.check_floating("target", target)
    V.check_min_dim("probs", probs, 3, "[N, C, d1, ...]")
    V.check_nonempty("probs", probs)
    V.check_same_shape("probs", probs, "target", target)
    V.check_nonnegative("smooth", smooth)
    V.check_probabilities("probs", probs)
    V.check_probabilities("target", target)


def _work_dtype(dtype: torch.dtype) -> torch.dtype:
    """Sums over many pixels are accumulated in float32 at least (bfloat16 has 8 bits)."""
    return dtype if dtype in (torch.float32, torch.float64) else torch.float32


def _overlap(
    probs: torch.Tensor, target: torch.Tensor, squared: bool
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""Per sample and class ``[N, C]``: :math:`\sum_i p_i g_i` and the two terms of the
    denominator, :math:`\sum_i p_i^2, \sum_i g_i^2` (``squared``) or :math:`\sum_i p_i, \sum_i g_i`."""
    dims = tuple(range(2, probs.dim()))
    work = _work_dtype(probs.dtype)
    p, g = probs.to(work), target.to(work)
    intersection = (p * g).sum(dims)
    if squared:
        return intersection, (p * p).sum(dims), (g * g).sum(dims)
    return intersection, p.sum(dims), g.sum(dims)


@register(
    family="classification",
    summary="Soft Dice loss 1 - Dice overlap per sample and class, for segmentation masks.",
    cite="milletari2016vnet",
    chapter="classification/dice",
    reference="monai.losses.DiceLoss",
)
def dice_loss(
    probs: torch.Tensor,
    target: torch.Tensor,
    *,
    squared: bool = True,
    smooth: float = 1e-5,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Soft Dice loss of predicted class probabilities against target masks.

    For every sample :math:`n` and class :math:`c`, with sums over the pixels :math:`i`
    (all dims :math:`\geq 2`) and :math:`s` = ``smooth``:

    .. math::
        \ell_{nc} = 1 - \frac{2 \sum_i p_i g_i + s}{\sum_i p_i^2 + \sum_i g_i^2 + s}

    (the V-Net form); with ``squared=False`` the denominator is
    :math:`\sum_i p_i + \sum_i g_i + s`, the direct relaxation of
    :math:`2|A \cap B| / (|A| + |B|)`. A class that is empty in both ``probs`` and
    ``target`` has loss :math:`0` (thanks to :math:`s > 0`); a class empty in the target
    only has loss :math:`1 - s / (\sum_i p_i^2 + s) \approx 1`.

    Args:
        probs: predicted probabilities :math:`p \in [0, 1]`, ``[N, C, d1, ...]`` (at least
            one spatial dim), e.g. a softmax or sigmoid output.
        target: target masks :math:`g \in [0, 1]` (one-hot or soft), the shape of ``probs``.
        squared: square :math:`p` and :math:`g` in the denominator (V-Net) or not.
        smooth: :math:`s \geq 0`, added to numerator and denominator; ``smooth=0`` makes
            a class that is empty in both inputs ``nan`` (0/0).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[N, C]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`milletari2016vnet`; the coefficient :cite:p:`dice1945measures`.
    Equivalent: ``monai.losses.DiceLoss(squared_pred=squared, smooth_nr=smooth,
    smooth_dr=smooth, reduction="none")`` :cite:p:`cardoso2022monai`, whose output
    ``[N, C, 1, ...]`` is squeezed to ``[N, C]``.
    """
    _check_masks(probs, target, smooth, reduction)
    intersection, predicted, truth = _overlap(probs, target, squared)
    loss = 1.0 - (2.0 * intersection + smooth) / (predicted + truth + smooth)
    return V.reduce(loss.to(probs.dtype), reduction)


@register(
    family="classification",
    summary="Generalized Dice loss: one Dice over all classes, weighted by 1/(class volume)^2.",
    cite="sudre2017generalised",
    chapter="classification/dice",
    reference="monai.losses.GeneralizedDiceLoss",
)
def generalized_dice_loss(
    probs: torch.Tensor,
    target: torch.Tensor,
    *,
    smooth: float = 1e-5,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Generalized Dice loss of Sudre et al., as MONAI computes it.

    Per sample, with class weights :math:`w_c = 1 / (\sum_i g_{ci})^2` and sums over the
    pixels :math:`i` (all dims :math:`\geq 2`):

    .. math::
        \ell = 1 - \frac{2 \sum_c w_c \sum_i p_{ci} g_{ci} + s}
                        {\sum_c w_c \sum_i (p_{ci} + g_{ci}) + s}

    A class absent from a sample's target has an infinite weight; it is replaced by the
    largest finite weight of that sample. If every class of a sample is empty, all
    weights are 0 and the loss is :math:`s / s` subtracted from 1, i.e. 0. The weights
    depend on the target only and are treated as constants (no gradient flows through
    them). The smoothing :math:`s` is added after weighting, as in MONAI, so its relative
    size grows as the weights shrink (large classes).

    Args:
        probs: predicted probabilities :math:`p \in [0, 1]`, ``[N, C, d1, ...]``.
        target: target masks :math:`g \in [0, 1]`, the shape of ``probs``.
        smooth: :math:`s \geq 0`, added to numerator and denominator.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[N]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`sudre2017generalised`. Equivalent:
    ``monai.losses.GeneralizedDiceLoss(smooth_nr=smooth, smooth_dr=smooth, reduction="none")``
    :cite:p:`cardoso2022monai` (output ``[N, 1, ...]`` squeezed to ``[N]``).
    """
    _check_masks(probs, target, smooth, reduction)
    intersection, predicted, volume = _overlap(probs, target, squared=False)
    denominator = predicted + volume
    volume = volume.detach()  # the weights are constants
    weight = torch.reciprocal(volume * volume)
    empty = torch.isinf(weight)
    weight = torch.where(empty, torch.zeros_like(weight), weight)
    largest = weight.amax(dim=1, keepdim=True)
    weight = torch.where(empty, largest.expand_as(weight), weight)
    numerator = 2.0 * (weight * intersection).sum(1) + smooth
    loss = 1.0 - numerator / ((weight * denominator).sum(1) + smooth)
    return V.reduce(loss.to(probs.dtype), reduction)
