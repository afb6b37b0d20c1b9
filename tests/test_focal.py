"""focal_loss and sigmoid_focal_loss: the limits (gamma=0 is cross-entropy), every alpha
form, equality with torchvision's formula (transcribed, see tests/cases/focal.py), the
finite gradient for gamma < 1 on confident logits, every documented error, and
hypothesis properties (focal <= CE, monotone in p_t, monotone in gamma)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from cases.focal import ref_focal, ref_sigmoid_focal
from hypothesis import given, settings
from hypothesis import strategies as st

import losslib

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)
gen = torch.Generator().manual_seed(0)


def logits(*shape, scale=2.0):
    return torch.randn(*shape, generator=gen, dtype=torch.float64) * scale


# ------------------------------------------------------------- limits and alpha forms


@pytest.mark.parametrize("shape", [(7, 5), (3, 4, 2, 3)], ids=["NC", "NCHW"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gamma_zero_without_alpha_is_cross_entropy(shape, reduction):
    z = logits(*shape)
    y = torch.randint(0, shape[1], shape[:1] + shape[2:], generator=gen)
    torch.testing.assert_close(
        losslib.focal_loss(z, y, gamma=0.0, reduction=reduction), F.cross_entropy(z, y, reduction=reduction)
    )


def test_gamma_zero_gradient_is_cross_entropy_gradient():
    z = logits(6, 4).requires_grad_(True)
    y = torch.randint(0, 4, (6,), generator=gen)
    (g_focal,) = torch.autograd.grad(losslib.focal_loss(z, y, gamma=0.0), z)
    (g_ce,) = torch.autograd.grad(F.cross_entropy(z, y), z)
    torch.testing.assert_close(g_focal, g_ce)


def test_alpha_float_scales_every_example():
    z, y = logits(8, 3), torch.randint(0, 3, (8,), generator=gen)
    plain = losslib.focal_loss(z, y, gamma=2.0, reduction="none")
    torch.testing.assert_close(losslib.focal_loss(z, y, gamma=2.0, alpha=0.3, reduction="none"), 0.3 * plain)
    torch.testing.assert_close(losslib.focal_loss(z, y, alpha=0.3, reduction="none"), ref_focal(z, y, alpha=0.3))


def test_alpha_tensor_picks_the_weight_of_the_true_class():
    z, y = logits(10, 4), torch.randint(0, 4, (10,), generator=gen)
    w = torch.tensor([0.1, 0.5, 2.0, 1.0], dtype=torch.float64)
    got = losslib.focal_loss(z, y, gamma=1.0, alpha=w, reduction="none")
    p_y = torch.softmax(z, 1)[torch.arange(10), y]
    torch.testing.assert_close(got, -w[y] * (1 - p_y) * torch.log(p_y))
    # with gamma = 0 the alpha tensor is cross_entropy's class weight (per example)
    torch.testing.assert_close(
        losslib.focal_loss(z, y, gamma=0.0, alpha=w, reduction="none"),
        F.cross_entropy(z, y, weight=w, reduction="none"),
    )
    torch.testing.assert_close(
        losslib.focal_loss(z, y, alpha=torch.ones(4, dtype=torch.float64)), losslib.focal_loss(z, y)
    )


def test_alpha_tensor_in_another_dtype_does_not_change_the_output_dtype():
    z, y = logits(5, 3).float(), torch.randint(0, 3, (5,), generator=gen)
    out = losslib.focal_loss(z, y, alpha=torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
    assert out.dtype == torch.float32


def test_softmax_focal_spatial_equals_flattened():
    z = logits(2, 3, 4, 5)
    y = torch.randint(0, 3, (2, 4, 5), generator=gen)
    flat_z = z.movedim(1, -1).reshape(-1, 3)
    got = losslib.focal_loss(z, y, gamma=2.0, alpha=torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64))
    want = losslib.focal_loss(
        flat_z, y.reshape(-1), gamma=2.0, alpha=torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)
    )
    torch.testing.assert_close(got, want)


def test_two_class_softmax_focal_equals_sigmoid_focal_without_alpha():
    """softmax([0, m])_1 = sigmoid(m): the two forms agree on two classes."""
    m = logits(9)
    two = torch.stack([torch.zeros_like(m), m], dim=1)
    for gamma in (0.0, 0.5, 2.0):
        torch.testing.assert_close(
            losslib.focal_loss(two, torch.ones(9, dtype=torch.long), gamma=gamma, reduction="none"),
            losslib.sigmoid_focal_loss(
                m, torch.ones(9, dtype=torch.float64), alpha=None, gamma=gamma, reduction="none"
            ),
        )


# --------------------------------------------------------- torchvision transcription


@pytest.mark.parametrize("alpha", [0.25, 0.0, 1.0, 0.5, None])
@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0, 5.0])
def test_sigmoid_focal_equals_torchvision_formula_multilabel(alpha, gamma):
    z = logits(16, 5, scale=3.0)
    t = (torch.rand(16, 5, generator=gen) < 0.3).double()  # multi-hot: several 1s per row
    assert (t.sum(1) > 1).any()
    got = losslib.sigmoid_focal_loss(z, t, alpha=alpha, gamma=gamma, reduction="none")
    want = ref_sigmoid_focal(z, t, alpha=alpha, gamma=gamma)
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(losslib.sigmoid_focal_loss(z, t, alpha=alpha, gamma=gamma), want.mean())
    torch.testing.assert_close(losslib.sigmoid_focal_loss(z, t, alpha=alpha, gamma=gamma, reduction="sum"), want.sum())


def test_sigmoid_focal_dense_and_soft_targets_equal_torchvision_formula():
    z = logits(2, 3, 4, 4)
    t = torch.rand(2, 3, 4, 4, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(
        losslib.sigmoid_focal_loss(z, t, reduction="none"), ref_sigmoid_focal(z, t), rtol=1e-7, atol=1e-9
    )


def test_sigmoid_focal_default_alpha_is_a_quarter_and_gamma_two():
    z = logits(12)
    t = (torch.rand(12, generator=gen) < 0.5).double()
    torch.testing.assert_close(
        losslib.sigmoid_focal_loss(z, t, reduction="none"), ref_sigmoid_focal(z, t, alpha=0.25, gamma=2.0)
    )


def test_sigmoid_focal_gamma_zero_alpha_none_is_bce():
    z, t = logits(6, 3), torch.rand(6, 3, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(
        losslib.sigmoid_focal_loss(z, t, alpha=None, gamma=0.0), F.binary_cross_entropy_with_logits(z, t)
    )


# ------------------------------------------------- the hard case: gamma < 1, p_t -> 1


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16], ids=str)
@pytest.mark.parametrize("gamma", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("margin", [40.0, 200.0, 1e4])
def test_gamma_below_one_on_confident_logits_has_finite_gradient(dtype, gamma, margin):
    z = torch.tensor([[margin, 0.0, -margin], [0.0, margin, 0.0]], dtype=dtype, requires_grad=True)
    y = torch.tensor([0, 1])
    # the hard case really happens: p_y rounds to exactly 1 in this dtype
    assert (torch.softmax(z.detach(), 1)[torch.arange(2), y] == 1).all()
    loss = losslib.focal_loss(z, y, gamma=gamma, alpha=0.25)
    (grad,) = torch.autograd.grad(loss, z)
    assert torch.isfinite(loss) and torch.isfinite(grad).all()
    assert grad.abs().max() < 1e-6  # the true gradient tends to 0 as p_y -> 1

    x = torch.tensor([margin, -margin, margin], dtype=dtype, requires_grad=True)
    t = torch.tensor([1.0, 0.0, 1.0], dtype=dtype)
    loss = losslib.sigmoid_focal_loss(x, t, gamma=gamma)
    (grad,) = torch.autograd.grad(loss, x)
    assert torch.isfinite(loss) and torch.isfinite(grad).all()
    assert grad.abs().max() < 1e-6


def test_the_naive_power_really_gives_nan_there():
    """Documents why the clamp exists: (1 - p)**gamma with gamma < 1 at p = 1 breaks autograd."""
    z = torch.tensor([[40.0, 0.0]], requires_grad=True)
    log_p = torch.log_softmax(z, 1)[:, 0]
    naive = -((1 - log_p.exp()) ** 0.5) * log_p
    (grad,) = torch.autograd.grad(naive.sum(), z)
    assert torch.isnan(grad).any()


def test_gamma_below_one_gradient_matches_the_analytic_derivative_near_p_one():
    """d/dm of -(1-p)^g log p for p = sigmoid(m) (two classes [0, m], true class 1)."""
    gamma = 0.5
    m = torch.tensor([3.0, 8.0, 14.0, 25.0], dtype=torch.float64, requires_grad=True)
    two = torch.stack([torch.zeros_like(m), m], dim=1)
    loss = losslib.focal_loss(two, torch.ones(4, dtype=torch.long), gamma=gamma, reduction="sum")
    (grad,) = torch.autograd.grad(loss, m)
    p = torch.sigmoid(m.detach())
    q = 1 - p  # dp/dm = p q
    want = (gamma * q ** (gamma - 1) * torch.log(p) - q**gamma / p) * p * q
    torch.testing.assert_close(grad, want)


# ------------------------------------------------------------------------ errors


def test_errors_name_the_argument():
    z, y = logits(4, 3), torch.tensor([0, 1, 2, 0])
    with pytest.raises(ValueError, match="gamma must be non-negative, got -0.5"):
        losslib.focal_loss(z, y, gamma=-0.5)
    with pytest.raises(ValueError, match="gamma must be non-negative"):
        losslib.sigmoid_focal_loss(z, z.sigmoid(), gamma=-1.0)
    with pytest.raises(ValueError, match="gamma must be finite"):
        losslib.focal_loss(z, y, gamma=float("nan"))
    with pytest.raises(TypeError, match="gamma must be a real number"):
        losslib.focal_loss(z, y, gamma="2")
    with pytest.raises(ValueError, match="alpha must be non-negative"):
        losslib.focal_loss(z, y, alpha=-0.1)
    with pytest.raises(TypeError, match="alpha must be a real number"):
        losslib.focal_loss(z, y, alpha=[0.1, 0.2, 0.7])
    with pytest.raises(ValueError, match=r"alpha must have shape \[C\] = \(3,\)"):
        losslib.focal_loss(z, y, alpha=torch.ones(4, dtype=torch.float64))
    with pytest.raises(TypeError, match="alpha must be a floating-point tensor"):
        losslib.focal_loss(z, y, alpha=torch.ones(3, dtype=torch.long))
    with pytest.raises(ValueError, match="alpha must hold non-negative values"):
        losslib.focal_loss(z, y, alpha=torch.tensor([1.0, -1.0, 1.0], dtype=torch.float64))
    with pytest.raises(TypeError, match="target must hold integer class indices"):
        losslib.focal_loss(z, torch.softmax(z, 1))
    with pytest.raises(ValueError, match=r"target must hold class indices in \[0, 3\)"):
        losslib.focal_loss(z, torch.tensor([0, 1, 3, 0]))
    with pytest.raises(ValueError, match="target must have shape"):
        losslib.focal_loss(z, y[:3])
    with pytest.raises(ValueError, match="logits must have shape"):
        losslib.focal_loss(z[0], y[0])
    with pytest.raises(TypeError, match="logits must be a floating-point"):
        losslib.focal_loss(z.long(), y)
    with pytest.raises(ValueError, match="reduction must be one of"):
        losslib.focal_loss(z, y, reduction="avg")
    with pytest.raises(ValueError, match="logits must not be empty"):
        losslib.focal_loss(z[:0], y[:0])
    with pytest.raises(ValueError, match=r"alpha must lie in \[0.0, 1.0\]"):
        losslib.sigmoid_focal_loss(z, z.sigmoid(), alpha=-1)
    with pytest.raises(ValueError, match=r"alpha must lie in \[0.0, 1.0\]"):
        losslib.sigmoid_focal_loss(z, z.sigmoid(), alpha=1.5)
    with pytest.raises(TypeError, match="alpha must be a real number"):
        losslib.sigmoid_focal_loss(z, z.sigmoid(), alpha="0.25")
    with pytest.raises(ValueError, match=r"target must hold probabilities in \[0, 1\]"):
        losslib.sigmoid_focal_loss(z, z.sigmoid() + 1)
    with pytest.raises(ValueError, match="target must have the shape of logits"):
        losslib.sigmoid_focal_loss(z, z.sigmoid().T)
    with pytest.raises(TypeError, match="target must be a floating-point"):
        losslib.sigmoid_focal_loss(z, (z > 0).long())
    with pytest.raises(TypeError, match="logits must be a floating-point"):
        losslib.sigmoid_focal_loss(z.long(), z.sigmoid())
    with pytest.raises(ValueError, match="logits must not be empty"):
        losslib.sigmoid_focal_loss(z[:0], z[:0])


def test_value_checks_switch_skips_only_value_checks():
    z = logits(4, 3)
    with losslib.value_checks(False):
        losslib.focal_loss(z, torch.tensor([0, 1, 2, 0]), alpha=torch.tensor([1.0, -1.0, 1.0], dtype=torch.float64))
        losslib.sigmoid_focal_loss(z, z.sigmoid() + 1)
        with pytest.raises(ValueError, match="gamma must be non-negative"):
            losslib.focal_loss(z, torch.tensor([0, 1, 2, 0]), gamma=-1.0)


# -------------------------------------------------------------------- properties


@SETTINGS
@given(seed=st.integers(0, 10_000), gamma=st.floats(0.0, 6.0), c=st.integers(2, 6))
def test_focal_is_at_most_cross_entropy_elementwise(seed, gamma, c):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(8, c, generator=g, dtype=torch.float64) * 3
    y = torch.randint(0, c, (8,), generator=g)
    focal = losslib.focal_loss(z, y, gamma=gamma, reduction="none")
    ce = losslib.cross_entropy(z, y, reduction="none")
    assert (focal <= ce + 1e-12).all()
    assert (focal >= 0).all()
    x, t = (
        torch.randn(8, c, generator=g, dtype=torch.float64) * 3,
        torch.rand(8, c, generator=g, dtype=torch.float64),
    )
    sig = losslib.sigmoid_focal_loss(x, t, alpha=None, gamma=gamma, reduction="none")
    assert (sig <= F.binary_cross_entropy_with_logits(x, t, reduction="none") + 1e-12).all()


@SETTINGS
@given(
    p_lo=st.floats(1e-4, 0.999),
    step=st.floats(1e-3, 0.5),
    gamma=st.floats(0.0, 6.0),
    alpha=st.floats(0.05, 0.95),
)
def test_focal_decreases_as_the_true_class_probability_rises(p_lo, step, gamma, alpha):
    p_hi = min(p_lo + step, 0.9999)
    if p_hi <= p_lo:
        return
    p = torch.tensor([p_lo, p_hi], dtype=torch.float64)
    m = torch.logit(p)  # two classes [0, m]: p_y = sigmoid(m) = p
    two = torch.stack([torch.zeros_like(m), m], dim=1)
    soft = losslib.focal_loss(two, torch.ones(2, dtype=torch.long), gamma=gamma, alpha=alpha, reduction="none")
    assert soft[1] < soft[0]
    # sigmoid form, expressed through p_t: positives with p_t = p, negatives with logit -m
    for t in (1.0, 0.0):
        x = m if t == 1.0 else -m
        sig = losslib.sigmoid_focal_loss(x, torch.full_like(x, t), alpha=alpha, gamma=gamma, reduction="none")
        assert sig[1] < sig[0]


@SETTINGS
@given(seed=st.integers(0, 10_000), g1=st.floats(0.0, 5.0), dg=st.floats(0.01, 3.0))
def test_focal_decreases_as_gamma_rises(seed, g1, dg):
    g = torch.Generator().manual_seed(seed)
    z, y = torch.randn(6, 4, generator=g, dtype=torch.float64), torch.randint(0, 4, (6,), generator=g)
    lo = losslib.focal_loss(z, y, gamma=g1 + dg, reduction="none")
    hi = losslib.focal_loss(z, y, gamma=g1, reduction="none")
    assert (lo < hi).all()


@SETTINGS
@given(seed=st.integers(0, 10_000), shift=st.floats(-50, 50), gamma=st.floats(0.0, 4.0))
def test_focal_is_invariant_to_a_shift_of_the_logits(seed, shift, gamma):
    g = torch.Generator().manual_seed(seed)
    z, y = torch.randn(5, 3, generator=g, dtype=torch.float64), torch.randint(0, 3, (5,), generator=g)
    torch.testing.assert_close(
        losslib.focal_loss(z + shift, y, gamma=gamma, reduction="none"),
        losslib.focal_loss(z, y, gamma=gamma, reduction="none"),
    )
