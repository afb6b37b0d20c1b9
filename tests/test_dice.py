"""dice_loss and generalized_dice_loss: MONAI equality for every option and spatial rank,
empty classes (the hard case), the documented errors and the properties of the Dice
overlap (range, perfect prediction, symmetry, pixel-permutation invariance, D = 2J/(1+J))."""

from __future__ import annotations

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import losslib

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)
SEEDS = st.integers(0, 2**31 - 1)
SPATIAL = {1: (9,), 2: (5, 4), 3: (3, 4, 2)}


def draw(seed: int, rank: int, n: int = 3, c: int = 3, *, empty: bool = True):
    """Softmax probabilities and one-hot targets ``[n, c, *SPATIAL[rank]]``, float64.
    With ``empty``, class ``c - 1`` is absent from sample 0's target and sample 1's
    target and prediction are both empty in class 0."""
    g = torch.Generator().manual_seed(seed)
    shape = (n, c, *SPATIAL[rank])
    p = torch.softmax(2 * torch.randn(*shape, generator=g, dtype=torch.float64), dim=1)
    labels = torch.randint(0, c, (n, *SPATIAL[rank]), generator=g)
    if empty:
        labels[0][labels[0] == c - 1] = 0
        labels[1][labels[1] == 0] = 1
        p = p.clone()
        p[1, 0] = 0.0
    target = torch.movedim(torch.nn.functional.one_hot(labels, c), -1, 1).to(p.dtype)
    return p, target


def monai_dice(p, g, **kw):
    from monai.losses import DiceLoss

    return DiceLoss(**kw, reduction="none")(p, g).reshape(p.shape[:2])


def monai_generalized_dice(p, g, **kw):
    from monai.losses import GeneralizedDiceLoss

    return GeneralizedDiceLoss(**kw, reduction="none")(p, g).reshape(p.shape[:1])


def generalized_dice_formula(p, g, smooth):
    """Sudre et al.'s formula written out per sample, in plain Python loops over classes."""
    out = []
    for pn, gn in zip(p, g, strict=True):
        volumes = [float(gc.sum()) for gc in gn]
        finite = [1.0 / v**2 for v in volumes if v > 0]
        fill = max(finite) if finite else 0.0
        weights = [1.0 / v**2 if v > 0 else fill for v in volumes]
        num = sum(2 * w * float((pc * gc).sum()) for w, pc, gc in zip(weights, pn, gn, strict=True))
        den = sum(w * float(pc.sum() + gc.sum()) for w, pc, gc in zip(weights, pn, gn, strict=True))
        out.append(1 - (num + smooth) / (den + smooth))
    return torch.tensor(out, dtype=torch.float64)


# ---------------------------------------------------------------- equality with MONAI


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("squared", [True, False])
@pytest.mark.parametrize("smooth", [1e-5, 1e-2, 1.0])
@pytest.mark.parametrize("empty", [False, True], ids=["random", "empty-classes"])
def test_dice_equals_monai(rank, squared, smooth, empty):
    p, g = draw(rank * 10 + int(squared), rank, empty=empty)
    got = losslib.dice_loss(p, g, squared=squared, smooth=smooth, reduction="none")
    assert got.shape == p.shape[:2]
    want = monai_dice(p, g, squared_pred=squared, smooth_nr=smooth, smooth_dr=smooth)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    for r in ("mean", "sum"):
        m = monai_dice(p, g, squared_pred=squared, smooth_nr=smooth, smooth_dr=smooth)
        torch.testing.assert_close(
            losslib.dice_loss(p, g, squared=squared, smooth=smooth, reduction=r), getattr(m, r)()
        )


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("smooth", [1e-5, 1e-2, 1.0])
@pytest.mark.parametrize("empty", [False, True], ids=["random", "empty-classes"])
def test_generalized_dice_equals_monai_and_the_formula(rank, smooth, empty):
    p, g = draw(rank, rank, empty=empty)
    got = losslib.generalized_dice_loss(p, g, smooth=smooth, reduction="none")
    assert got.shape == p.shape[:1]
    # MONAI rounds the class weights to float32, hence the looser tolerance
    want = monai_generalized_dice(p, g, smooth_nr=smooth, smooth_dr=smooth)
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-8)
    torch.testing.assert_close(got, generalized_dice_formula(p, g, smooth), rtol=1e-12, atol=1e-12)


