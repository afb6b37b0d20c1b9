"""Cases of the margin (SVM) losses (issue 3). References are float64 transcriptions of
the formulas (elementwise ``max`` via ``torch.where``, the logistic loss via ``log1p``),
independent of losslib, which uses ``relu`` and ``softplus``."""

from __future__ import annotations

import torch

from . import Case, add, randint, randn


def _labels(gen: torch.Generator, *shape: int, dtype: torch.dtype) -> torch.Tensor:
    """Random labels in {-1, +1}."""
    return (2 * torch.randint(0, 2, shape, generator=gen) - 1).to(dtype)


def _positive_part(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x > 0, x, torch.zeros_like(x))


def ref_hinge(s, t, *, margin=1.0):
    return _positive_part(margin - t * s)


def ref_squared_hinge(s, t, *, margin=1.0):
    v = _positive_part(margin - t * s)
    return v * v


def ref_soft_margin(s, t):
    # log(1 + e^{-z}) = max(-z, 0) + log(1 + e^{-|z|})
    z = t * s
    return _positive_part(-z) + torch.log1p(torch.exp(-z.abs()))


def ref_multiclass_hinge(x, y, *, margin=1.0, squared=False):
    """Loop over the wrong classes, as in the Weston-Watkins sum."""
    n, c = x.shape[0], x.shape[1]
    out = torch.zeros((n, *x.shape[2:]), dtype=x.dtype)
    sy = x.gather(1, y.unsqueeze(1)).squeeze(1)
    for j in range(c):
        v = _positive_part(margin - sy + x[:, j])
        v = v * v if squared else v
        out = out + torch.where(y == j, torch.zeros_like(v), v)
    return out


def _binary(gen, dtype, scale, shape=(6, 3)):
    return (randn(gen, *shape, dtype=dtype, scale=scale), _labels(gen, *shape, dtype=dtype))


add(Case("hinge_loss", lambda g, dt, s: (_binary(g, dt, s), {}), ref_hinge))
add(
    Case(
        "hinge_loss",
        lambda g, dt, s: (_binary(g, dt, s, (7,)), {"margin": 0.5}),
        ref_hinge,
        label="margin-0.5",
    )
)
add(Case("squared_hinge_loss", lambda g, dt, s: (_binary(g, dt, s), {}), ref_squared_hinge))
add(
    Case(
        "squared_hinge_loss",
        lambda g, dt, s: (_binary(g, dt, s, (7,)), {"margin": 2.0}),
        ref_squared_hinge,
        label="margin-2",
    )
)
add(Case("soft_margin_loss", lambda g, dt, s: (_binary(g, dt, s), {}), ref_soft_margin))
add(
    Case(
        "multiclass_hinge_loss",
        lambda g, dt, s: ((randn(g, 6, 4, dtype=dt, scale=s), randint(g, 4, 6)), {}),
        ref_multiclass_hinge,
    )
)
add(
    Case(
        "multiclass_hinge_loss",
        lambda g, dt, s: (
            (randn(g, 5, 3, dtype=dt, scale=s), randint(g, 3, 5)),
            {"margin": 0.5, "squared": True},
        ),
        ref_multiclass_hinge,
        label="squared",
    )
)
add(
    Case(
        "multiclass_hinge_loss",
        lambda g, dt, s: ((randn(g, 3, 4, 2, 2, dtype=dt, scale=s), randint(g, 4, 3, 2, 2)), {}),
        ref_multiclass_hinge,
        label="spatial",
    )
)
