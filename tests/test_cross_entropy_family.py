"""binary_cross_entropy(_with_logits), cross_entropy, nll_loss: torch equality for every
option, the documented errors, the value-check switch and the properties of the family."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import losslib

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)
gen = torch.Generator().manual_seed(0)


def logits(*shape, scale=2.0):
    return torch.randn(*shape, generator=gen, dtype=torch.float64) * scale


# --------------------------------------------------------------- equality with torch


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_equals_torch_without_weights(reduction):
    z, y = logits(8, 5), torch.randint(0, 5, (8,), generator=gen)
    for smoothing in (0.0, 0.1, 0.5):
        want = F.cross_entropy(z, y, label_smoothing=smoothing, reduction=reduction)
        got = losslib.cross_entropy(z, y, label_smoothing=smoothing, reduction=reduction)
        torch.testing.assert_close(got, want)


def test_cross_entropy_weighted_sum_and_none_equal_torch_and_mean_is_plain_mean():
    z, y = logits(8, 5), torch.randint(0, 5, (8,), generator=gen)
    w = torch.rand(5, generator=gen, dtype=torch.float64) + 0.5
    for r in ("sum", "none"):
        torch.testing.assert_close(
            losslib.cross_entropy(z, y, weight=w, reduction=r), F.cross_entropy(z, y, weight=w, reduction=r)
        )
    # torch's weighted mean divides by sum(w[y]); losslib's mean is the plain mean
    torch.testing.assert_close(
        losslib.cross_entropy(z, y, weight=w, reduction="sum") / w[y].sum(), F.cross_entropy(z, y, weight=w)
    )
    torch.testing.assert_close(
        losslib.cross_entropy(z, y, weight=w), F.cross_entropy(z, y, weight=w, reduction="none").mean()
    )


def test_cross_entropy_probability_targets_and_spatial_dims_equal_torch():
    z = logits(3, 4, 5, 2)
    q = torch.softmax(logits(3, 4, 5, 2), dim=1)
    y = torch.randint(0, 4, (3, 5, 2), generator=gen)
    torch.testing.assert_close(losslib.cross_entropy(z, q, reduction="none"), F.cross_entropy(z, q, reduction="none"))
    torch.testing.assert_close(losslib.cross_entropy(z, y, reduction="none"), F.cross_entropy(z, y, reduction="none"))
    torch.testing.assert_close(
        losslib.cross_entropy(z, q, label_smoothing=0.3), F.cross_entropy(z, q, label_smoothing=0.3)
    )


def test_nll_of_log_softmax_is_cross_entropy():
    z, y = logits(6, 3), torch.randint(0, 3, (6,), generator=gen)
    torch.testing.assert_close(losslib.nll_loss(torch.log_softmax(z, 1), y), losslib.cross_entropy(z, y))
    torch.testing.assert_close(losslib.nll_loss(torch.log_softmax(z, 1), y), F.nll_loss(torch.log_softmax(z, 1), y))


def test_bce_functions_equal_torch_with_weights():
    z, y = logits(6, 3), torch.rand(6, 3, generator=gen, dtype=torch.float64)
    w, pw = (
        torch.rand(3, generator=gen, dtype=torch.float64),
        torch.rand(3, generator=gen, dtype=torch.float64) * 3,
    )
    torch.testing.assert_close(
        losslib.binary_cross_entropy_with_logits(z, y, weight=w, pos_weight=pw),
        F.binary_cross_entropy_with_logits(z, y, weight=w, pos_weight=pw),
    )
    p = torch.sigmoid(z)
    torch.testing.assert_close(losslib.binary_cross_entropy(p, y, weight=w), F.binary_cross_entropy(p, y, weight=w))
    torch.testing.assert_close(losslib.binary_cross_entropy(p, y), losslib.binary_cross_entropy_with_logits(z, y))


def test_bce_clamps_the_log_at_minus_100():
    p = torch.tensor([0.0, 1.0])
    y = torch.tensor([1.0, 0.0])
    torch.testing.assert_close(losslib.binary_cross_entropy(p, y, reduction="none"), torch.tensor([100.0, 100.0]))


def test_bce_with_logits_is_finite_where_the_naive_form_overflows():
    z = torch.tensor([-200.0, 200.0], requires_grad=True)
    y = torch.tensor([1.0, 0.0])
    naive = -(y * torch.log(torch.sigmoid(z)) + (1 - y) * torch.log(1 - torch.sigmoid(z)))
    assert torch.isinf(naive).all()
    loss = losslib.binary_cross_entropy_with_logits(z, y, reduction="none")
    torch.testing.assert_close(loss, torch.tensor([200.0, 200.0]))
    loss.sum().backward()
    torch.testing.assert_close(z.grad, torch.tensor([-1.0, 1.0]))


# ------------------------------------------------------------------ properties


@SETTINGS
@given(c=st.integers(2, 6), y=st.integers(0, 5), t=st.floats(0.0, 30.0), seed=st.integers(0, 10_000))
def test_cross_entropy_falls_as_the_true_logit_rises(c, y, t, seed):
    y = y % c
    z = torch.randn(1, c, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    target = torch.tensor([y])
    bumped = z.clone()
    bumped[0, y] += t + 0.1
    assert losslib.cross_entropy(bumped, target) < losslib.cross_entropy(z, target)
    assert losslib.cross_entropy(bumped, target) > 0


@SETTINGS
@given(seed=st.integers(0, 10_000), shift=st.floats(-50, 50))
def test_cross_entropy_is_invariant_to_a_shift_of_the_logits(seed, shift):
    g = torch.Generator().manual_seed(seed)
    z, y = torch.randn(4, 3, generator=g, dtype=torch.float64), torch.randint(0, 3, (4,), generator=g)
    torch.testing.assert_close(losslib.cross_entropy(z + shift, y), losslib.cross_entropy(z, y))


@SETTINGS
@given(seed=st.integers(0, 10_000))
def test_soft_target_cross_entropy_is_minimised_at_the_target(seed):
    """H(q, p) = H(q) + KL(q||p) >= H(q), with equality at p = q (Gibbs' inequality)."""
    g = torch.Generator().manual_seed(seed)
    q = torch.softmax(torch.randn(3, 4, generator=g, dtype=torch.float64), 1)
    at_target = losslib.cross_entropy(q.log(), q, reduction="none")
    entropy = -(q * q.log()).sum(1)
    torch.testing.assert_close(at_target, entropy)
    other = torch.randn(3, 4, generator=g, dtype=torch.float64)
    assert (losslib.cross_entropy(other, q, reduction="none") >= entropy - 1e-12).all()


@SETTINGS
@given(y=st.floats(0.0, 1.0), p=st.floats(1e-6, 1 - 1e-6))
def test_bce_is_minimised_at_p_equal_y(y, p):
    yt = torch.tensor([y], dtype=torch.float64)
    at_y = losslib.binary_cross_entropy(yt.clamp(1e-12, 1 - 1e-12), yt)
    assert losslib.binary_cross_entropy(torch.tensor([p], dtype=torch.float64), yt) >= at_y - 1e-9


def test_softmax_cross_entropy_gradient_is_p_minus_y():
    z = logits(5, 4).requires_grad_(True)
    y = torch.randint(0, 4, (5,), generator=gen)
    losslib.cross_entropy(z, y, reduction="sum").backward()
    torch.testing.assert_close(z.grad, torch.softmax(z, 1).detach() - F.one_hot(y, 4).double())


# ---------------------------------------------------------------------- errors


def test_errors_name_the_argument():
    z, y = logits(4, 3), torch.tensor([0, 1, 2, 0])
    with pytest.raises(ValueError, match=r"target must hold class indices in \[0, 3\)"):
        losslib.cross_entropy(z, torch.tensor([0, 1, 3, 0]))
    with pytest.raises(ValueError, match=r"target must hold class indices in \[0, 3\)"):
        losslib.nll_loss(z, torch.tensor([0, -1, 2, 0]))
    with pytest.raises(ValueError, match="target must have shape"):
        losslib.cross_entropy(z, y[:3])
    with pytest.raises(ValueError, match="logits must have shape"):
        losslib.cross_entropy(z[0], y[0])
    with pytest.raises(TypeError, match="logits must be a floating-point"):
        losslib.cross_entropy(z.long(), y)
    with pytest.raises(ValueError, match="weight must have shape"):
        losslib.cross_entropy(z, y, weight=torch.ones(4, dtype=torch.float64))
    with pytest.raises(ValueError, match="label_smoothing must lie in"):
        losslib.cross_entropy(z, y, label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"target must hold probabilities in \[0, 1\]"):
        losslib.cross_entropy(z, torch.full((4, 3), 1.5, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"probs must hold probabilities"):
        losslib.binary_cross_entropy(torch.tensor([1.2]), torch.tensor([1.0]))
    with pytest.raises(ValueError, match=r"target must hold probabilities"):
        losslib.binary_cross_entropy_with_logits(torch.tensor([1.2]), torch.tensor([2.0]))
    with pytest.raises(ValueError, match="pos_weight must broadcast"):
        losslib.binary_cross_entropy_with_logits(z, z.sigmoid(), pos_weight=torch.ones(4))
    with pytest.raises(ValueError, match="target must have the shape of logits"):
        losslib.binary_cross_entropy_with_logits(z, z.sigmoid().T)


def test_value_checks_switch_turns_off_only_the_value_checks():
    z = logits(4, 3)
    bad = torch.tensor([1.2, 0.5, 0.0, 1.0], dtype=torch.float64)
    assert losslib.value_checks_enabled()
    with losslib.value_checks(False):
        assert not losslib.value_checks_enabled()
        losslib.binary_cross_entropy_with_logits(z[:, 0], bad)  # no value check: computes
        with pytest.raises(ValueError, match="shape"):  # shape checks stay on
            losslib.binary_cross_entropy_with_logits(z[:, 0], bad[:3])
        with pytest.raises(ValueError, match="reduction"):
            losslib.cross_entropy(z, torch.tensor([0, 1, 2, 0]), reduction="avg")
    assert losslib.value_checks_enabled()
    previous = losslib.set_value_checks(False)
    assert previous is True
    losslib.set_value_checks(True)
