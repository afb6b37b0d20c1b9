"""Embedding losses (issue 8): the libraries' conventions mapped exactly, the hard cases and
properties.

- pytorch-metric-learning: ``ContrastiveLoss`` (its per-pair value is the plain hinge of the
  plain distance, so Hadsell's loss is half its square: tested per pair with
  ``DoNothingReducer``, ``LpDistance(normalize_embeddings=False)`` and the pairs given as an
  ``indices_tuple``), ``NTXentLoss``, ``NPairsLoss``, ``ProxyNCALoss`` (it normalises
  embeddings and proxies) and ``SupConLoss`` (its ``AvgNonZeroReducer`` averages the anchors
  with a positive, as ``"mean"`` does here);
- info-nce-pytorch's ``info_nce`` in its three negative modes;
- open_clip's ``ClipLoss`` and ``SigLipLoss``, loaded from the file ``open_clip/loss.py``
  alone (it imports only torch; the package's own import needs torchvision, which does not
  import beside this torch build);
- hard cases: identical points and cos = ±1 give finite gradients, τ = 0.01 in float32,
  a batch of one, labels outside {0, 1}, SupCon anchors without a positive.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from pytorch_metric_learning import distances, losses
from pytorch_metric_learning.reducers import DoNothingReducer

import losslib

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
PROPERTY = settings(max_examples=20, deadline=None, derandomize=True)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def randn(*shape, seed=0):
    return torch.randn(*shape, generator=gen(seed), dtype=torch.float64)


@pytest.fixture(scope="module")
def open_clip_loss():
    files = importlib.metadata.files("open-clip-torch") or []
    path = next(f.locate() for f in files if str(f).endswith("open_clip/loss.py"))
    spec = importlib.util.spec_from_file_location("open_clip_loss", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------- pytorch-metric-learning


@pytest.mark.parametrize("margin", [0.5, 1.0, 3.0])
def test_contrastive_is_half_the_square_of_pml_per_pair(margin):
    b = 10
    x1, x2 = randn(b, 4, seed=1), randn(b, 4, seed=2)
    similar = torch.tensor([1, 0, 1, 1, 0, 0, 1, 0, 0, 1])
    pml = losses.ContrastiveLoss(
        pos_margin=0.0,
        neg_margin=margin,
        distance=distances.LpDistance(normalize_embeddings=False),
        reducer=DoNothingReducer(),
    )
    pos, neg = similar.nonzero().squeeze(1), (similar == 0).nonzero().squeeze(1)
    out = pml(torch.cat([x1, x2]), indices_tuple=(pos, pos + b, neg, neg + b))
    want = torch.zeros(b, dtype=torch.float64)
    want[pos] = 0.5 * out["pos_loss"]["losses"] ** 2
    want[neg] = 0.5 * out["neg_loss"]["losses"] ** 2
    got = losslib.contrastive_loss(x1, x2, similar, margin=margin, reduction="none")
    torch.testing.assert_close(got, want)


def test_nt_xent_equals_pml():
    z1, z2 = randn(6, 5, seed=3), randn(6, 5, seed=4)
    labels = torch.arange(6).repeat(2)
    for temperature in (0.5, 0.07):
        want = losses.NTXentLoss(temperature=temperature)(torch.cat([z1, z2]), labels)
        torch.testing.assert_close(losslib.nt_xent_loss(z1, z2, temperature=temperature), want)
        per_pair = losses.NTXentLoss(temperature=temperature, reducer=DoNothingReducer())(torch.cat([z1, z2]), labels)
        anchors = per_pair["loss"]["indices"][0]
        got = losslib.nt_xent_loss(z1, z2, temperature=temperature, reduction="none")
        torch.testing.assert_close(got[anchors], per_pair["loss"]["losses"])


def test_n_pair_equals_pml():
    """pml's default DotProductSimilarity normalises the embeddings (cosines); the paper's
    loss uses raw dot products, pml's with normalize_embeddings=False."""
    a, p = randn(7, 4, seed=5), randn(7, 4, seed=6)
    labels = torch.arange(7).repeat(2)
    raw = losses.NPairsLoss(distance=distances.DotProductSimilarity(normalize_embeddings=False))
    torch.testing.assert_close(losslib.n_pair_loss(a, p), raw(torch.cat([a, p]), labels))
    cosine = losses.NPairsLoss()(torch.cat([a, p]), labels)
    torch.testing.assert_close(losslib.n_pair_loss(F.normalize(a, dim=1), F.normalize(p, dim=1)), cosine)


