"""Cases of the robust and task-specific regression losses (Huber family, log-cosh, MAPE,
MSLE, Poisson NLL, quantile). References: torch where it has the loss, else the formula
transcribed in float64 (never a call to losslib)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from . import Case, add, rand, randn


def _pair(g, dt, s, shape=(7, 3)):
    return (randn(g, *shape, dtype=dt, scale=s), randn(g, *shape, dtype=dt, scale=s)), {}


def _with(**kwargs):
    def make(g, dt, s):
        args, _ = _pair(g, dt, s)
        return args, dict(kwargs)

    return make


# ------------------------------------------------------------------ Huber family


def _huber_formula(x, y, delta=1.0):
    e = (x - y).abs()
    return torch.where(e <= delta, 0.5 * e**2, delta * (e - 0.5 * delta))


def _asymmetric_huber_formula(x, y, delta=1.0, alpha=2.0):
    e = x - y
    return torch.where(e >= 0, 1.0, alpha) * _huber_formula(x, y, delta)


add(Case("huber_loss", _pair, lambda x, y: F.huber_loss(x, y, reduction="none"), grad_args=(0, 1)))
add(
    Case(
        "huber_loss",
        _with(delta=0.4),
        lambda x, y, delta: F.huber_loss(x, y, reduction="none", delta=delta),
        label="delta=0.4",
        grad_args=(0, 1),
    )
)
add(Case("smooth_l1_loss", _pair, lambda x, y: F.smooth_l1_loss(x, y, reduction="none"), grad_args=(0, 1)))
add(
    Case(
        "smooth_l1_loss",
        _with(beta=2.5),
        lambda x, y, beta: F.smooth_l1_loss(x, y, reduction="none", beta=beta),
        label="beta=2.5",
        grad_args=(0, 1),
    )
)
add(Case("asymmetric_huber_loss", _pair, _asymmetric_huber_formula, grad_args=(0, 1)))
add(
    Case(
        "asymmetric_huber_loss",
        _with(delta=0.5, alpha=0.3),
        _asymmetric_huber_formula,
        label="delta=0.5,alpha=0.3",
        grad_args=(0, 1),
    )
)

# ------------------------------------------------------- log-cosh, MAPE, MSLE, quantile

add(Case("log_cosh_loss", _pair, lambda x, y: torch.log(torch.cosh(x - y)), grad_args=(0, 1)))


def _mape_make(g, dt, s, shape=(7, 3)):
    x = randn(g, *shape, dtype=torch.float64, scale=s)
    magnitude = 0.5 + randn(g, *shape, dtype=torch.float64).abs()  # targets away from 0
    sign = torch.where(randn(g, *shape, dtype=torch.float64) < 0, -1.0, 1.0)
    return (x.to(dt), (sign * magnitude * s).to(dt)), {}


add(
    Case(
        "mape_loss",
        _mape_make,
        lambda x, y: (x - y).abs() / y.abs().clamp_min(torch.finfo(y.dtype).eps),
        grad_args=(0, 1),
    )
)


def _msle_make(g, dt, s, shape=(7, 3)):
    x = rand(g, *shape, dtype=dt, low=-0.9, high=3.0 * s)
    y = rand(g, *shape, dtype=dt, low=-0.9, high=3.0 * s)
    return (x, y), {}


add(
    Case(
        "msle_loss",
        _msle_make,
        lambda x, y: (torch.log(1 + x) - torch.log(1 + y)) ** 2,
        grad_args=(0, 1),
    )
)


def _pinball(x, y, q=0.5):
    r = y - x
    return torch.where(r >= 0, q * r, (q - 1) * r)


add(Case("quantile_loss", _pair, _pinball, grad_args=(0, 1)))
add(Case("quantile_loss", _with(q=0.9), _pinball, label="q=0.9", grad_args=(0, 1)))

# ------------------------------------------------------------------- Poisson NLL


def _poisson_make(log_input, full):
    def make(g, dt, s, shape=(7, 3)):
        # ``scale`` enlarges the log-rate gently: a log-rate of 1e4 is not a float32 number
        # once exponentiated; 1 + log10(scale) gives log-rates up to ~ +-15 at scale 1e4.
        spread = 1.0 + math.log10(s)
        log_rate = randn(g, *shape, dtype=torch.float64, scale=spread)
        counts = torch.floor(rand(g, *shape, dtype=torch.float64, high=6.0))
        x = log_rate if log_input else log_rate.exp()
        return (x.to(dt), counts.to(dt)), {"log_input": log_input, "full": full}

    return make


def _poisson_formula(x, y, log_input, full, eps=1e-8):
    loss = x.exp() - y * x if log_input else x - y * torch.log(x + eps)
    if full:
        stirling = y * torch.log(y) - y + 0.5 * torch.log(2 * math.pi * y)
        loss = loss + torch.where(y > 1, stirling, torch.zeros_like(y))
    return loss


for _log_input in (True, False):
    for _full in (False, True):
        add(
            Case(
                "poisson_nll_loss",
                _poisson_make(_log_input, _full),
                _poisson_formula,
                label=f"log_input={_log_input},full={_full}",
                nonnegative=False,
            )
        )