def test_multilabel_float32_input_equals_monai():
    g = torch.Generator().manual_seed(5)
    p = torch.rand(2, 4, 6, 6, generator=g)
    t = (torch.rand(2, 4, 6, 6, generator=g) < 0.2).float()
    t[1, 2] = 0
    torch.testing.assert_close(
        losslib.dice_loss(p, t, reduction="none"), monai_dice(p, t, squared_pred=True), rtol=1e-5, atol=1e-6
    )
    torch.testing.assert_close(
        losslib.generalized_dice_loss(p, t, reduction="none"), monai_generalized_dice(p, t), rtol=1e-5, atol=1e-6
    )


# ------------------------------------------------------- hard case: empty classes


@pytest.mark.parametrize("squared", [True, False])
def test_dice_of_a_class_empty_in_both_is_zero_with_a_finite_gradient(squared):
    smooth = 1e-5
    p = torch.zeros(1, 1, 4, 4, dtype=torch.float64, requires_grad=True)
    g = torch.zeros(1, 1, 4, 4, dtype=torch.float64)
    loss = losslib.dice_loss(p, g, squared=squared, smooth=smooth)
    assert loss.item() == 0.0
    (grad,) = torch.autograd.grad(loss, p)
    assert torch.isfinite(grad).all()
    # d/dp_i of 1 - (2 sum pg + s) / (D + s) at p = g = 0: 0 with p^2 in D, 1/s with p in D
    expected = 1.0 / smooth if not squared else 0.0
    torch.testing.assert_close(grad, torch.full_like(grad, expected))


@pytest.mark.parametrize("squared", [True, False])
def test_dice_of_a_class_empty_in_the_target_only_is_nearly_one(squared):
    smooth = 1e-5
    p = torch.full((1, 1, 3, 3), 0.2, dtype=torch.float64, requires_grad=True)
    g = torch.zeros_like(p)
    loss = losslib.dice_loss(p, g, squared=squared, smooth=smooth)
    mass = 9 * (0.04 if squared else 0.2)
    torch.testing.assert_close(loss, torch.tensor(1 - smooth / (mass + smooth), dtype=torch.float64))
    (grad,) = torch.autograd.grad(loss, p)
    assert torch.isfinite(grad).all() and (grad >= 0).all()


