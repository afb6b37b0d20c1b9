"""Cases of the regression losses. References are transcriptions of the formulas."""

from __future__ import annotations

from . import Case, add, randn


def _pair(g, dt, s, shape=(7, 3)):
    return (randn(g, *shape, dtype=dt, scale=s), randn(g, *shape, dtype=dt, scale=s)), {}


add(Case("l1_loss", _pair, lambda x, y: (x - y).abs(), grad_args=(0, 1)))
add(Case("mse_loss", _pair, lambda x, y: (x - y) ** 2, grad_args=(0, 1)))
