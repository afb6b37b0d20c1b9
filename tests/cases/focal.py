"""Cases of the focal losses (Part II, issue 3).

References are written from the formulas in float64, independent of losslib: the softmax
focal loss from Lin et al.'s multi-class form, the sigmoid one transcribed line by line
from ``torchvision.ops.sigmoid_focal_loss`` (torchvision is not importable here).
"""

from __future__ import annotations

import torch

from . import Case, add, rand, randint, randn


def ref_focal(z, target, *, gamma=2.0, alpha=None):
    """-alpha_y (1 - p_y)^gamma log p_y with p = softmax(z) over dim 1, written out."""
    m = z.amax(dim=1, keepdim=True)
    e = torch.exp(z - m)
    p = e / e.sum(dim=1, keepdim=True)
    p_y = p.gather(1, target.unsqueeze(1)).squeeze(1)
    loss = -((1 - p_y) ** gamma) * torch.log(p_y)
    if isinstance(alpha, torch.Tensor):
        loss = alpha[target] * loss
    elif alpha is not None:
        loss = alpha * loss
    return loss


def ref_sigmoid_focal(inputs, targets, *, alpha=0.25, gamma=2.0):
    """torchvision.ops.sigmoid_focal_loss(reduction="none"), transcribed; alpha=None -> -1."""
    if alpha is None:
        alpha = -1
    p = torch.sigmoid(inputs)
    ce_loss = torch.nn.functional.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    return loss


add(
    Case(
        "focal_loss",
        lambda g, dt, s: ((randn(g, 6, 4, dtype=dt, scale=s), randint(g, 4, 6)), {}),
        ref_focal,
        label="indices",
    )
)
add(
    Case(
        "focal_loss",
        lambda g, dt, s: (
            (randn(g, 6, 4, dtype=dt, scale=s), randint(g, 4, 6)),
            {"gamma": 0.5, "alpha": 0.75},
        ),
        ref_focal,
        label="gamma-below-one-alpha-float",
    )
)
add(
    Case(
        "focal_loss",
        lambda g, dt, s: (
            (randn(g, 3, 4, 2, 2, dtype=dt, scale=s), randint(g, 4, 3, 2, 2)),
            {"gamma": 1.5, "alpha": rand(g, 4, dtype=dt, low=0.1, high=1.0)},
        ),
        ref_focal,
        label="spatial-alpha-tensor",
    )
)
add(
    Case(
        "sigmoid_focal_loss",
        lambda g, dt, s: ((randn(g, 8, dtype=dt, scale=s), randint(g, 2, 8).to(dt)), {}),
        ref_sigmoid_focal,
        label="binary",
    )
)
add(
    Case(
        "sigmoid_focal_loss",
        lambda g, dt, s: (
            (randn(g, 6, 3, dtype=dt, scale=s), randint(g, 2, 6, 3).to(dt)),
            {"alpha": 0.6, "gamma": 1.0},
        ),
        ref_sigmoid_focal,
        label="multi-label",
    )
)
add(
    Case(
        "sigmoid_focal_loss",
        lambda g, dt, s: (
            (randn(g, 6, 3, dtype=dt, scale=s), rand(g, 6, 3, dtype=dt)),
            {"alpha": None, "gamma": 0.5},
        ),
        ref_sigmoid_focal,
        label="soft-targets-no-alpha-gamma-below-one",
    )
)
