"""rmse_loss, nmae_loss, lp_loss: references, the hard cases and properties.

Hard cases of the issue: the gradient of RMSE at zero error (the square root has an
infinite slope at 0), zero normalisers of NMAE, and the gradient of |e|^p at e = 0.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import losslib

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True)
DTYPES = [torch.float32, torch.float64]


def pair(seed=0, shape=(6, 4), dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=dtype), torch.randn(*shape, generator=g, dtype=dtype)


# ----------------------------------------------------------------------------- RMSE


@pytest.mark.parametrize("shape", [(1,), (10,), (4, 5), (2, 3, 4)])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_rmse_is_the_square_root_of_torch_mse(shape, dtype):
    x, y = pair(1, shape, dtype)
    torch.testing.assert_close(losslib.rmse_loss(x, y), torch.sqrt(F.mse_loss(x, y)))


def test_rmse_is_a_scalar_and_takes_no_reduction():
    x, y = pair()
    assert losslib.rmse_loss(x, y).shape == ()
    with pytest.raises(TypeError):
        losslib.rmse_loss(x, y, reduction="none")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16], ids=str)
def test_rmse_gradient_at_zero_error_is_finite_and_zero(dtype):
    y = pair(2, dtype=dtype)[1]
    x = y.clone().requires_grad_(True)
    target = y.clone().requires_grad_(True)
    loss = losslib.rmse_loss(x, target)
    assert loss.item() == 0.0
    gx, gy = torch.autograd.grad(loss, [x, target])
    assert torch.isfinite(gx).all() and torch.isfinite(gy).all()
    assert (gx == 0).all() and (gy == 0).all()


def test_naive_sqrt_of_mse_is_nan_at_zero_error():
    # documents why the safe form exists: autograd of sqrt(mse) gives 0 * inf = nan
    y = pair(2)[1]
    x = y.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(torch.sqrt(F.mse_loss(x, y)), x)
    assert torch.isnan(g).all()


@pytest.mark.parametrize("seed", range(3))
def test_rmse_gradient_elsewhere_is_e_over_n_rmse(seed):
    x, y = pair(seed)
    x.requires_grad_(True)
    loss = losslib.rmse_loss(x, y)
    (g,) = torch.autograd.grad(loss, x)
    e = (x - y).detach()
    n = e.numel()
    analytic = e / (n * math.sqrt(float((e**2).mean())))
    torch.testing.assert_close(g, analytic)


def test_rmse_gradient_with_a_single_nonzero_residual():
    # RMSE = |e_k| / sqrt(n): gradient sign(e_k)/sqrt(n) at k, 0 elsewhere
    y = torch.zeros(9, dtype=torch.float64)
    x = y.clone()
    x[4] = -2.0
    x.requires_grad_(True)
    loss = losslib.rmse_loss(x, y)
    assert loss.item() == pytest.approx(2.0 / 3.0)
    (g,) = torch.autograd.grad(loss, x)
    want = torch.zeros(9, dtype=torch.float64)
    want[4] = -1.0 / 3.0
    torch.testing.assert_close(g, want)


def test_rmse_does_not_overflow_in_float32():
    x, y = pair(3, dtype=torch.float64)
    big = 1e20  # (1e20)^2 overflows float32, the scaled form does not
    want = torch.sqrt(((x - y) ** 2).mean()) * big
    got = losslib.rmse_loss((x * big).float(), (y * big).float())
    assert torch.isfinite(got)
    torch.testing.assert_close(got.double(), want, rtol=1e-5, atol=0)


# ----------------------------------------------------------------------------- NMAE

# hand-computed: errors 1, 0, 2, 0 -> MAE 0.75; target range 5, mean 3, max |.| 6
X = torch.tensor([2.0, 2.0, 5.0, 6.0], dtype=torch.float64)
Y = torch.tensor([1.0, 2.0, 3.0, 6.0], dtype=torch.float64)


@pytest.mark.parametrize(("norm", "want"), [("range", 0.15), ("mean", 0.25), ("max", 0.125), (1.5, 0.5)])
def test_nmae_hand_computed(norm, want):
    assert losslib.nmae_loss(X, Y, norm=norm).item() == pytest.approx(want)


def test_nmae_default_is_range():
    torch.testing.assert_close(losslib.nmae_loss(X, Y), losslib.nmae_loss(X, Y, norm="range"))


def transcription(x, y, norm):
    mae = sum(abs(a - b) for a, b in zip(x.tolist(), y.tolist(), strict=True)) / x.numel()
    ys = y.tolist()
    z = {
        "range": max(ys) - min(ys),
        "mean": abs(sum(ys) / len(ys)),
        "max": max(abs(v) for v in ys),
    }.get(norm, norm)
    return mae / z


@pytest.mark.parametrize("norm", ["range", "mean", "max", 0.7, 3])
@pytest.mark.parametrize("seed", range(3))
def test_nmae_matches_a_transcription(norm, seed):
    x, y = pair(seed, (12,))
    y = y + 0.5  # keep the mean away from 0
    assert losslib.nmae_loss(x, y, norm=norm).item() == pytest.approx(transcription(x, y, norm), rel=1e-12)


def test_nmae_mean_uses_the_absolute_value_of_the_mean():
    assert losslib.nmae_loss(-X, -Y, norm="mean").item() == pytest.approx(0.25)


@pytest.mark.parametrize(
    ("target", "norm", "match"),
    [
        (torch.full((5,), 3.0), "range", r"normaliser of norm='range' must be non-zero.*constant"),
        (torch.tensor([-1.0, 1.0, -2.0, 2.0]), "mean", r"norm='mean' must be non-zero.*mean zero"),
        (torch.zeros(4), "max", r"norm='max' must be non-zero.*all zeros"),
    ],
)
def test_nmae_zero_normaliser_raises(target, norm, match):
    with pytest.raises(ValueError, match=match):
        losslib.nmae_loss(torch.randn(target.shape), target, norm=norm)


@pytest.mark.parametrize("norm", [0, 0.0, -1.0, -math.inf])
def test_nmae_non_positive_number_raises(norm):
    with pytest.raises(ValueError, match="norm must"):
        losslib.nmae_loss(X, Y, norm=norm)


def test_nmae_unknown_norm_raises():
    with pytest.raises(ValueError, match=r"norm must be one of \('range', 'mean', 'max'\), got 'median'"):
        losslib.nmae_loss(X, Y, norm="median")
    with pytest.raises(TypeError, match="norm must be a real number"):
        losslib.nmae_loss(X, Y, norm=True)


def test_nmae_takes_no_reduction():
    with pytest.raises(TypeError):
        losslib.nmae_loss(X, Y, reduction="none")


# ------------------------------------------------------------------------------- Lp


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(("p", "fn"), [(1, F.l1_loss), (1.0, F.l1_loss), (2, F.mse_loss), (2.0, F.mse_loss)])
def test_lp_with_p_1_and_2_is_l1_and_mse(p, fn, reduction):
    x, y = pair(4)
    torch.testing.assert_close(losslib.lp_loss(x, y, p=p, reduction=reduction), fn(x, y, reduction=reduction))


def test_lp_default_is_mse():
    x, y = pair(5)
    torch.testing.assert_close(losslib.lp_loss(x, y), losslib.mse_loss(x, y))


@pytest.mark.parametrize("p", [0.3, 0.5, 1.5, 3.0, 4.0])
def test_lp_matches_a_transcription(p):
    x, y = pair(6, (10,))
    want = [abs(a - b) ** p for a, b in zip(x.tolist(), y.tolist(), strict=True)]
    torch.testing.assert_close(losslib.lp_loss(x, y, p=p, reduction="none"), torch.tensor(want, dtype=torch.float64))


@pytest.mark.parametrize("p", [0, 0.0, -1.0, -0.5])
def test_lp_non_positive_p_raises(p):
    with pytest.raises(ValueError, match="p must be positive"):
        losslib.lp_loss(X, Y, p=p)


def test_lp_non_finite_or_non_real_p_raises():
    with pytest.raises(ValueError, match="p must be finite"):
        losslib.lp_loss(X, Y, p=math.inf)
    with pytest.raises(TypeError, match="p must be a real number"):
        losslib.lp_loss(X, Y, p="2")


@pytest.mark.parametrize("p", [1.0, 1.2, 1.5, 2.0, 3.0])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_lp_gradient_at_zero_error_is_finite_and_zero_for_p_at_least_1(p, dtype):
    y = pair(7, (8,), dtype)[1]
    x = y.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(losslib.lp_loss(x, y, p=p, reduction="sum"), x)
    assert torch.isfinite(g).all()
    assert (g == 0).all()


@pytest.mark.parametrize("p", [0.25, 0.5, 0.9])
def test_lp_below_1_gradient_is_0_at_zero_and_the_steep_slope_nearby(p):
    e = torch.tensor([0.0, 1e-6, -1e-6, 0.5], dtype=torch.float64)
    x = e.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(losslib.lp_loss(x, torch.zeros_like(e), p=p, reduction="sum"), x)
    assert g[0] == 0
    slope = p * 1e-6 ** (p - 1)
    torch.testing.assert_close(g[1:3], torch.tensor([slope, -slope], dtype=torch.float64))
    assert g[1] > 1.0  # unbounded slope near 0


# ------------------------------------------------------------------------ properties

vals = st.lists(st.floats(-1e3, 1e3, allow_subnormal=False), min_size=2, max_size=20)


def two(draw_xs, draw_ys):
    n = min(len(draw_xs), len(draw_ys))
    return (
        torch.tensor(draw_xs[:n], dtype=torch.float64),
        torch.tensor(draw_ys[:n], dtype=torch.float64),
    )


@SETTINGS
@given(xs=vals, ys=vals, c=st.floats(-100, 100))
def test_rmse_scale_equivariance(xs, ys, c):
    x, y = two(xs, ys)
    torch.testing.assert_close(
        losslib.rmse_loss(c * x, c * y),
        abs(c) * losslib.rmse_loss(x, y),
        rtol=1e-9,
        atol=1e-9,
    )


@SETTINGS
@given(
    xs=vals,
    ys=vals,
    c=st.floats(0.01, 100),
    sign=st.sampled_from([-1.0, 1.0]),
    norm=st.sampled_from(["range", "mean", "max"]),
)
def test_nmae_scale_invariance(xs, ys, c, sign, norm):
    x, y = two(xs, ys)
    z = {"range": y.max() - y.min(), "mean": y.mean().abs(), "max": y.abs().max()}[norm]
    assume(float(z) > 1e-3)
    torch.testing.assert_close(
        losslib.nmae_loss(sign * c * x, sign * c * y, norm=norm),
        losslib.nmae_loss(x, y, norm=norm),
        rtol=1e-9,
        atol=0,
    )


@SETTINGS
@given(xs=vals, ys=vals)
def test_mae_le_rmse_le_sqrt_n_mae(xs, ys):
    x, y = two(xs, ys)
    mae, rmse = losslib.l1_loss(x, y).item(), losslib.rmse_loss(x, y).item()
    assert mae <= rmse * (1 + 1e-12) + 1e-12
    assert rmse <= math.sqrt(x.numel()) * mae * (1 + 1e-12) + 1e-12


@SETTINGS
@given(y=vals, a=st.floats(0.0, 100.0), signs=st.lists(st.sampled_from([-1.0, 1.0]), min_size=20, max_size=20))
def test_rmse_equals_mae_when_all_errors_have_one_magnitude(y, a, signs):
    y = torch.tensor(y, dtype=torch.float64)
    x = y + a * torch.tensor(signs[: y.numel()], dtype=torch.float64)
    assert losslib.rmse_loss(x, y).item() == pytest.approx(losslib.l1_loss(x, y).item(), rel=1e-9, abs=1e-9)


@SETTINGS
@given(xs=vals, ys=vals)
def test_rmse_exceeds_mae_when_error_magnitudes_differ(xs, ys):
    x, y = two(xs, ys)
    a = (x - y).abs()
    assume(float(a.max() - a.min()) > 1e-3 * (1 + float(a.max())))
    assert losslib.rmse_loss(x, y).item() > losslib.l1_loss(x, y).item()


@SETTINGS
@given(xs=vals, ys=vals, p=st.floats(0.2, 4.0), q=st.floats(0.2, 4.0))
def test_lp_power_mean_is_nondecreasing_in_p(xs, ys, p, q):
    # (mean |e|^p)^(1/p) is a power mean of |e|: nondecreasing in p
    x, y = two(xs, ys)
    p, q = min(p, q), max(p, q)
    mp = losslib.lp_loss(x, y, p=p).item() ** (1 / p)
    mq = losslib.lp_loss(x, y, p=q).item() ** (1 / q)
    assert mp <= mq * (1 + 1e-9) + 1e-12


@SETTINGS
@given(ys=vals, p=st.floats(0.2, 4.0))
def test_zero_at_the_perfect_prediction(ys, p):
    y = torch.tensor(ys, dtype=torch.float64)
    assert losslib.rmse_loss(y, y) == 0
    assert losslib.lp_loss(y, y, p=p) == 0
    if float(y.max() - y.min()) > 0:
        assert losslib.nmae_loss(y, y) == 0


@SETTINGS
@given(xs=vals, ys=vals)
def test_rmse_is_sqrt_of_lp_2(xs, ys):
    x, y = two(xs, ys)
    torch.testing.assert_close(losslib.rmse_loss(x, y) ** 2, losslib.lp_loss(x, y, p=2.0), rtol=1e-9, atol=1e-9)
