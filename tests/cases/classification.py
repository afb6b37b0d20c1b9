"""Cases of the cross-entropy family (issue 2). References are transcriptions of the
formulas in float64, independent of losslib (which calls torch's fused kernels)."""

from __future__ import annotations

import torch

from . import Case, add, rand, randint, randn


def _log_softmax(z: torch.Tensor) -> torch.Tensor:
    """log softmax over dim 1, written out: z - log sum exp z (max-shifted)."""
    m = z.amax(dim=1, keepdim=True)
    return z - m - torch.log(torch.exp(z - m).sum(dim=1, keepdim=True))


def _class_view(w: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Reshape class weights [C] to broadcast over [N, C, d1, ...]."""
    return w.reshape(1, -1, *([1] * (z.dim() - 2)))


def ref_bce(p, y, *, weight=None):
    log_p = torch.clamp(torch.log(p), min=-100.0)
    log_q = torch.clamp(torch.log(1 - p), min=-100.0)
    loss = -(y * log_p + (1 - y) * log_q)
    return loss if weight is None else weight * loss


def ref_bce_logits(z, y, *, weight=None, pos_weight=None):
    # log sigma(z) = -log(1 + e^{-z}), written with the max trick by hand
    def log_sigmoid(x):
        return -(torch.clamp(-x, min=0) + torch.log(torch.exp(-torch.abs(x)) + 1))

    pw = 1.0 if pos_weight is None else pos_weight
    loss = -(pw * y * log_sigmoid(z) + (1 - y) * log_sigmoid(-z))
    return loss if weight is None else weight * loss


def ref_cross_entropy(z, target, *, weight=None, label_smoothing=0.0):
    num_classes = z.shape[1]
    if target.is_floating_point():
        q = target
    else:
        q = torch.movedim(torch.nn.functional.one_hot(target, num_classes), -1, 1).to(z.dtype)
    q = (1 - label_smoothing) * q + label_smoothing / num_classes
    w = 1.0 if weight is None else _class_view(weight, z)
    return -(w * q * _log_softmax(z)).sum(dim=1)


def ref_nll(log_p, target, *, weight=None):
    picked = -log_p.gather(1, target.unsqueeze(1)).squeeze(1)
    return picked if weight is None else weight[target] * picked


def _probs(gen, dtype, scale):
    return torch.sigmoid(randn(gen, 6, 3, dtype=torch.float64, scale=scale)).to(dtype)


add(Case("binary_cross_entropy", lambda g, dt, s: ((_probs(g, dt, s), rand(g, 6, 3, dtype=dt)), {}), ref_bce))
add(
    Case(
        "binary_cross_entropy",
        lambda g, dt, s: (
            (_probs(g, dt, s), rand(g, 6, 3, dtype=dt)),
            {"weight": rand(g, 3, dtype=dt, high=2.0)},
        ),
        ref_bce,
        label="weight",
    )
)
add(
    Case(
        "binary_cross_entropy_with_logits",
        lambda g, dt, s: ((randn(g, 6, 3, dtype=dt, scale=s), rand(g, 6, 3, dtype=dt)), {}),
        ref_bce_logits,
    )
)
add(
    Case(
        "binary_cross_entropy_with_logits",
        lambda g, dt, s: (
            (randn(g, 6, 3, dtype=dt, scale=s), rand(g, 6, 3, dtype=dt)),
            {
                "weight": rand(g, 6, 1, dtype=dt, high=2.0),
                "pos_weight": rand(g, 3, dtype=dt, low=0.5, high=3.0),
            },
        ),
        ref_bce_logits,
        label="weights",
        batch_args=(0, 1),
        per_example=False,  # the [6, 1] weight is tied to the batch order
    )
)
add(
    Case(
        "cross_entropy",
        lambda g, dt, s: ((randn(g, 5, 4, dtype=dt, scale=s), randint(g, 4, 5)), {}),
        ref_cross_entropy,
        label="indices",
    )
)
add(
    Case(
        "cross_entropy",
        lambda g, dt, s: (
            (randn(g, 5, 4, dtype=dt, scale=s), torch.softmax(randn(g, 5, 4, dtype=torch.float64), 1).to(dt)),
            {"label_smoothing": 0.2},
        ),
        ref_cross_entropy,
        label="probabilities",
    )
)
add(
    Case(
        "cross_entropy",
        lambda g, dt, s: (
            (randn(g, 3, 4, 2, 2, dtype=dt, scale=s), randint(g, 4, 3, 2, 2)),
            {"weight": rand(g, 4, dtype=dt, low=0.5, high=2.0), "label_smoothing": 0.1},
        ),
        ref_cross_entropy,
        label="spatial-weight-smoothing",
    )
)
add(
    Case(
        "nll_loss",
        lambda g, dt, s: (
            (torch.log_softmax(randn(g, 5, 4, dtype=torch.float64, scale=s), 1).to(dt), randint(g, 4, 5)),
            {"weight": rand(g, 4, dtype=dt, low=0.5, high=2.0)},
        ),
        ref_nll,
    )
)
