"""hinge_loss, squared_hinge_loss, soft_margin_loss, multiclass_hinge_loss: equality with
torch where torch has the loss, the documented errors, and the properties the chapter
teaches (zero loss beyond the margin, convexity, piecewise linearity, the 0-1 upper bound)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import losslib

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True)
BINARY = [losslib.hinge_loss, losslib.squared_hinge_loss, losslib.soft_margin_loss]
gen = torch.Generator().manual_seed(0)


def scores(*shape, scale=2.0):
    return torch.randn(*shape, generator=gen, dtype=torch.float64) * scale


def labels(*shape):
    return (2 * torch.randint(0, 2, shape, generator=gen) - 1).double()


# --------------------------------------------------------------- equality with torch


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_soft_margin_equals_torch(reduction):
    s, t = scores(5, 4), labels(5, 4)
    torch.testing.assert_close(
        losslib.soft_margin_loss(s, t, reduction=reduction), F.soft_margin_loss(s, t, reduction=reduction)
    )


def test_soft_margin_is_finite_where_torch_overflows():
    s = torch.tensor([-1e4, -200.0, 1e4], requires_grad=True)
    t = torch.ones(3)
    assert torch.isinf(F.soft_margin_loss(s, t, reduction="none")[:2]).all()
    loss = losslib.soft_margin_loss(s, t, reduction="none")
    torch.testing.assert_close(loss, torch.tensor([1e4, 200.0, 0.0]))
    loss.sum().backward()
    torch.testing.assert_close(s.grad, torch.tensor([-1.0, -1.0, 0.0]))


def test_soft_margin_is_bce_with_logits_of_the_01_labels():
    s, t = scores(8), labels(8)
    torch.testing.assert_close(
        losslib.soft_margin_loss(s, t, reduction="none"),
        F.binary_cross_entropy_with_logits(s, (t + 1) / 2, reduction="none"),
    )


@pytest.mark.parametrize("margin", [0.0, 0.5, 1.0, 2.5])
@pytest.mark.parametrize("squared", [False, True], ids=["p1", "p2"])
def test_multiclass_hinge_is_C_times_torch_multi_margin(margin, squared):
    for c in (2, 3, 7):
        x, y = scores(9, c), torch.randint(0, c, (9,), generator=gen)
        p = 2 if squared else 1
        want = c * F.multi_margin_loss(x, y, p=p, margin=margin, reduction="none")
        got = losslib.multiclass_hinge_loss(x, y, margin=margin, squared=squared, reduction="none")
        torch.testing.assert_close(got, want)
        torch.testing.assert_close(
            losslib.multiclass_hinge_loss(x, y, margin=margin, squared=squared),
            c * F.multi_margin_loss(x, y, p=p, margin=margin),
        )


def test_multiclass_hinge_spatial_is_the_2d_loss_per_position():
    x, y = scores(3, 4, 5), torch.randint(0, 4, (3, 5), generator=gen)
    flat = losslib.multiclass_hinge_loss(
        x.permute(0, 2, 1).reshape(-1, 4), y.reshape(-1), squared=True, reduction="none"
    )
    got = losslib.multiclass_hinge_loss(x, y, squared=True, reduction="none")
    torch.testing.assert_close(got, flat.reshape(3, 5))


# --------------------------------------------------------------- transcriptions


@pytest.mark.parametrize("margin", [0.0, 0.5, 1.0, 3.0])
def test_hinge_and_squared_hinge_match_the_piecewise_formula(margin):
    s, t = scores(40), labels(40)
    want = [max(0.0, margin - ti * si) for si, ti in zip(s.tolist(), t.tolist(), strict=True)]
    want = torch.tensor(want, dtype=torch.float64)
    torch.testing.assert_close(losslib.hinge_loss(s, t, margin=margin, reduction="none"), want)
    torch.testing.assert_close(losslib.squared_hinge_loss(s, t, margin=margin, reduction="none"), want**2)


def test_hand_computed_values():
    s = torch.tensor([2.0, 0.5, -0.5, 0.0])
    t = torch.tensor([1.0, 1.0, 1.0, -1.0])
    torch.testing.assert_close(losslib.hinge_loss(s, t, reduction="none"), torch.tensor([0.0, 0.5, 1.5, 1.0]))
    torch.testing.assert_close(losslib.squared_hinge_loss(s, t, reduction="none"), torch.tensor([0.0, 0.25, 2.25, 1.0]))
    torch.testing.assert_close(losslib.soft_margin_loss(s[3:], t[3:]), torch.tensor(math.log(2.0)))
    # CS231n's worked example: scores (3.2, 5.1, -1.7) with true class 0 -> 2.9
    x = torch.tensor([[3.2, 5.1, -1.7]])
    torch.testing.assert_close(losslib.multiclass_hinge_loss(x, torch.tensor([0])), torch.tensor(2.9))


def test_binary_hinge_is_the_two_class_multiclass_hinge():
    s, t = scores(10), labels(10)
    logits = torch.stack([torch.zeros_like(s), s], dim=1)
    y = ((t + 1) / 2).long()
    for margin in (0.5, 1.0):
        torch.testing.assert_close(
            losslib.multiclass_hinge_loss(logits, y, margin=margin, reduction="none"),
            losslib.hinge_loss(s, t, margin=margin, reduction="none"),
        )
        torch.testing.assert_close(
            losslib.multiclass_hinge_loss(logits, y, margin=margin, squared=True, reduction="none"),
            losslib.squared_hinge_loss(s, t, margin=margin, reduction="none"),
        )


# ---------------------------------------------------------------------- errors


@pytest.mark.parametrize("fn", BINARY, ids=lambda f: f.__name__)
def test_labels_outside_plus_minus_one_raise(fn):
    s = scores(4)
    bads = ([0.0, 1.0, 1.0, 0.0], [1.0, -1.0, 2.0, 1.0], [0.5, 1.0, -1.0, 1.0], [1.0, -2.0, 1.0, 1.0])
    for bad in bads + ([1.0, float("nan"), 1.0, -1.0], [-float("inf"), 1.0, 1.0, 1.0]):
        with pytest.raises(ValueError, match=r"target must hold labels in"):
            fn(s, torch.tensor(bad, dtype=torch.float64))
    with pytest.raises(ValueError, match="target must have the shape of scores"):
        fn(s, labels(4, 1))
    with pytest.raises(TypeError, match="target must be a floating-point"):
        fn(s, torch.tensor([1, -1, 1, -1]))
    with pytest.raises(TypeError, match="scores must be a floating-point"):
        fn(s.long(), labels(4))


def test_value_checks_switch_lets_other_labels_through():
    s, t01 = scores(4), torch.tensor([0.0, 1.0, 1.0, 0.0], dtype=torch.float64)
    with losslib.value_checks(False):
        out = losslib.hinge_loss(s, t01, reduction="none")
        with pytest.raises(ValueError, match="margin"):  # hyper-parameter checks stay on
            losslib.hinge_loss(s, t01, margin=-1.0)
    torch.testing.assert_close(out, torch.relu(1 - t01 * s))


@pytest.mark.parametrize(
    "fn",
    [losslib.hinge_loss, losslib.squared_hinge_loss, losslib.multiclass_hinge_loss],
    ids=lambda f: f.__name__,
)
def test_negative_margin_raises_and_zero_margin_is_allowed(fn):
    if fn is losslib.multiclass_hinge_loss:
        args = (scores(4, 3), torch.tensor([0, 1, 2, 0]))
    else:
        args = (scores(4), labels(4))
    with pytest.raises(ValueError, match=r"margin must be non-negative, got -0.5"):
        fn(*args, margin=-0.5)
    assert torch.isfinite(fn(*args, margin=0.0))


def test_zero_margin_hinge_is_the_perceptron_loss():
    s, t = scores(20), labels(20)
    torch.testing.assert_close(losslib.hinge_loss(s, t, margin=0.0, reduction="none"), torch.relu(-t * s))


def test_multiclass_errors():
    x = scores(4, 3)
    with pytest.raises(ValueError, match=r"target must hold class indices in \[0, 3\)"):
        losslib.multiclass_hinge_loss(x, torch.tensor([0, 1, 3, 0]))
    with pytest.raises(ValueError, match="target must have shape"):
        losslib.multiclass_hinge_loss(x, torch.tensor([0, 1, 2]))
    with pytest.raises(TypeError, match="target must hold integer class indices"):
        losslib.multiclass_hinge_loss(x, torch.tensor([0.0, 1.0, 2.0, 0.0]))
    with pytest.raises(ValueError, match="logits must have shape"):
        losslib.multiclass_hinge_loss(x[0], torch.tensor(0))


# ------------------------------------------------------------------ properties


@SETTINGS
@given(z=st.floats(-20, 20), margin=st.floats(0.0, 5.0), t=st.sampled_from([-1.0, 1.0]), dz=st.floats(1e-3, 10))
def test_zero_loss_beyond_the_margin_and_positive_inside(z, margin, t, dz):
    tt = torch.tensor([t], dtype=torch.float64)
    beyond = torch.tensor([t * (margin + dz)], dtype=torch.float64)  # t*s = margin + dz
    inside = torch.tensor([t * (margin - dz)], dtype=torch.float64)  # t*s = margin - dz
    for fn in (losslib.hinge_loss, losslib.squared_hinge_loss):
        assert fn(beyond, tt, margin=margin) == 0
        assert fn(inside, tt, margin=margin) > 0
    # the soft margin loss is never exactly zero in float64 for moderate margins
    s = torch.tensor([t * z], dtype=torch.float64)
    assert losslib.soft_margin_loss(s, tt) > 0 or z > 36


@SETTINGS
@given(margin=st.floats(0.1, 3.0), t=st.sampled_from([-1.0, 1.0]))
def test_hinge_is_convex_and_piecewise_linear_by_finite_differences(margin, t):
    h = 1e-2
    s = torch.arange(-500, 501, dtype=torch.float64) * h  # scores in [-5, 5]
    tt = torch.full_like(s, t)
    loss = losslib.hinge_loss(s, tt, margin=margin, reduction="none")
    slope = torch.diff(loss) / h
    second = torch.diff(loss, n=2) / h**2
    assert (second >= -1e-9).all()  # convex
    # piecewise linear: slopes are 0 or -t, except on the one grid cell holding the kink
    on_piece = torch.isclose(slope, torch.zeros_like(slope), atol=1e-9) | torch.isclose(
        slope, torch.full_like(slope, -t), atol=1e-9
    )
    assert int((~on_piece).sum()) <= 1
    assert int((second.abs() > 1e-6).sum()) <= 2  # curvature only at the kink
    # the squared hinge is convex and its slope is continuous (no jump at the kink)
    sq = losslib.squared_hinge_loss(s, tt, margin=margin, reduction="none")
    sq_slope = torch.diff(sq) / h
    assert (torch.diff(sq, n=2) >= -1e-9).all()
    assert torch.diff(sq_slope).abs().max() <= 2 * h + 1e-9


@SETTINGS
@given(seed=st.integers(0, 10_000), lam=st.floats(0.0, 1.0))
def test_losses_of_a_linear_model_are_convex_in_the_weights(seed, lam):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(12, 3, generator=g, dtype=torch.float64)
    t = (2 * torch.randint(0, 2, (12,), generator=g) - 1).double()
    w0, w1 = (
        torch.randn(3, generator=g, dtype=torch.float64) * 3,
        torch.randn(3, generator=g, dtype=torch.float64) * 3,
    )
    wl = (1 - lam) * w0 + lam * w1
    for fn in BINARY:
        mix = (1 - lam) * fn(x @ w0, t) + lam * fn(x @ w1, t)
        assert fn(x @ wl, t) <= mix + 1e-12
    y, xm = torch.randint(0, 4, (12,), generator=g), torch.randn(12, 3, generator=g, dtype=torch.float64)
    W0, W1 = (
        torch.randn(3, 4, generator=g, dtype=torch.float64),
        torch.randn(3, 4, generator=g, dtype=torch.float64),
    )
    Wl = (1 - lam) * W0 + lam * W1
    mix = (1 - lam) * losslib.multiclass_hinge_loss(xm @ W0, y) + lam * losslib.multiclass_hinge_loss(xm @ W1, y)
    assert losslib.multiclass_hinge_loss(xm @ Wl, y) <= mix + 1e-12


@SETTINGS
@given(seed=st.integers(0, 10_000), scale=st.floats(0.1, 10.0))
def test_margin_based_losses_upper_bound_the_01_loss(seed, scale):
    g = torch.Generator().manual_seed(seed)
    s = torch.randn(50, generator=g, dtype=torch.float64) * scale
    t = (2 * torch.randint(0, 2, (50,), generator=g) - 1).double()
    zero_one = (t * s <= 0).double()
    assert (losslib.hinge_loss(s, t, reduction="none") >= zero_one).all()
    assert (losslib.squared_hinge_loss(s, t, reduction="none") >= zero_one).all()
    assert (losslib.soft_margin_loss(s, t, reduction="none") / math.log(2) >= zero_one - 1e-12).all()
    # with margin mu the hinge bounds mu times the 0-1 loss
    assert (losslib.hinge_loss(s, t, margin=0.3, reduction="none") >= 0.3 * zero_one).all()


@SETTINGS
@given(seed=st.integers(0, 10_000), margin=st.floats(0.05, 5.0))
def test_hinge_with_margin_is_a_rescaled_unit_hinge(seed, margin):
    g = torch.Generator().manual_seed(seed)
    s = torch.randn(20, generator=g, dtype=torch.float64) * 3
    t = (2 * torch.randint(0, 2, (20,), generator=g) - 1).double()
    torch.testing.assert_close(
        losslib.hinge_loss(s, t, margin=margin, reduction="none"),
        margin * losslib.hinge_loss(s / margin, t, reduction="none"),
    )


def test_hinge_subgradient_is_minus_t_inside_the_margin_and_zero_beyond():
    s, t = scores(30).requires_grad_(True), labels(30)
    losslib.hinge_loss(s, t, reduction="sum").backward()
    inside = (t * s < 1).detach()
    torch.testing.assert_close(s.grad, torch.where(inside, -t, torch.zeros_like(t)))


@SETTINGS
@given(seed=st.integers(0, 10_000), shift=st.floats(-50, 50), margin=st.floats(0.0, 3.0))
def test_multiclass_hinge_properties(seed, shift, margin):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(6, 5, generator=g, dtype=torch.float64) * 2
    y = torch.randint(0, 5, (6,), generator=g)
    loss = losslib.multiclass_hinge_loss(x, y, margin=margin, reduction="none")
    # invariant to adding a constant to every score
    torch.testing.assert_close(losslib.multiclass_hinge_loss(x + shift, y, margin=margin, reduction="none"), loss)
    # zero exactly when the true score beats every other by at least the margin
    sy = x.gather(1, y[:, None])
    others = x.masked_fill(F.one_hot(y, 5).bool(), -math.inf)
    satisfied = (sy.squeeze(1) - others.amax(1)) >= margin
    assert torch.equal(loss == 0, satisfied)
    # the Weston-Watkins sum is at least the Crammer-Singer max and at most (C-1) times it
    crammer_singer = torch.relu(margin - sy.squeeze(1) + others.amax(1))
    assert (loss >= crammer_singer - 1e-12).all()
    assert (loss <= 4 * crammer_singer + 1e-12).all()


def test_single_class_multiclass_hinge_is_zero():
    x = scores(3, 1)
    assert torch.equal(
        losslib.multiclass_hinge_loss(x, torch.zeros(3, dtype=torch.long), reduction="none"),
        torch.zeros(3).double(),
    )
