"""Cases of the segmentation losses (issue 3, Dice). References are MONAI's ``DiceLoss``
and ``GeneralizedDiceLoss`` (imported lazily: ``import monai`` is slow), whose
``reduction="none"`` outputs ``[N, C, 1, ...]`` / ``[N, 1, ...]`` are reshaped to the
losslib shapes ``[N, C]`` / ``[N]``. Every case has a class that is empty in the target
of some sample, the hard case of the issue."""

from __future__ import annotations

import torch

from . import Case, add, rand, randint, randn


def _softmax_probs(gen: torch.Generator, *shape: int, dtype: torch.dtype, scale: float) -> torch.Tensor:
    """Per-pixel class probabilities, softmax over dim 1 of scaled normal logits."""
    return torch.softmax(randn(gen, *shape, dtype=torch.float64, scale=scale), dim=1).to(dtype)


def _sigmoid_probs(gen: torch.Generator, *shape: int, dtype: torch.dtype, scale: float) -> torch.Tensor:
    return torch.sigmoid(randn(gen, *shape, dtype=torch.float64, scale=scale)).to(dtype)


def _one_hot(gen: torch.Generator, n: int, c: int, *spatial: int, dtype: torch.dtype, used: int) -> torch.Tensor:
    """One-hot masks ``[n, c, *spatial]`` that use only the first ``used`` classes."""
    labels = randint(gen, used, n, *spatial)
    return torch.movedim(torch.nn.functional.one_hot(labels, c), -1, 1).to(dtype)


def ref_monai_dice(p, g, *, squared=True, smooth=1e-5):
    from monai.losses import DiceLoss

    loss = DiceLoss(squared_pred=squared, smooth_nr=smooth, smooth_dr=smooth, reduction="none")
    return loss(p, g).reshape(p.shape[:2])


def ref_monai_generalized_dice(p, g, *, smooth=1e-5):
    from monai.losses import GeneralizedDiceLoss

    loss = GeneralizedDiceLoss(smooth_nr=smooth, smooth_dr=smooth, reduction="none")
    return loss(p, g).reshape(p.shape[:1])


def _binary_masks(gen, n, c, *spatial, dtype):
    """Independent binary masks (multi-label); sample 0's last channel is emptied."""
    g = (rand(gen, n, c, *spatial, dtype=torch.float64) < 0.3).to(dtype)
    g[0, -1] = 0
    return g


add(
    Case(
        "dice_loss",
        lambda g, dt, s: (
            (_softmax_probs(g, 4, 3, 5, 5, dtype=dt, scale=s), _one_hot(g, 4, 3, 5, 5, dtype=dt, used=2)),
            {},
        ),
        ref_monai_dice,
        label="squared-2d-empty-class",
    )
)
add(
    Case(
        "dice_loss",
        lambda g, dt, s: (
            (_sigmoid_probs(g, 3, 2, 8, dtype=dt, scale=s), _binary_masks(g, 3, 2, 8, dtype=dt)),
            {"squared": False, "smooth": 0.5},
        ),
        ref_monai_dice,
        label="linear-1d-smooth",
    )
)
add(
    Case(
        "dice_loss",
        lambda g, dt, s: (
            (_sigmoid_probs(g, 2, 2, 3, 3, 3, dtype=dt, scale=s), rand(g, 2, 2, 3, 3, 3, dtype=dt)),
            {"squared": True, "smooth": 1e-3},
        ),
        ref_monai_dice,
        label="soft-target-3d",
    )
)
add(
    Case(
        "generalized_dice_loss",
        lambda g, dt, s: (
            (_softmax_probs(g, 4, 3, 5, 5, dtype=dt, scale=s), _one_hot(g, 4, 3, 5, 5, dtype=dt, used=2)),
            {},
        ),
        ref_monai_generalized_dice,
        label="2d-empty-class",
        # MONAI computes the class weights in float32 (``ground_o.float()``)
        rtol=1e-6,
        atol=1e-8,
    )
)
add(
    Case(
        "generalized_dice_loss",
        lambda g, dt, s: (
            (_sigmoid_probs(g, 2, 3, 3, 4, 4, dtype=dt, scale=s), _binary_masks(g, 2, 3, 3, 4, 4, dtype=dt)),
            {"smooth": 1e-2},
        ),
        ref_monai_generalized_dice,
        label="3d-multilabel-smooth",
        rtol=1e-6,
        atol=1e-8,
    )
)
