"""Cases of RMSE, NMAE and the Lp loss. References are float64 transcriptions of the formulas.

RMSE and NMAE have no ``reduction`` (one number for the whole tensor), so their cases set
``reductions=False, per_example=False``.
"""

from __future__ import annotations

from . import Case, add, randn


def _pair(g, dt, s, shape=(7, 3)):
    return (randn(g, *shape, dtype=dt, scale=s), randn(g, *shape, dtype=dt, scale=s)), {}


def _rmse(x, y):
    return ((x.double() - y.double()) ** 2).mean().sqrt()


add(Case("rmse_loss", _pair, _rmse, grad_args=(0, 1), reductions=False, per_example=False))


def _normaliser(y, norm):
    y = y.double()
    if norm == "range":
        return y.max() - y.min()
    if norm == "mean":
        return y.mean().abs()
    if norm == "max":
        return y.abs().max()
    return float(norm)


def _nmae(x, y, *, norm):
    return (x.double() - y.double()).abs().mean() / _normaliser(y, norm)


def _nmae_make(norm, offset=0.0):
    def make(g, dt, s):
        x = randn(g, 7, 3, dtype=dt, scale=s)
        y = ((randn(g, 7, 3, dtype=dt).double() + offset) * s).to(dt)
        return (x, y), {"norm": norm}

    return make


for _norm, _offset in (("range", 0.0), ("mean", 3.0), ("max", 0.0), (2.5, 0.0)):
    add(
        Case(
            "nmae_loss",
            _nmae_make(_norm, _offset),
            _nmae,
            label=f"norm={_norm}",
            grad_args=(0, 1),
            reductions=False,
            per_example=False,
        )
    )
# a negative mean: the normaliser is |mean|, so the NMAE stays non-negative
add(
    Case(
        "nmae_loss",
        _nmae_make("mean", -3.0),
        _nmae,
        label="norm=mean,negative",
        grad_args=(0, 1),
        reductions=False,
        per_example=False,
    )
)


def _lp_make(p):
    def make(g, dt, s):
        (x, y), _ = _pair(g, dt, s)
        return (x, y), {"p": p}

    return make


def _lp(x, y, *, p):
    return (x.double() - y.double()).abs() ** p


for _p in (0.5, 1.0, 1.5, 2.0, 3.0):
    add(Case("lp_loss", _lp_make(_p), _lp, label=f"p={_p:g}", grad_args=(0, 1)))