def test_proxy_nca_on_normalised_inputs_equals_pml():
    x, proxies = randn(9, 4, seed=7), randn(3, 4, seed=8)
    y = torch.tensor([0, 1, 2, 0, 1, 2, 2, 1, 0])
    pml = losses.ProxyNCALoss(num_classes=3, embedding_size=4, reducer=DoNothingReducer())
    pml.proxies.data = proxies.clone()
    want = pml(x, y)["loss"]["losses"]
    got = losslib.proxy_nca_loss(F.normalize(x, dim=1), y, F.normalize(proxies, dim=1), reduction="none")
    torch.testing.assert_close(got, want)


@pytest.mark.parametrize("temperature", [0.1, 0.5])
def test_supcon_equals_pml_incl_anchors_without_positive(temperature):
    x = randn(9, 4, seed=9)
    y = torch.tensor([0, 1, 0, 2, 1, 0, 3, 1, 4])  # labels 2, 3 and 4 have one sample: no positive
    want = losses.SupConLoss(temperature=temperature)(x, y)
    torch.testing.assert_close(losslib.supervised_contrastive_loss(x, y, temperature=temperature), want)
    per_anchor = losses.SupConLoss(temperature=temperature, reducer=DoNothingReducer())(x, y)["loss"]["losses"]
    got = losslib.supervised_contrastive_loss(x, y, temperature=temperature, reduction="none")
    torch.testing.assert_close(got, per_anchor)
    assert (got[[3, 6, 8]] == 0).all()


# ---------------------------------------------------- info-nce-pytorch, open_clip


@pytest.mark.parametrize("mode", ["in-batch", "unpaired", "paired"])
def test_info_nce_equals_info_nce_pytorch(mode):
    from info_nce import info_nce

    q, k = randn(6, 8, seed=10), randn(6, 8, seed=11)
    negatives = {"in-batch": None, "unpaired": randn(5, 8, seed=12), "paired": randn(6, 5, 8, seed=13)}[mode]
    kwargs = {} if negatives is None else {"negative_mode": mode}
    want = info_nce(q, k, negatives, temperature=0.2, reduction="none", **kwargs)
    got = losslib.info_nce_loss(q, k, negatives, temperature=0.2, reduction="none")
    torch.testing.assert_close(got, want)


@pytest.mark.parametrize("temperature", [0.07, 1.0])
def test_clip_equals_open_clip(open_clip_loss, temperature):
    x, y = randn(8, 6, seed=14), randn(8, 6, seed=15)
    want = open_clip_loss.ClipLoss()(F.normalize(x, dim=1), F.normalize(y, dim=1), logit_scale=1 / temperature)
    torch.testing.assert_close(losslib.clip_loss(x, y, temperature=temperature), want)


@pytest.mark.parametrize(("scale", "bias"), [(10.0, -10.0), (1.0, 0.0), (30.0, -5.0)])
def test_siglip_equals_open_clip(open_clip_loss, scale, bias):
    x, y = randn(8, 6, seed=16), randn(8, 6, seed=17)
    want = open_clip_loss.SigLipLoss()(F.normalize(x, dim=1), F.normalize(y, dim=1), scale, bias)
    torch.testing.assert_close(losslib.siglip_loss(x, y, scale=scale, bias=bias), want)


# ------------------------------------------------------------------ hard cases


def _grads(fn, *tensors):
    tensors = [t.clone().requires_grad_(True) for t in tensors]
    out = fn(*tensors)
    return out, torch.autograd.grad(out, tensors)


