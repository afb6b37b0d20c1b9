"""ge2e_loss, arcface_loss, cosface_loss, center_loss: every documented error, the
references at the default hyper-parameters, the theta + m > pi branch of ArcFace, finite
gradients where an embedding coincides with its class centre, GE2E's exclusive centroid
against a loop transcription, and the scale / margin / norm properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from cases.angular import ref_center, ref_ge2e
from hypothesis import given, settings
from hypothesis import strategies as st
from pytorch_metric_learning import losses as pml

import losslib

SETTINGS = settings(max_examples=20, deadline=None, derandomize=True)
F64 = torch.float64


def rnd(*shape, seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=F64) * scale


def labels(n, c, seed=0):
    return torch.randint(0, c, (n,), generator=torch.Generator().manual_seed(seed))


def pml_mean(cls, x, weight, y, **kwargs):
    loss_fn = cls(weight.shape[0], weight.shape[1], **kwargs)
    loss_fn.W.data = weight.T.clone()
    return loss_fn(x, y)


# ------------------------------------------------------------------------------ errors

MARGIN_FNS = [losslib.arcface_loss, losslib.cosface_loss]


@pytest.mark.parametrize("fn", MARGIN_FNS, ids=lambda f: f.__name__)
def test_margin_losses_raise_documented_errors(fn):
    x, w, y = rnd(4, 3), rnd(5, 3), labels(4, 5)
    with pytest.raises(ValueError, match=r"embeddings must have shape \[N, D\]"):
        fn(x[None], w, y)
    with pytest.raises(ValueError, match=r"weight must have shape \[C, D\]"):
        fn(x, w[None], y)
    with pytest.raises(ValueError, match=r"weight must have shape \[C, D\] = \(5, 3\), got shape \(5, 2\)"):
        fn(x, w[:, :2], y)
    with pytest.raises(ValueError, match="weight must not be empty"):
        fn(x, w[:0], y)
    with pytest.raises(TypeError, match="weight must be a floating-point tensor"):
        fn(x, w.long(), y)
    with pytest.raises(TypeError, match="target must hold integer class indices"):
        fn(x, w, y.double())
    with pytest.raises(ValueError, match=r"target must have shape \[N\] = \(4,\)"):
        fn(x, w, y[:, None])
    with pytest.raises(ValueError, match=r"target must hold class indices in \[0, 5\)"):
        fn(x, w, torch.tensor([0, 1, 5, 2]))
    with pytest.raises(ValueError, match="target must hold class indices"):
        fn(x, w, torch.tensor([0, -1, 2, 2]))
    with losslib.value_checks(False):  # the switchable check really switches off
        fn(x, w, torch.tensor([0, 1, 2, 2]))
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError, match="scale must be positive"):
            fn(x, w, y, scale=bad)
    with pytest.raises(ValueError, match="margin"):
        fn(x, w, y, margin=-0.1)
    with pytest.raises(ValueError, match="scale must be finite"):
        fn(x, w, y, scale=float("inf"))
    with pytest.raises(ValueError, match="reduction"):
        fn(x, w, y, reduction="batchmean")


def test_arcface_margin_must_lie_in_zero_pi():
    x, w, y = rnd(4, 3), rnd(5, 3), labels(4, 5)
    with pytest.raises(ValueError, match=r"margin must lie in \[0.0, 3.14"):
        losslib.arcface_loss(x, w, y, margin=3.2)
    losslib.arcface_loss(x, w, y, margin=math.pi)  # the closed end is allowed


def test_cosface_margin_must_be_nonnegative():
    x, w, y = rnd(4, 3), rnd(5, 3), labels(4, 5)
    with pytest.raises(ValueError, match="margin must be non-negative, got -0.1"):
        losslib.cosface_loss(x, w, y, margin=-0.1)


def test_center_loss_raises_documented_errors():
    x, c, y = rnd(4, 3), rnd(5, 3), labels(4, 5)
    with pytest.raises(ValueError, match=r"features must have shape \[N, D\]"):
        losslib.center_loss(x[None], c, y)
    with pytest.raises(ValueError, match=r"centers must have shape \[C, D\] = \(5, 3\), got shape \(5, 4\)"):
        losslib.center_loss(x, rnd(5, 4), y)
    with pytest.raises(ValueError, match=r"centers must have shape \[C, D\] \(2 dims\)"):
        losslib.center_loss(x, c[0], y)
    with pytest.raises(TypeError, match="centers must be a floating-point tensor"):
        losslib.center_loss(x, c.int(), y)
    with pytest.raises(TypeError, match="target must hold integer"):
        losslib.center_loss(x, c, y.float())
    with pytest.raises(ValueError, match=r"target must hold class indices in \[0, 5\)"):
        losslib.center_loss(x, c, torch.tensor([0, 7, 1, 1]))
    with pytest.raises(ValueError, match=r"target must have shape \[N\]"):
        losslib.center_loss(x, c, y[:3])
    with pytest.raises(ValueError, match="centers must not be empty"):
        losslib.center_loss(x, c[:0], y)


def test_ge2e_raises_documented_errors():
    e = rnd(3, 4, 5)
    with pytest.raises(ValueError, match=r"embeddings must have shape \[N_speakers, M_utterances, D\]"):
        losslib.ge2e_loss(e[0])
    with pytest.raises(ValueError, match="at least 2 speakers .* got shape \\(1, 4, 5\\)"):
        losslib.ge2e_loss(e[:1])
    with pytest.raises(ValueError, match="at least 2 utterances per speaker .* got shape \\(3, 1, 5\\)"):
        losslib.ge2e_loss(e[:, :1])
    with pytest.raises(ValueError, match="must not be empty"):
        losslib.ge2e_loss(e[:, :, :0])
    for bad in (0.0, -10.0):
        with pytest.raises(ValueError, match=f"w must be positive, got {bad}"):
            losslib.ge2e_loss(e, w=bad)
    with pytest.raises(ValueError, match="b must be finite"):
        losslib.ge2e_loss(e, b=float("nan"))
    with pytest.raises(TypeError, match="w must be a real number"):
        losslib.ge2e_loss(e, w="10")
    with pytest.raises(ValueError, match=r"method must be one of \('softmax', 'contrast'\), got 'triplet'"):
        losslib.ge2e_loss(e, method="triplet")
    with pytest.raises(TypeError, match="embeddings must be a floating-point tensor"):
        losslib.ge2e_loss(e.long())


# ------------------------------------------------------- references at the defaults


@pytest.mark.parametrize("margin", [0.0, 0.2, 0.5, 1.0, 2.0, 3.0])
def test_arcface_equals_pytorch_metric_learning_at_default_scale(margin):
    x, w, y = rnd(16, 5, seed=1), rnd(7, 5, seed=2), labels(16, 7)
    want = pml_mean(pml.ArcFaceLoss, x, w, y, margin=float(np.degrees(margin)), scale=64.0)
    torch.testing.assert_close(losslib.arcface_loss(x, w, y, margin=margin), want)


@pytest.mark.parametrize("margin", [0.0, 0.35, 0.8])
def test_cosface_equals_pytorch_metric_learning_at_default_scale(margin):
    x, w, y = rnd(16, 5, seed=3), rnd(7, 5, seed=4), labels(16, 7, seed=1)
    want = pml_mean(pml.CosFaceLoss, x, w, y, margin=margin, scale=64.0)
    torch.testing.assert_close(losslib.cosface_loss(x, w, y, margin=margin), want)


def test_defaults_are_the_papers():
    x, w, y = rnd(6, 4), rnd(3, 4), labels(6, 3)
    torch.testing.assert_close(losslib.arcface_loss(x, w, y), losslib.arcface_loss(x, w, y, scale=64.0, margin=0.5))
    torch.testing.assert_close(losslib.cosface_loss(x, w, y), losslib.cosface_loss(x, w, y, scale=64.0, margin=0.35))
    e = rnd(3, 4, 5)
    torch.testing.assert_close(losslib.ge2e_loss(e, method="contrast"), ref_ge2e(e, method="contrast").mean())


# ------------------------------------------------------------- ArcFace: theta + m > pi


def _plane_setup(thetas: torch.Tensor):
    """Class 0 along e1, class 1 along e3; embeddings in the e1-e2 plane at angle theta
    from class 0, so cos(theta_1) = 0 for every embedding and the loss is
    softplus(-s * psi(theta)) with psi the target logit."""
    x = torch.stack([torch.cos(thetas), torch.sin(thetas), torch.zeros_like(thetas)], dim=1)
    w = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype=thetas.dtype)
    return x, w, torch.zeros(len(thetas), dtype=torch.long)


def _target_logit(thetas, margin, scale=2.0):
    x, w, y = _plane_setup(thetas)
    loss = losslib.arcface_loss(x, w, y, scale=scale, margin=margin, reduction="none")
    # loss = log(1 + exp(s * (0 - psi)))  =>  psi = -log(expm1(loss)) / s
    return -torch.log(torch.expm1(loss)) / scale


@pytest.mark.parametrize("margin", [0.3, 0.5, 1.2])
def test_arcface_target_logit_is_cos_theta_plus_m_then_the_insightface_fallback(margin):
    thetas = torch.linspace(0.01, math.pi - 0.01, 301, dtype=F64)
    psi = _target_logit(thetas, margin)
    inside = thetas + margin <= math.pi
    want = torch.where(inside, torch.cos(thetas + margin), torch.cos(thetas) - margin * math.sin(margin))
    torch.testing.assert_close(psi, want, rtol=1e-9, atol=1e-9)
    assert (~inside).any() and inside.any()  # both branches were exercised
    # the fallback keeps the target logit decreasing in theta, where cos(theta + m) is not
    assert (psi.diff() < 0).all()
    assert (torch.cos(thetas + margin)[~inside].diff() > 0).all()


def test_arcface_fallback_jump_at_pi_minus_m():
    m = 0.5
    below, above = math.pi - m - 1e-7, math.pi - m + 1e-7
    psi = _target_logit(torch.tensor([below, above], dtype=F64), m)
    torch.testing.assert_close(psi[0], torch.tensor(-1.0, dtype=F64), atol=1e-6, rtol=0)
    torch.testing.assert_close(psi[1], torch.tensor(-math.cos(m) - m * math.sin(m), dtype=F64), atol=1e-6, rtol=0)


# ----------------------------------------------- coincident embedding: finite gradient


def _naive_arcface(x, w, y, scale, margin):
    """acos-based ArcFace: its gradient is NaN where cos(theta_y) = 1."""
    cos = F.normalize(x, dim=1) @ F.normalize(w, dim=1).T
    theta = torch.acos(cos.gather(1, y[:, None]).clamp(-1, 1))
    logits = cos.scatter(1, y[:, None], torch.cos(theta + margin))
    return F.cross_entropy(scale * logits, y)


@pytest.mark.parametrize("dtype", [torch.float32, F64], ids=str)
@pytest.mark.parametrize("fn", [losslib.arcface_loss, losslib.cosface_loss], ids=lambda f: f.__name__)
def test_embedding_on_its_class_centre_has_finite_gradient(fn, dtype):
    w = torch.tensor([[2.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 1.0]], dtype=dtype)
    y = torch.tensor([0, 1, 2, 0])
    # on the centre (cos = 1, exactly representable), and one opposite to it (cos = -1)
    x = torch.tensor([[5.0, 0, 0], [0, 0.5, 0], [0, 0, 7.0], [-1.0, 0, 0]], dtype=dtype)
    x.requires_grad_(True)
    w.requires_grad_(True)
    cos_y = (F.normalize(x, dim=1) * F.normalize(w, dim=1)[y]).sum(1)
    assert cos_y[:3].eq(1).all() and cos_y[3].eq(-1)  # the hard case really is hit
    loss = fn(x, w, y)
    gx, gw = torch.autograd.grad(loss, [x, w])
    assert torch.isfinite(loss) and torch.isfinite(gx).all() and torch.isfinite(gw).all()
    if fn is losslib.arcface_loss:
        # the textbook acos form fails on exactly these inputs
        naive = _naive_arcface(x, w, y, 64.0, 0.5)
        assert not torch.isfinite(torch.autograd.grad(naive, x)[0]).all()


def test_arcface_gradient_near_the_centre_matches_finite_differences():
    w = rnd(3, 4, seed=5)
    x = (w[[0, 1]] + 1e-4 * rnd(2, 4, seed=6)).requires_grad_(True)
    y = torch.tensor([0, 1])
    assert torch.autograd.gradcheck(lambda t: losslib.arcface_loss(t, w, y, scale=8.0), (x,), eps=1e-7)


def test_arcface_at_the_centre_equals_the_limit_from_nearby():
    w = rnd(3, 4, seed=7)
    y = torch.tensor([0, 1, 2])
    at = losslib.arcface_loss(w.clone(), w, y, reduction="none")
    near = losslib.arcface_loss(w + 1e-9 * rnd(3, 4, seed=8), w, y, reduction="none")
    torch.testing.assert_close(at, near, rtol=1e-6, atol=1e-6)


# ------------------------------------------------------------ scale and margin properties


def test_zero_margin_arcface_equals_zero_margin_cosface_equals_scaled_softmax():
    x, w, y = rnd(10, 4, seed=9), rnd(5, 4, seed=10), labels(10, 5, seed=2)
    for s in (1.0, 16.0, 64.0):
        cos = F.normalize(x, dim=1) @ F.normalize(w, dim=1).T
        want = F.cross_entropy(s * cos, y, reduction="none")
        torch.testing.assert_close(losslib.arcface_loss(x, w, y, scale=s, margin=0.0, reduction="none"), want)
        torch.testing.assert_close(losslib.cosface_loss(x, w, y, scale=s, margin=0.0, reduction="none"), want)


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1))
def test_loss_grows_with_the_margin(seed):
    x, w, y = rnd(8, 3, seed=seed), rnd(4, 3, seed=seed + 1), labels(8, 4, seed=seed)
    margins = [0.0, 0.1, 0.3, 0.6, 1.0]
    arc = torch.stack([losslib.arcface_loss(x, w, y, scale=4.0, margin=m, reduction="none") for m in margins])
    cosf = torch.stack([losslib.cosface_loss(x, w, y, scale=4.0, margin=m, reduction="none") for m in margins])
    assert (cosf.diff(dim=0) > 0).all()
    # ArcFace's psi decreases in m for fixed theta (both branches, and across the switch)
    assert (arc.diff(dim=0) >= 0).all()


def test_large_scale_with_separated_classes_drives_the_loss_to_zero():
    w = torch.eye(3, dtype=F64)
    x = w + 0.05 * rnd(3, 3, seed=11)
    y = torch.arange(3)
    small = [losslib.cosface_loss(x, w, y, scale=s, margin=0.2) for s in (1.0, 8.0, 64.0)]
    assert small[0] > small[1] > small[2] and small[2] < 1e-6


@pytest.mark.parametrize("fn", [losslib.arcface_loss, losslib.cosface_loss], ids=lambda f: f.__name__)
def test_margin_losses_are_invariant_to_embedding_and_centre_norms(fn):
    x, w, y = rnd(6, 4, seed=12), rnd(3, 4, seed=13), labels(6, 3, seed=3)
    r = torch.rand(6, 1, dtype=F64, generator=torch.Generator().manual_seed(0)) * 100 + 0.01
    q = torch.rand(3, 1, dtype=F64, generator=torch.Generator().manual_seed(1)) * 100 + 0.01
    torch.testing.assert_close(fn(x * r, w * q, y, reduction="none"), fn(x, w, y, reduction="none"))


# -------------------------------------------------------------------------------- GE2E


@SETTINGS
@given(
    n=st.integers(2, 5),
    m=st.integers(2, 4),
    d=st.integers(2, 5),
    w=st.floats(0.1, 20.0),
    b=st.floats(-10.0, 10.0),
    method=st.sampled_from(["softmax", "contrast"]),
    seed=st.integers(0, 2**31 - 1),
)
def test_ge2e_equals_loop_transcription(n, m, d, w, b, method, seed):
    e = rnd(n, m, d, seed=seed)
    got = losslib.ge2e_loss(e, w=w, b=b, method=method, reduction="none")
    assert got.shape == (n, m)
    torch.testing.assert_close(got, ref_ge2e(e, w=w, b=b, method=method))


def test_ge2e_uses_the_exclusive_centroid_for_the_own_speaker():
    # speaker 0: utterances at 0 and 90 degrees; speaker 1: at -90 degrees (twice)
    e = torch.tensor([[[1.0, 0.0], [0.0, 1.0]], [[0.0, -1.0], [0.0, -1.0]]], dtype=F64)
    w, b = 2.0, 0.0
    # utterance (0, 0): exclusive centroid is (0, 1), cosine 0; the inclusive centroid
    # (0.5, 0.5) would give cosine 1/sqrt 2. Other speaker's centroid (0, -1): cosine 0.
    s_own, s_other = w * 0.0 + b, w * 0.0 + b
    want = -s_own + math.log(math.exp(s_own) + math.exp(s_other))
    got = losslib.ge2e_loss(e, w=w, b=b, reduction="none")
    torch.testing.assert_close(got[0, 0], torch.tensor(want, dtype=F64))
    inclusive = w / math.sqrt(2)
    wrong = -inclusive + math.log(math.exp(inclusive) + math.exp(s_other))
    assert abs(float(got[0, 0]) - wrong) > 0.1
    # speaker 1: the exclusive centroid is the other copy, cosine 1
    s1 = w * 1.0
    s1_other = w * (-1.0 / math.sqrt(2))  # speaker 0's centroid (0.5, 0.5): cosine -1/sqrt 2
    torch.testing.assert_close(got[1, 0], torch.tensor(-s1 + math.log(math.exp(s1) + math.exp(s1_other)), dtype=F64))


def test_ge2e_contrast_uses_the_hardest_other_speaker():
    e = rnd(4, 3, 6, seed=14)
    out = losslib.ge2e_loss(e, method="contrast", reduction="none")
    torch.testing.assert_close(out, ref_ge2e(e, method="contrast"))
    assert (out >= 0).all() and (out <= 2).all()


def test_ge2e_softmax_does_not_depend_on_b_but_contrast_does():
    e = rnd(3, 4, 5, seed=15)
    a = losslib.ge2e_loss(e, b=-5.0, reduction="none")
    torch.testing.assert_close(losslib.ge2e_loss(e, b=3.0, reduction="none"), a)
    c1 = losslib.ge2e_loss(e, b=-5.0, method="contrast")
    c2 = losslib.ge2e_loss(e, b=3.0, method="contrast")
    assert abs(float(c1 - c2)) > 1e-3


def test_ge2e_is_invariant_to_each_embedding_norm():
    e = rnd(3, 4, 5, seed=16)
    r = torch.rand(3, 4, 1, dtype=F64, generator=torch.Generator().manual_seed(2)) * 50 + 0.01
    for method in ("softmax", "contrast"):
        torch.testing.assert_close(
            losslib.ge2e_loss(e * r, method=method, reduction="none"),
            losslib.ge2e_loss(e, method=method, reduction="none"),
        )


def test_ge2e_speaker_permutation_permutes_rows_and_utterance_permutation_columns():
    e = rnd(4, 3, 5, seed=17)
    out = losslib.ge2e_loss(e, reduction="none")
    torch.testing.assert_close(losslib.ge2e_loss(e[[2, 0, 3, 1]], reduction="none"), out[[2, 0, 3, 1]])
    torch.testing.assert_close(losslib.ge2e_loss(e[:, [2, 0, 1]], reduction="none"), out[:, [2, 0, 1]])


def test_ge2e_well_separated_speakers_have_small_loss_and_mixed_ones_large():
    centres = torch.eye(4, dtype=F64)[:3] * 10
    tight = centres[:, None, :] + 0.01 * rnd(3, 5, 4, seed=18)
    mixed = rnd(3, 5, 4, seed=19)
    assert losslib.ge2e_loss(tight, w=10.0) < 0.01 < losslib.ge2e_loss(mixed, w=10.0)


@pytest.mark.parametrize("method", ["softmax", "contrast"])
def test_ge2e_finite_gradient_with_zero_embedding_and_zero_centroid(method):
    e = rnd(3, 2, 3, seed=20)
    e[0, 0] = 0.0  # a zero embedding
    e[1, 1] = -e[1, 0]  # speaker 1's centroid is the zero vector
    e[2, 1] = e[2, 0] * 2  # speaker 2's utterances coincide in direction (cosine 1)
    e.requires_grad_(True)
    loss = losslib.ge2e_loss(e, method=method)
    (g,) = torch.autograd.grad(loss, e)
    assert torch.isfinite(loss) and torch.isfinite(g).all()
    if method == "softmax":  # the zero embedding has cosine 0 with every centroid: log N
        out = losslib.ge2e_loss(e.detach(), reduction="none")
        torch.testing.assert_close(out[0, 0], torch.tensor(math.log(3.0), dtype=F64))


def test_ge2e_learnable_w_and_b_receive_gradients():
    e = rnd(3, 4, 5, seed=21)
    w = torch.tensor(10.0, dtype=F64, requires_grad=True)
    b = torch.tensor(-5.0, dtype=F64, requires_grad=True)
    loss = losslib.ge2e_loss(e, w=w, b=b, method="contrast")
    gw, gb = torch.autograd.grad(loss, [w, b])
    assert torch.isfinite(gw) and torch.isfinite(gb) and gw != 0 and gb != 0
    torch.testing.assert_close(loss, ref_ge2e(e, w=10.0, b=-5.0, method="contrast").mean())


# ------------------------------------------------------------------------- centre loss


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 8), c=st.integers(1, 5), d=st.integers(1, 4))
def test_center_loss_equals_formula_and_gradient_is_x_minus_c(seed, n, c, d):
    x, centres, y = rnd(n, d, seed=seed), rnd(c, d, seed=seed + 1), labels(n, c, seed=seed)
    x.requires_grad_(True)
    loss = losslib.center_loss(x, centres, y, reduction="sum")
    torch.testing.assert_close(loss, ref_center(x.detach(), centres, y).sum())
    (g,) = torch.autograd.grad(loss, x)
    torch.testing.assert_close(g, x.detach() - centres[y])


def test_center_loss_is_zero_at_the_centres_and_half_squared_distance_otherwise():
    centres = rnd(3, 4, seed=22)
    y = torch.tensor([2, 0, 1, 2])
    assert torch.equal(losslib.center_loss(centres[y], centres, y, reduction="none"), torch.zeros(4, dtype=F64))
    shifted = centres[y] + torch.tensor([3.0, 4.0, 0.0, 0.0], dtype=F64)  # distance 5
    torch.testing.assert_close(losslib.center_loss(shifted, centres, y), torch.tensor(12.5, dtype=F64))
