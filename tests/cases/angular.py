"""Cases of the angular family (issue 3): ArcFace and CosFace against
pytorch-metric-learning, GE2E and the centre loss against float64 transcriptions of the
papers' formulas written with loops (independent of losslib's vectorised code)."""

from __future__ import annotations

import numpy as np
import torch
from pytorch_metric_learning import losses as pml
from pytorch_metric_learning.reducers import DoNothingReducer

from . import Case, add, randint, randn


def _pml_per_example(loss_fn, embeddings, weight, target):
    """pytorch-metric-learning's per-example losses (``DoNothingReducer`` skips its mean)."""
    loss_fn.W.data = weight.detach().T.clone().to(embeddings.dtype)
    return loss_fn(embeddings, target)["loss"]["losses"]


def ref_arcface(embeddings, weight, target, *, scale=64.0, margin=0.5):
    c, d = weight.shape
    loss_fn = pml.ArcFaceLoss(c, d, margin=float(np.degrees(margin)), scale=scale, reducer=DoNothingReducer())
    return _pml_per_example(loss_fn, embeddings, weight, target)


def ref_cosface(embeddings, weight, target, *, scale=64.0, margin=0.35):
    c, d = weight.shape
    loss_fn = pml.CosFaceLoss(c, d, margin=margin, scale=scale, reducer=DoNothingReducer())
    return _pml_per_example(loss_fn, embeddings, weight, target)


def _cos(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.dot(a, b) / (torch.linalg.vector_norm(a) * torch.linalg.vector_norm(b))


def ref_ge2e(embeddings, *, w=10.0, b=-5.0, method="softmax"):
    """Wan et al. (2018), eqs. (5)-(10), one utterance at a time."""
    x = embeddings.to(torch.float64)
    n, m, _ = x.shape
    e = [[x[j, i] / torch.linalg.vector_norm(x[j, i]) for i in range(m)] for j in range(n)]
    centroid = [sum(e[k]) / m for k in range(n)]
    out = torch.zeros(n, m, dtype=torch.float64)
    for j in range(n):
        for i in range(m):
            exclusive = sum(e[j][q] for q in range(m) if q != i) / (m - 1)
            sims = []
            for k in range(n):
                c = exclusive if k == j else centroid[k]
                sims.append(w * _cos(e[j][i], c) + b)
            if method == "softmax":
                out[j, i] = -sims[j] + torch.log(sum(torch.exp(s) for s in sims))
            else:
                sig = [1 / (1 + torch.exp(-s)) for s in sims]
                out[j, i] = 1 - sig[j] + max(sig[k] for k in range(n) if k != j)
    return out


def ref_center(features, centers, target):
    out = torch.zeros(features.shape[0], dtype=torch.float64)
    for i in range(features.shape[0]):
        d = features[i].to(torch.float64) - centers[int(target[i])].to(torch.float64)
        out[i] = 0.5 * sum(v * v for v in d)
    return out


def _classifier(n, c, d, **kwargs):
    def make(g, dt, s):
        return (randn(g, n, d, dtype=dt, scale=s), randn(g, c, d, dtype=dt), randint(g, c, n)), kwargs

    return make


for name, ref in (("arcface_loss", ref_arcface), ("cosface_loss", ref_cosface)):
    margin = 0.5 if name == "arcface_loss" else 0.35
    # a moderate scale keeps the bfloat16 comparison of the contract tests meaningful;
    # the default s = 64 is tested in tests/test_angular.py
    add(
        Case(
            name,
            _classifier(6, 4, 3, scale=8.0, margin=margin),
            ref,
            grad_args=(0, 1),
            batch_args=(0, 2),
            rtol=1e-6,
            atol=1e-8,
        )
    )
# margin 2.5 rad: theta + m > pi for every theta > 0.64, so the fallback branch is hit
add(
    Case(
        "arcface_loss",
        _classifier(8, 3, 3, scale=4.0, margin=2.5),
        ref_arcface,
        label="theta-plus-m-beyond-pi",
        grad_args=(0, 1),
        batch_args=(0, 2),
        rtol=1e-6,
        atol=1e-8,
    )
)

# GE2E takes one tensor; dim 0 (speakers) is its batch (its shape errors: test_angular.py).
for method in ("softmax", "contrast"):
    add(
        Case(
            "ge2e_loss",
            lambda g, dt, s, method=method: ((randn(g, 3, 3, 4, dtype=dt, scale=s),), {"method": method}),
            ref_ge2e,
            label=method,
            batch_args=(0,),
        )
    )
add(
    Case(
        "center_loss",
        lambda g, dt, s: (
            (randn(g, 6, 3, dtype=dt, scale=s), randn(g, 4, 3, dtype=dt), randint(g, 4, 6)),
            {},
        ),
        ref_center,
        grad_args=(0, 1),
        batch_args=(0, 2),
    )
)