def test_identical_points_give_finite_gradients():
    x = randn(4, 3, seed=18).float()
    for similar in (torch.ones(4), torch.zeros(4)):
        out, grads = _grads(lambda a, b, s=similar: losslib.contrastive_loss(a, b, s), x, x)
        assert torch.isfinite(out) and all(torch.isfinite(g).all() for g in grads)
    # cos = +1 (positive = anchor) and cos = -1 (positive = -anchor)
    for positive in (x, -x, 2 * x):
        out, grads = _grads(
            lambda a, p, n: losslib.angular_triplet_loss(a, p, n), x, positive, randn(4, 3, seed=19).float()
        )
        assert torch.isfinite(out) and all(torch.isfinite(g).all() for g in grads)


def test_angular_triplet_beyond_pi_and_its_zone():
    a = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    p = torch.tensor([[-1.0, 1e-3]], dtype=torch.float64)  # θ_ap ≈ π: θ + m > π, target cos π = -1
    n = torch.tensor([[0.0, 1.0]], dtype=torch.float64)  # cos θ_an = 0
    assert math.isclose(losslib.angular_triplet_loss(a, p, n, margin=0.5).item(), 1.0, rel_tol=1e-12)
    far = torch.tensor([[-1.0, 0.0]], dtype=torch.float64)  # the negative opposite the anchor
    close = torch.tensor([[1.0, 0.1]], dtype=torch.float64)
    assert losslib.angular_triplet_loss(a, close, far, margin=0.5).item() == 0.0


@pytest.mark.parametrize(
    "name", ["info_nce_loss", "nt_xent_loss", "clip_loss", "supervised_contrastive_loss", "n_pair_loss"]
)
def test_temperature_of_001_in_float32_stays_finite(name):
    x, y = randn(8, 4, seed=20).float() * 30, randn(8, 4, seed=21).float() * 30
    if name == "supervised_contrastive_loss":
        out, grads = _grads(lambda a: losslib.supervised_contrastive_loss(a, torch.arange(8) % 3, temperature=0.01), x)
    elif name == "n_pair_loss":  # no temperature: dot products of magnitude ~1e3
        out, grads = _grads(losslib.n_pair_loss, x, y)
    else:
        fn = getattr(losslib, name)
        out, grads = _grads(lambda a, b: fn(a, b, temperature=0.01), x, y)
    assert torch.isfinite(out) and all(torch.isfinite(g).all() for g in grads)
    x64, y64 = x.double(), y.double()
    if name == "nt_xent_loss":  # float32 agrees with float64 at these logits (up to 100)
        torch.testing.assert_close(out.double(), losslib.nt_xent_loss(x64, y64, temperature=0.01), rtol=1e-4, atol=1e-4)


def test_batch_of_one():
    x, y = randn(1, 4, seed=22), randn(1, 4, seed=23)
    for name in ("info_nce_loss", "nt_xent_loss", "clip_loss", "n_pair_loss"):
        assert getattr(losslib, name)(x, y).item() == 0.0, name  # the positive is the only candidate
    assert losslib.supervised_contrastive_loss(x, torch.tensor([0])).item() == 0.0  # no positive
    torch.testing.assert_close(losslib.siglip_loss(x, y), -F.logsigmoid(10 * F.cosine_similarity(x, y) - 10).sum())


def test_supcon_with_no_positive_anywhere_is_zero_not_nan():
    x = randn(4, 3, seed=24).requires_grad_(True)
    out = losslib.supervised_contrastive_loss(x, torch.arange(4))
    (grad,) = torch.autograd.grad(out, x)
    assert out.item() == 0.0 and (grad == 0).all()


def test_contrastive_labels_outside_0_1_raise():
    x = randn(3, 2)
    with pytest.raises(ValueError, match="similar must hold 0 or 1"):
        losslib.contrastive_loss(x, x, torch.tensor([1.0, -1.0, 0.0]))
    with pytest.raises(ValueError, match="similar must hold 0 or 1"):
        losslib.contrastive_loss(x, x, torch.tensor([2, 0, 1]))
    torch.testing.assert_close(
        losslib.contrastive_loss(x, x + 1, torch.tensor([True, False, True])),
        losslib.contrastive_loss(x, x + 1, torch.tensor([1.0, 0.0, 1.0])),
    )


# ------------------------------------------------------------------- properties


