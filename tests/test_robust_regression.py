"""Huber family, log-cosh, MAPE, MSLE, Poisson NLL and quantile loss: what is specific.

Torch equality for every option, the exact Huber / Smooth L1 relation, the asymmetric
Huber loss continuous and C^1 (where the seed's piecewise form is not), log-cosh at huge
residuals, the documented errors, and the quantile property of the pinball loss.
"""

from __future__ import annotations

import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import losslib

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)
REDUCTIONS = ["mean", "sum", "none"]


def _data(seed=0, shape=(6, 5), dtype=torch.float64, scale=2.0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(*shape, generator=g, dtype=torch.float64) * scale
    y = torch.randn(*shape, generator=g, dtype=torch.float64) * scale
    return x.to(dtype), y.to(dtype)


# --------------------------------------------------------------------- torch equality


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("delta", [0.1, 1.0, 3.0])
def test_huber_equals_torch(delta, reduction, dtype):
    x, y = _data(dtype=dtype)
    torch.testing.assert_close(
        losslib.huber_loss(x, y, delta=delta, reduction=reduction),
        F.huber_loss(x, y, delta=delta, reduction=reduction),
    )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("beta", [0.1, 1.0, 3.0])
def test_smooth_l1_equals_torch(beta, reduction, dtype):
    x, y = _data(dtype=dtype)
    torch.testing.assert_close(
        losslib.smooth_l1_loss(x, y, beta=beta, reduction=reduction),
        F.smooth_l1_loss(x, y, beta=beta, reduction=reduction),
    )


def _counts_and_rates(seed=0):
    g = torch.Generator().manual_seed(seed)
    log_rate = torch.randn(8, 4, generator=g, dtype=torch.float64)
    counts = torch.poisson(log_rate.exp() * 2, generator=g)
    counts[0, :2] = torch.tensor([0.0, 1.0])  # the y <= 1 branch of the Stirling term
    return log_rate, counts


@pytest.mark.parametrize(
    ("log_input", "full", "eps", "reduction"),
    list(itertools.product([True, False], [True, False], [1e-8, 0.5], REDUCTIONS)),
)
def test_poisson_nll_equals_torch_for_every_option(log_input, full, eps, reduction):
    log_rate, counts = _counts_and_rates()
    x = log_rate if log_input else log_rate.exp()
    got = losslib.poisson_nll_loss(x, counts, log_input=log_input, full=full, eps=eps, reduction=reduction)
    want = F.poisson_nll_loss(x, counts, log_input=log_input, full=full, eps=eps, reduction=reduction)
    torch.testing.assert_close(got, want)


def test_poisson_nll_is_negative_somewhere_and_minimal_at_the_count():
    # lambda - y log lambda is minimised at lambda = y, where it equals y - y log y < 0 for y > e
    counts = torch.tensor([5.0, 8.0], dtype=torch.float64)
    at_count = losslib.poisson_nll_loss(counts, counts, log_input=False, reduction="none")
    assert (at_count < 0).all()
    for factor in (0.5, 0.9, 1.1, 2.0):
        other = losslib.poisson_nll_loss(counts * factor, counts, log_input=False, reduction="none")
        assert (other > at_count).all()


# -------------------------------------------------------------------- Huber / Smooth L1


@SETTINGS
@given(beta=st.floats(1e-3, 1e3), seed=st.integers(0, 2**16))
def test_smooth_l1_is_huber_divided_by_beta(beta, seed):
    x, y = _data(seed, scale=beta)  # residuals on both sides of the threshold
    torch.testing.assert_close(
        losslib.smooth_l1_loss(x, y, beta=beta, reduction="none"),
        losslib.huber_loss(x, y, delta=beta, reduction="none") / beta,
    )


def test_huber_derivative_is_the_clipped_residual():
    e = torch.linspace(-4, 4, 81, dtype=torch.float64, requires_grad=True)
    for delta in (0.5, 1.0, 2.0):
        (grad,) = torch.autograd.grad(losslib.huber_loss(e, torch.zeros_like(e), delta=delta, reduction="sum"), e)
        torch.testing.assert_close(grad, e.detach().clamp(-delta, delta))


# ---------------------------------------------------------------------- asymmetric Huber


def _loss_at(fn, points):
    x = torch.tensor(points, dtype=torch.float64)
    return fn(x, torch.zeros_like(x))


def _one_sided_derivatives(fn, point, h=1e-6):
    left = (_loss_at(fn, [point]) - _loss_at(fn, [point - h])) / h
    right = (_loss_at(fn, [point + h]) - _loss_at(fn, [point])) / h
    return float(left), float(right)


def _jump(fn, point, h=1e-9):
    return float((_loss_at(fn, [point + h]) - _loss_at(fn, [point - h])).abs())


def _seed_asymmetric_huber(x, y, delta=1.0, alpha=2.0):
    """Seeds 000/001 as written: alpha scales only the linear branch below -delta."""
    a = x - y
    return torch.where(
        a.abs() <= delta,
        0.5 * a**2,
        torch.where(a > delta, delta * (a.abs() - 0.5 * delta), alpha * delta * (a.abs() - 0.5 * delta)),
    )


@pytest.mark.parametrize("alpha", [0.25, 2.0, 5.0])
@pytest.mark.parametrize("delta", [0.5, 1.0, 2.0])
def test_asymmetric_huber_is_continuous_and_c1(delta, alpha):
    def fn(x, y):
        return losslib.asymmetric_huber_loss(x, y, delta=delta, alpha=alpha, reduction="none")

    for point in (-delta, 0.0, delta):
        assert _jump(fn, point) < 1e-6, f"jump at {point}"
        left, right = _one_sided_derivatives(fn, point)
        assert abs(left - right) < 1e-4, f"kink at {point}: {left} vs {right}"
        # autograd just left and just right of the point agree with each other too
        x = torch.tensor([point - 1e-7, point + 1e-7], dtype=torch.float64, requires_grad=True)
        (g,) = torch.autograd.grad(fn(x, torch.zeros_like(x)).sum(), x)
        assert abs(float(g[0] - g[1])) < 1e-4
    # the slopes there are the Huber slopes, scaled by alpha on the negative side
    assert _one_sided_derivatives(fn, -delta)[0] == pytest.approx(-alpha * delta, rel=1e-4)
    assert _one_sided_derivatives(fn, delta)[1] == pytest.approx(delta, rel=1e-4)


def test_the_seed_asymmetric_huber_is_neither_continuous_nor_c1():
    """The same checks reject the seeds' form for alpha != 1: they are not vacuous."""
    delta, alpha = 1.0, 2.0
    assert _jump(_seed_asymmetric_huber, -delta) == pytest.approx((alpha - 1) * delta**2 / 2, rel=1e-6)
    # slopes just left and just right of -delta (autograd; a difference quotient across the
    # jump would be dominated by the jump itself)
    x = torch.tensor([-delta - 1e-7, -delta + 1e-7], dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(_seed_asymmetric_huber(x, torch.zeros_like(x)).sum(), x)
    assert float(g[0]) == pytest.approx(-alpha * delta, rel=1e-4)
    assert float(g[1]) == pytest.approx(-delta, rel=1e-4)


@SETTINGS
@given(delta=st.floats(0.01, 100.0), seed=st.integers(0, 2**16))
def test_asymmetric_huber_with_alpha_one_is_huber(delta, seed):
    x, y = _data(seed, scale=delta)
    torch.testing.assert_close(
        losslib.asymmetric_huber_loss(x, y, delta=delta, alpha=1.0, reduction="none"),
        losslib.huber_loss(x, y, delta=delta, reduction="none"),
    )


@SETTINGS
@given(alpha=st.floats(0.01, 100.0), t=st.floats(1e-3, 1e3))
def test_asymmetric_huber_weights_under_prediction_by_alpha(alpha, t):
    y = torch.zeros(1, dtype=torch.float64)
    under = losslib.asymmetric_huber_loss(y - t, y, alpha=alpha)
    over = losslib.asymmetric_huber_loss(y + t, y, alpha=alpha)
    torch.testing.assert_close(under, alpha * over)


# ------------------------------------------------------------------------- log-cosh


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_log_cosh_is_finite_at_residual_1e4_in_float32(sign):
    x = torch.full((3,), sign * 1e4, dtype=torch.float32, requires_grad=True)
    y = torch.zeros(3, dtype=torch.float32)
    assert torch.isinf(torch.log(torch.cosh(x.detach()))).all()  # the naive form overflows
    loss = losslib.log_cosh_loss(x, y, reduction="none")
    assert torch.isfinite(loss).all()
    torch.testing.assert_close(loss, torch.full_like(loss, 1e4 - math.log(2)))
    (grad,) = torch.autograd.grad(loss.sum(), x)
    torch.testing.assert_close(grad, torch.full_like(grad, sign))


def test_log_cosh_matches_the_definition_and_has_gradient_tanh():
    e = torch.linspace(-30, 30, 241, dtype=torch.float64, requires_grad=True)
    loss = losslib.log_cosh_loss(e, torch.zeros_like(e), reduction="none")
    torch.testing.assert_close(loss, torch.log(torch.cosh(e.detach())), rtol=1e-12, atol=1e-14)
    (grad,) = torch.autograd.grad(loss.sum(), e)
    torch.testing.assert_close(grad, torch.tanh(e.detach()))


# ---------------------------------------------------------------------------- MAPE


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_mape_with_zero_target_divides_by_eps(dtype):
    x = torch.tensor([1.0, 3.0], dtype=dtype)
    y = torch.tensor([0.0, 2.0], dtype=dtype)
    got = losslib.mape_loss(x, y, reduction="none")
    eps = torch.finfo(dtype).eps
    torch.testing.assert_close(got, torch.tensor([1.0 / eps, 0.5], dtype=dtype))
    assert torch.isfinite(got).all()


@SETTINGS
@given(c=st.floats(1e-3, 1e3), seed=st.integers(0, 2**16))
def test_mape_is_a_scale_free_fraction(c, seed):
    x, y = _data(seed)
    torch.testing.assert_close(losslib.mape_loss(c * x, c * y), losslib.mape_loss(x, y))
    # a 10 % over-forecast is 0.1, not 10
    positive = y.abs() + 1
    torch.testing.assert_close(losslib.mape_loss(1.1 * positive, positive), torch.tensor(0.1, dtype=y.dtype))


# ---------------------------------------------------------------------------- MSLE


@pytest.mark.parametrize("where", ["input", "target"])
@pytest.mark.parametrize("bad", [-1.0, -3.0])
def test_msle_rejects_values_at_or_below_minus_one(where, bad):
    x = torch.tensor([0.5, 2.0])
    y = torch.tensor([1.0, 1.0])
    if where == "input":
        x[1] = bad
    else:
        y[1] = bad
    with pytest.raises(ValueError, match=rf"{where} must be greater than -1.0, got a minimum of {bad}"):
        losslib.msle_loss(x, y)
    with losslib.value_checks(False):  # the documented switch: no check, NaN or inf instead
        assert not torch.isfinite(losslib.msle_loss(x, y))


def test_msle_is_the_squared_log_ratio():
    x = torch.tensor([0.0, 9.0, 99.0], dtype=torch.float64)
    y = torch.tensor([1.0, 0.0, 9.0], dtype=torch.float64)
    torch.testing.assert_close(losslib.msle_loss(x, y, reduction="none"), torch.log((1 + x) / (1 + y)) ** 2)


# ------------------------------------------------------------------------ quantile


@SETTINGS
@given(
    ys=st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=40),
    q=st.floats(0.01, 0.99),
    c=st.floats(-2e3, 2e3),
)
def test_the_constant_minimising_the_pinball_loss_is_the_q_quantile(ys, q, c):
    y = torch.tensor(ys, dtype=torch.float64)
    n = y.numel()
    k = max(math.ceil(n * q), 1)  # the k-th order statistic is a q-quantile
    quantile = torch.sort(y).values[k - 1]

    def mean_loss(value):
        return losslib.quantile_loss(torch.full_like(y, float(value)), y, q=q)

    best = mean_loss(quantile)
    assert best <= mean_loss(c) + 1e-9
    for candidate in y:  # the minimum over constants is attained at a data point
        assert best <= mean_loss(candidate) + 1e-9


@SETTINGS
@given(seed=st.integers(0, 2**16))
def test_quantile_half_is_half_the_mae(seed):
    x, y = _data(seed)
    torch.testing.assert_close(losslib.quantile_loss(x, y, q=0.5), 0.5 * F.l1_loss(x, y))


def test_quantile_costs_q_per_unit_under_and_one_minus_q_over():
    y = torch.tensor([0.0, 0.0], dtype=torch.float64)
    x = torch.tensor([-2.0, 2.0], dtype=torch.float64)  # under-, then over-prediction
    torch.testing.assert_close(
        losslib.quantile_loss(x, y, q=0.9, reduction="none"), torch.tensor([1.8, 0.2], dtype=torch.float64)
    )


# --------------------------------------------------------------------------- errors

ERRORS = [
    ("huber_loss", {"delta": 0.0}, ValueError, r"delta must be positive, got 0.0"),
    ("huber_loss", {"delta": -1.0}, ValueError, r"delta must be positive, got -1.0"),
    ("huber_loss", {"delta": float("nan")}, ValueError, r"delta must be finite"),
    ("huber_loss", {"delta": "1"}, TypeError, r"delta must be a real number, got str"),
    ("smooth_l1_loss", {"beta": 0.0}, ValueError, r"beta must be positive, got 0.0"),
    ("smooth_l1_loss", {"beta": -0.5}, ValueError, r"beta must be positive, got -0.5"),
    ("asymmetric_huber_loss", {"delta": 0.0}, ValueError, r"delta must be positive, got 0.0"),
    ("asymmetric_huber_loss", {"alpha": 0.0}, ValueError, r"alpha must be positive, got 0.0"),
    ("asymmetric_huber_loss", {"alpha": -2.0}, ValueError, r"alpha must be positive, got -2.0"),
    ("quantile_loss", {"q": 0.0}, ValueError, r"q must lie in \(0.0, 1.0\), got 0.0"),
    ("quantile_loss", {"q": 1.0}, ValueError, r"q must lie in \(0.0, 1.0\), got 1.0"),
    ("quantile_loss", {"q": 1.5}, ValueError, r"q must lie in \(0.0, 1.0\), got 1.5"),
    ("quantile_loss", {"q": None}, TypeError, r"q must be a real number, got NoneType"),
    ("poisson_nll_loss", {"eps": -1e-8}, ValueError, r"eps must be non-negative, got -1e-08"),
    ("poisson_nll_loss", {"log_input": "yes"}, ValueError, r"log_input must be one of \(True, False\)"),
    ("poisson_nll_loss", {"full": 2}, ValueError, r"full must be one of \(True, False\), got 2"),
]


@pytest.mark.parametrize(("name", "kwargs", "error", "message"), ERRORS, ids=[f"{e[0]}-{e[1]}" for e in ERRORS])
def test_bad_hyper_parameters_raise_with_their_message(name, kwargs, error, message):
    x, y = _data()
    with pytest.raises(error, match=message):
        getattr(losslib, name)(x, y.abs(), **kwargs)


def test_poisson_rejects_negative_counts_and_rates():
    rates = torch.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"target must hold non-negative values, got a minimum of -1.0"):
        losslib.poisson_nll_loss(rates.log(), torch.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"input must hold non-negative values, got a minimum of -2.0"):
        losslib.poisson_nll_loss(torch.tensor([1.0, -2.0]), torch.tensor([1.0, 0.0]), log_input=False)
    # with log_input=True a negative input is a valid log-rate
    assert torch.isfinite(losslib.poisson_nll_loss(torch.tensor([-2.0]), torch.tensor([1.0])))


@pytest.mark.parametrize(
    "name",
    ["huber_loss", "smooth_l1_loss", "asymmetric_huber_loss", "log_cosh_loss", "mape_loss", "quantile_loss"],
)
def test_no_silent_broadcasting(name):
    with pytest.raises(ValueError, match=r"target must have the shape of input \(5, 1\), got shape \(5,\)"):
        getattr(losslib, name)(torch.ones(5, 1), torch.ones(5))


# ------------------------------------------------------------- scikit-learn's metrics


def test_mape_msle_and_pinball_equal_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    x, y = _data(seed=4)
    px, py = x.exp(), y.exp()
    torch.testing.assert_close(
        losslib.mape_loss(x, y).item(), metrics.mean_absolute_percentage_error(y.numpy(), x.numpy())
    )
    torch.testing.assert_close(losslib.msle_loss(px, py).item(), metrics.mean_squared_log_error(py.numpy(), px.numpy()))
    for q in (0.1, 0.5, 0.8):
        torch.testing.assert_close(
            losslib.quantile_loss(x, y, q=q).item(), metrics.mean_pinball_loss(y.numpy(), x.numpy(), alpha=q)
        )