def test_generalized_dice_gives_an_empty_class_the_largest_finite_weight():
    # hand-computed: volumes 2 and 0 -> weights 1/4 and (filled) 1/4, smooth = 0
    p = torch.tensor([[[1.0, 0.5, 0.0, 0.0], [0.0, 0.0, 0.5, 0.0]]], dtype=torch.float64)
    g = torch.tensor([[[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]], dtype=torch.float64)
    # numerator 2 * 1/4 * 1.5 = 0.75; denominator 1/4 * (1.5 + 2) + 1/4 * 0.5 = 1.0
    got = losslib.generalized_dice_loss(p, g, smooth=0.0, reduction="none")
    torch.testing.assert_close(got, torch.tensor([0.25], dtype=torch.float64))
    # a third class with volume 1 has weight 1, which is then also the empty class's weight
    p3 = torch.cat([p, torch.tensor([[[0.0, 0.0, 0.0, 1.0]]], dtype=torch.float64)], 1)
    g3 = torch.cat([g, torch.tensor([[[0.0, 0.0, 0.0, 1.0]]], dtype=torch.float64)], 1)
    num = 2 * (0.25 * 1.5 + 1.0 * 1.0)
    den = 0.25 * 3.5 + 1.0 * 0.5 + 1.0 * 2.0
    got = losslib.generalized_dice_loss(p3, g3, smooth=0.0, reduction="none")
    torch.testing.assert_close(got, torch.tensor([1 - num / den], dtype=torch.float64))


@pytest.mark.parametrize("pred", ["zero", "random"])
def test_generalized_dice_of_an_all_empty_sample_is_zero_with_a_finite_gradient(pred):
    p = torch.zeros(2, 3, 4, 4, dtype=torch.float64)
    if pred == "random":
        p = torch.softmax(torch.randn(2, 3, 4, 4, generator=torch.Generator().manual_seed(0)), 1).double()
    p.requires_grad_(True)
    g = torch.zeros_like(p)
    g[1, 0, :2] = 1.0  # sample 1 has one non-empty class, sample 0 none
    loss = losslib.generalized_dice_loss(p, g, reduction="none")
    assert torch.isfinite(loss).all()
    assert loss[0].item() == 0.0  # every weight is 0: 1 - s / s
    torch.testing.assert_close(loss, monai_generalized_dice(p.detach(), g), rtol=1e-6, atol=1e-8)
    (grad,) = torch.autograd.grad(loss.sum(), p)
    assert torch.isfinite(grad).all()
    assert (grad[0] == 0).all()


@pytest.mark.parametrize("fn", [losslib.dice_loss, losslib.generalized_dice_loss])
def test_empty_classes_give_finite_values_and_gradients_in_float32(fn):
    p = torch.zeros(2, 3, 8, 8, requires_grad=True)
    g = torch.zeros(2, 3, 8, 8)
    g[0, 1, 3:5, 3:5] = 1.0
    loss = fn(p, g)
    (grad,) = torch.autograd.grad(loss, p)
    assert torch.isfinite(loss) and torch.isfinite(grad).all()


# ------------------------------------------------------------------------- errors


@pytest.mark.parametrize("fn", [losslib.dice_loss, losslib.generalized_dice_loss])
def test_documented_errors(fn):
    p, g = draw(0, 2, empty=False)
    with pytest.raises(ValueError, match="smooth must be non-negative"):
        fn(p, g, smooth=-1.0)
    with pytest.raises(ValueError, match=r"probs must hold probabilities in \[0, 1\]"):
        fn(p * 2, g)
    with pytest.raises(ValueError, match=r"target must hold probabilities in \[0, 1\]"):
        fn(p, g - 0.5)
    with pytest.raises(ValueError, match=r"probs must have shape \[N, C, d1, \.\.\.\]"):
        fn(p[:, :, 0, 0], g[:, :, 0, 0])
    with pytest.raises(ValueError, match="target must have the shape of probs"):
        fn(p, g[:, :2])
    with pytest.raises(TypeError, match="target must be a floating-point tensor"):
        fn(p, g.long())
    with pytest.raises(ValueError, match="reduction must be one of"):
        fn(p, g, reduction="batchmean")
    with losslib.value_checks(False):  # value checks can be switched off; shapes cannot
        assert torch.isfinite(fn(p * 2, g))
        with pytest.raises(ValueError, match="shape"):
            fn(p, g[:, :2])


def test_smooth_zero_makes_an_empty_class_nan_as_documented():
    p, g = torch.zeros(1, 1, 3), torch.zeros(1, 1, 3)
    assert torch.isnan(losslib.dice_loss(p, g, smooth=0.0))


# --------------------------------------------------------------------- properties


@SETTINGS
@given(seed=SEEDS, rank=st.sampled_from([1, 2, 3]), squared=st.booleans(), smooth=st.sampled_from([0.0, 1e-5, 1.0]))
def test_loss_lies_in_the_unit_interval(seed, rank, squared, smooth):
    g = torch.Generator().manual_seed(seed)
    p = torch.rand(2, 3, *SPATIAL[rank], generator=g, dtype=torch.float64)
    t = torch.rand(2, 3, *SPATIAL[rank], generator=g, dtype=torch.float64)
    for loss in (
        losslib.dice_loss(p, t, squared=squared, smooth=smooth, reduction="none"),
        losslib.generalized_dice_loss(p, t, smooth=smooth, reduction="none"),
    ):
        assert (loss >= -1e-12).all() and (loss <= 1 + 1e-12).all()


@SETTINGS
@given(seed=SEEDS, rank=st.sampled_from([1, 2, 3]), squared=st.booleans(), smooth=st.sampled_from([0.0, 1e-5, 1.0]))
def test_perfect_prediction_has_zero_loss(seed, rank, squared, smooth):
    _, g = draw(seed, rank, empty=smooth > 0)
    if smooth == 0:  # then a class empty in both is 0/0 (documented): leave those out
        assume(bool((g.flatten(2).sum(-1) > 0).all()))
    torch.testing.assert_close(
        losslib.dice_loss(g, g, squared=squared, smooth=smooth, reduction="none"),
        torch.zeros(g.shape[:2], dtype=g.dtype),
        rtol=0,
        atol=1e-12,
    )
    if smooth > 0:
        gd = losslib.generalized_dice_loss(g, g, smooth=smooth, reduction="none")
        torch.testing.assert_close(gd, torch.zeros(g.shape[:1], dtype=g.dtype), rtol=0, atol=1e-12)
    # a soft target is matched exactly by the squared form (sum (p - g)^2 = 0)
    soft = torch.rand(g.shape, generator=torch.Generator().manual_seed(seed), dtype=g.dtype)
    assert losslib.dice_loss(soft, soft, squared=True, smooth=smooth) < 1e-12


@SETTINGS
@given(seed=SEEDS, rank=st.sampled_from([1, 2, 3]), squared=st.booleans())
def test_dice_is_symmetric_for_binary_masks(seed, rank, squared):
    g = torch.Generator().manual_seed(seed)
    a = (torch.rand(2, 2, *SPATIAL[rank], generator=g) < 0.4).double()
    b = (torch.rand(2, 2, *SPATIAL[rank], generator=g) < 0.4).double()
    torch.testing.assert_close(
        losslib.dice_loss(a, b, squared=squared, reduction="none"),
        losslib.dice_loss(b, a, squared=squared, reduction="none"),
    )
    # for binary masks p^2 = p, so the squared and linear forms agree
    torch.testing.assert_close(
        losslib.dice_loss(a, b, squared=True, reduction="none"),
        losslib.dice_loss(a, b, squared=False, reduction="none"),
    )


@SETTINGS
@given(seed=SEEDS, rank=st.sampled_from([1, 2, 3]))
def test_invariant_to_permuting_pixels(seed, rank):
    p, g = draw(seed, rank)
    n, c = p.shape[:2]
    perm = torch.randperm(g[0, 0].numel(), generator=torch.Generator().manual_seed(seed))
    pp = p.reshape(n, c, -1)[..., perm].reshape(p.shape)
    gp = g.reshape(n, c, -1)[..., perm].reshape(g.shape)
    for fn in (losslib.dice_loss, losslib.generalized_dice_loss):
        torch.testing.assert_close(fn(pp, gp, reduction="none"), fn(p, g, reduction="none"))


@SETTINGS
@given(seed=SEEDS)
def test_dice_and_jaccard_satisfy_d_equals_2j_over_1_plus_j(seed):
    g = torch.Generator().manual_seed(seed)
    a = torch.rand(1, 1, 50, generator=g) < 0.5
    b = torch.rand(1, 1, 50, generator=g) < 0.5
    if not (a | b).any():
        return
    jaccard = (a & b).sum().item() / (a | b).sum().item()
    dice = 1 - losslib.dice_loss(a.double(), b.double(), squared=False, smooth=0.0).item()
    assert dice == pytest.approx(2 * jaccard / (1 + jaccard), abs=1e-12)


@SETTINGS
@given(seed=SEEDS, squared=st.booleans())
def test_more_overlap_never_increases_the_loss(seed, squared):
    """Raising p on a foreground pixel lowers the loss; the gradient there is negative."""
    p, g = draw(seed, 2, n=1, c=2, empty=False)
    p = p.clone().requires_grad_(True)
    loss = losslib.dice_loss(p, g, squared=squared, smooth=1e-5)
    (grad,) = torch.autograd.grad(loss, p)
    assert (grad[g == 1] <= 0).all()