@PROPERTY
@given(seed=SEEDS, factor=st.floats(0.1, 10.0))
def test_cosine_losses_ignore_the_norm_of_each_row(seed, factor):
    x, y = randn(5, 4, seed=seed), randn(5, 4, seed=seed + 1)
    for name in ("info_nce_loss", "nt_xent_loss", "clip_loss", "siglip_loss", "angular_triplet_loss"):
        fn = getattr(losslib, name)
        args = (x, y) if name != "angular_triplet_loss" else (x, y, y.flip(0))
        scaled = tuple(a * factor for a in args)
        torch.testing.assert_close(fn(*scaled, reduction="none"), fn(*args, reduction="none"))


@PROPERTY
@given(seed=SEEDS)
def test_clip_is_symmetric_and_nt_xent_swaps_halves(seed):
    x, y = randn(5, 4, seed=seed), randn(5, 4, seed=seed + 1)
    torch.testing.assert_close(losslib.clip_loss(x, y, reduction="none"), losslib.clip_loss(y, x, reduction="none"))
    forward = losslib.nt_xent_loss(x, y, reduction="none")
    torch.testing.assert_close(losslib.nt_xent_loss(y, x, reduction="none"), torch.cat([forward[5:], forward[:5]]))


@PROPERTY
@given(seed=SEEDS)
def test_contrastive_zero_when_similar_pairs_coincide_and_dissimilar_are_far(seed):
    x = randn(6, 3, seed=seed)
    far = x + 10.0
    similar = torch.tensor([1, 1, 1, 0, 0, 0])
    partners = torch.cat([x[:3], far[3:]])
    assert losslib.contrastive_loss(x, partners, similar, margin=1.0).item() == 0.0


@PROPERTY
@given(seed=SEEDS)
def test_info_nce_is_at_most_log_of_the_candidates_when_all_similarities_equal(seed):
    """With one query direction for every key, each logit is equal: the loss is log(#candidates)."""
    q = randn(1, 3, seed=seed).repeat(6, 1)
    loss = losslib.info_nce_loss(q, q.clone(), reduction="none")
    torch.testing.assert_close(loss, torch.full((6,), math.log(6), dtype=torch.float64))


# ----------------------------------------------------------------------- errors


def test_embedding_errors():
    x = randn(4, 3)
    with pytest.raises(ValueError, match="temperature must be positive"):
        losslib.info_nce_loss(x, x, temperature=0.0)
    with pytest.raises(ValueError, match=r"negative_keys must have shape \[M, D\] or \[B, M, D\]"):
        losslib.info_nce_loss(x, x, randn(4, 2))
    with pytest.raises(ValueError, match=r"negative_keys must have shape"):
        losslib.info_nce_loss(x, x, randn(3, 5, 3))
    with pytest.raises(ValueError, match=r"proxies must have shape \[C, D\] with D = 3"):
        losslib.proxy_nca_loss(x, torch.zeros(4, dtype=torch.long), randn(2, 5))
    with pytest.raises(ValueError, match=r"target must hold class indices in \[0, 2\)"):
        losslib.proxy_nca_loss(x, torch.tensor([0, 1, 2, 0]), randn(2, 3))
    with pytest.raises(TypeError, match="labels must hold integer"):
        losslib.supervised_contrastive_loss(x, torch.zeros(4))
    with pytest.raises(ValueError, match=r"labels must have shape \[B\]"):
        losslib.supervised_contrastive_loss(x, torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="margin must be positive"):
        losslib.contrastive_loss(x, x, torch.ones(4), margin=0.0)
    with pytest.raises(ValueError, match="margin must lie in"):
        losslib.angular_triplet_loss(x, x, x, margin=4.0)
    with pytest.raises(ValueError, match="scale must be positive"):
        losslib.siglip_loss(x, x, scale=-1.0)
    with pytest.raises(ValueError, match="bias must be finite"):
        losslib.siglip_loss(x, x, bias=float("inf"))
    with pytest.raises(ValueError, match=r"z1 must have shape \[B, D\]"):
        losslib.nt_xent_loss(x[0], x[0])
    with pytest.raises(ValueError, match="text_features must have the shape of image_features"):
        losslib.clip_loss(x, x[:3])
