"""Ranking losses (issue 7): the references' own conventions, the hard cases and properties.

- ``multiple_negatives_ranking_loss`` against sentence-transformers'
  ``MultipleNegativesRankingLoss.compute_loss_from_embeddings`` (no model is needed for it),
  with and without hard negatives;
- rax (not installed: JAX costs about 600 MB) and allRank (not on PyPI for this torch):
  their conventions transcribed faithfully from their source (rax ``_src/losses.py`` and
  ``_src/lambdaweights.py``; allRank ``models/losses/approxNDCG.py``), and the documented
  conversion from the per-list ``"none"`` output to their batch reductions tested;
- lists without a preference, ties in ListMLE, ``where`` masks (a masked item changes
  nothing), scores of 1e4 in float32, ``[B, K]`` negatives in BPR, every documented error;
- hypothesis properties: shift invariance, item-permutation invariance, the minimum of
  ListNet, ApproxNDCG tending to minus the NDCG of scikit-learn as the temperature falls.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from cases.ranking import dcg_at_k, graded_relevance, ndcg_of_order
from hypothesis import given, settings
from hypothesis import strategies as st

import losslib

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
PROPERTY = settings(max_examples=25, deadline=None, derandomize=True)
LIST_LOSSES = [
    "pairwise_logistic_loss",
    "pairwise_hinge_loss",
    "listnet_loss",
    "listmle_loss",
    "lambda_rank_loss",
    "approx_ndcg_loss",
]
PAIRWISE = ["pairwise_logistic_loss", "pairwise_hinge_loss", "lambda_rank_loss"]


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def lists(seed: int = 0, n_lists: int = 4, items: int = 6, dtype=torch.float64):
    g = gen(seed)
    scores = torch.randn(n_lists, items, generator=g, dtype=torch.float64).to(dtype)
    return scores, graded_relevance(g, n_lists, items)


def loss(name, *args, **kwargs):
    return getattr(losslib, name)(*args, **kwargs)


# -------------------------------------------------------- sentence-transformers


@pytest.fixture(scope="module")
def st_mnr():
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    # compute_loss_from_embeddings never touches the model: None stands in for it
    return lambda scale: MultipleNegativesRankingLoss(model=None, scale=scale)


@pytest.mark.parametrize("k", [0, 1, 3])
@pytest.mark.parametrize("scale", [20.0, 1.0])
def test_mnr_equals_sentence_transformers(st_mnr, k, scale):
    g = gen(k)
    b, d = 8, 16
    anchors, positives = torch.randn(b, d, generator=g, dtype=torch.float64), torch.randn(b, d, generator=g)
    positives = positives.double()
    negatives = [torch.randn(b, d, generator=g, dtype=torch.float64) for _ in range(k)]
    want = st_mnr(scale).compute_loss_from_embeddings([anchors, positives, *negatives], labels=None)
    hard = torch.cat(negatives) if negatives else None
    got = losslib.multiple_negatives_ranking_loss(anchors, positives, hard_negatives=hard, scale=scale)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


def test_mnr_gradient_equals_sentence_transformers(st_mnr):
    g = gen(5)
    x = [torch.randn(6, 4, generator=g, dtype=torch.float64, requires_grad=True) for _ in range(3)]
    want = torch.autograd.grad(st_mnr(20.0).compute_loss_from_embeddings(x, labels=None), x)
    got = torch.autograd.grad(losslib.multiple_negatives_ranking_loss(x[0], x[1], hard_negatives=x[2]), x)
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_mnr_finite_for_identical_and_zero_embeddings():
    x = torch.zeros(4, 3, requires_grad=True)
    y = torch.ones(4, 3, requires_grad=True)
    out = losslib.multiple_negatives_ranking_loss(x, y)
    out.backward()
    assert torch.isfinite(out) and torch.isfinite(x.grad).all() and torch.isfinite(y.grad).all()


def test_mnr_batch_of_one_has_zero_loss():
    a, p = torch.randn(1, 5), torch.randn(1, 5)
    assert losslib.multiple_negatives_ranking_loss(a, p).item() == 0.0


# ---------------------------------------------------------------- rax / allRank


def rax_pairwise_logistic_mean(scores, relevance):
    """rax ``pairwise_logistic_loss`` with its default ``reduce_fn=jnp.mean``: the mean of
    ``softplus(-(s_i - s_j))`` over the valid pairs ``labels_i > labels_j`` of the WHOLE batch."""
    diffs = scores[..., :, None] - scores[..., None, :]
    pairs = relevance[..., :, None] > relevance[..., None, :]
    return torch.nn.functional.softplus(-diffs)[pairs].mean()


def rax_dcg_lambdaweight(scores, labels, topn=None):
    """rax ``dcg_lambdaweight(normalize=True, topn=topn)``, transcribed from
    ``rax/_src/lambdaweights.py``: ``|Δgain / ideal_dcg| · |Δdiscount| · list_size``, with
    ranks from ``utils.ranks`` (descending scores, ties in item order)."""
    n = scores.shape[-1]
    order = torch.sort(scores, dim=-1, descending=True, stable=True).indices
    ranks = torch.empty_like(order).scatter_(-1, order, torch.arange(1, n + 1).expand_as(order))
    gains = 2.0**labels - 1.0
    ideal = torch.tensor([dcg_at_k(sorted(row, reverse=True), topn) for row in gains.tolist()], dtype=torch.float64)
    gains = gains / torch.where(ideal == 0, 1.0, ideal)[..., None]
    discounts = 1.0 / torch.log2(1.0 + ranks.double())
    if topn is not None:
        discounts = torch.where(ranks <= topn, discounts, 0.0)
    return (
        (gains[..., :, None] - gains[..., None, :]).abs()
        * (discounts[..., :, None] - discounts[..., None, :]).abs()
        * n
    )


def test_pairwise_logistic_converts_to_rax_batch_mean():
    scores, relevance = lists(1, n_lists=5, items=7)
    per_list = losslib.pairwise_logistic_loss(scores, relevance, reduction="none")
    counts = (relevance[:, :, None] > relevance[:, None, :]).sum((-2, -1)).double()
    # documented conversion: rax weighs each list by its number of pairs
    torch.testing.assert_close((per_list * counts).sum() / counts.sum(), rax_pairwise_logistic_mean(scores, relevance))


@pytest.mark.parametrize("k", [None, 1, 3])
def test_lambda_rank_converts_to_rax_dcg_lambdaweight(k):
    scores, relevance = lists(2, n_lists=4, items=6)
    weights = rax_dcg_lambdaweight(scores, relevance.double(), topn=k)
    pairs = relevance[:, :, None] > relevance[:, None, :]
    terms = weights * torch.nn.functional.softplus(-(scores[:, :, None] - scores[:, None, :]))
    rax_sum = terms[pairs].sum()  # rax pairwise_logistic_loss(..., lambdaweight_fn, reduce_fn=jnp.sum)
    got = losslib.lambda_rank_loss(scores, relevance, k=k, reduction="sum")
    torch.testing.assert_close(got * scores.shape[-1], rax_sum)


def allrank_approx_ndcg(y_pred, y_true, padded_value_indicator=-1, alpha=1.0, eps=1e-10):
    """allRank ``approxNDCGLoss``, transcribed from ``allrank/models/losses/approxNDCG.py``."""
    y_pred, y_true = y_pred.clone(), y_true.clone()
    padded = y_true == padded_value_indicator
    y_pred[padded] = float("-inf")
    y_true[padded] = float("-inf")
    y_pred_sorted, indices_pred = y_pred.sort(descending=True, dim=-1)
    y_true_sorted, _ = y_true.sort(descending=True, dim=-1)
    true_sorted_by_preds = torch.gather(y_true, dim=1, index=indices_pred)
    true_diffs = true_sorted_by_preds[:, :, None] - true_sorted_by_preds[:, None, :]
    pairs_mask = torch.isfinite(true_diffs)
    pairs_mask.diagonal(dim1=-2, dim2=-1).zero_()
    true_sorted_by_preds.clamp_(min=0.0)
    y_true_sorted.clamp_(min=0.0)
    positions = torch.arange(1, y_pred.shape[1] + 1)
    d = torch.log2(1.0 + positions.double())[None, :]
    max_dcgs = torch.sum((torch.pow(2, y_true_sorted) - 1) / d, dim=-1).clamp(min=eps)
    gains = (torch.pow(2, true_sorted_by_preds) - 1) / max_dcgs[:, None]
    diffs = y_pred_sorted[:, :, None] - y_pred_sorted[:, None, :]
    diffs[~pairs_mask] = 0.0
    approx_pos = 1.0 + torch.sum(pairs_mask.double() * torch.sigmoid(-alpha * diffs).clamp(min=eps), dim=-1)
    return -torch.mean(torch.sum(gains / torch.log2(1.0 + approx_pos), dim=-1))


@pytest.mark.parametrize("temperature", [1.0, 0.25])
def test_approx_ndcg_converts_to_allrank(temperature):
    scores, relevance = lists(3, n_lists=5, items=8)
    relevance = relevance.double()
    relevance[0, -2:] = -1.0  # allRank's padding; losslib's where
    where = relevance != -1
    got = losslib.approx_ndcg_loss(scores, relevance, temperature=temperature, where=where, reduction="sum")
    want = allrank_approx_ndcg(scores, relevance, alpha=1.0 / temperature)
    # allRank averages over every list of the batch: its value is losslib's sum / B
    torch.testing.assert_close(got / scores.shape[0], want, rtol=1e-9, atol=1e-9)


# ------------------------------------------------------------------ hard cases


@pytest.mark.parametrize("name", LIST_LOSSES)
def test_list_without_preference_gives_zero_and_is_left_out_of_the_mean(name):
    scores, relevance = lists(4, n_lists=3, items=5)
    relevance[1] = 2  # all equal: no valid pair
    scores = scores.clone().requires_grad_(True)
    none = loss(name, scores, relevance, reduction="none")
    assert none[1].item() == 0.0
    mean = loss(name, scores, relevance)
    torch.testing.assert_close(mean, (none[0] + none[2]) / 2)
    (grad,) = torch.autograd.grad(mean, scores)
    assert torch.isfinite(grad).all() and (grad[1] == 0).all()


@pytest.mark.parametrize("name", [*LIST_LOSSES, "soft_pairwise_loss"])
def test_no_list_with_a_preference_gives_zero_not_nan(name):
    scores = torch.randn(2, 4, requires_grad=True)
    target = torch.ones(2, 4)
    where = torch.zeros(2, 4, dtype=torch.bool)
    where[:, 0] = True  # one valid item per list: no pair
    out = loss(name, scores, target, where=where)
    assert out.item() == 0.0
    (grad,) = torch.autograd.grad(out, scores)
    assert (grad == 0).all()


@pytest.mark.parametrize("name", [*LIST_LOSSES, "soft_pairwise_loss"])
@pytest.mark.parametrize("padding", [0.0, float("inf"), float("-inf"), float("nan")])
def test_masked_items_change_nothing(name, padding):
    g = gen(6)
    scores = torch.randn(7, generator=g, dtype=torch.float64)
    target = graded_relevance(g, 1, 7)[0].double()
    if name == "soft_pairwise_loss":
        target = torch.where(target > 1, 1.0, -1.0)
    short = loss(name, scores[:5], target[:5], reduction="none")
    padded_scores = scores.clone()
    padded_scores[5:] = padding
    padded_scores.requires_grad_(True)
    where = torch.arange(7) < 5
    padded = loss(name, padded_scores, target, where=where, reduction="none")
    torch.testing.assert_close(padded, short, rtol=1e-12, atol=1e-12)
    (grad,) = torch.autograd.grad(padded, padded_scores)
    assert torch.isfinite(grad).all() and (grad[5:] == 0).all()


def test_lists_of_different_lengths_in_one_batch():
    g = gen(7)
    scores = torch.randn(3, 6, generator=g, dtype=torch.float64)
    relevance = graded_relevance(g, 3, 6)
    lengths = [6, 4, 2]
    where = torch.arange(6)[None, :] < torch.tensor(lengths)[:, None]
    for name in LIST_LOSSES:
        batched = loss(name, scores, relevance, where=where, reduction="none")
        alone = torch.stack(
            [loss(name, scores[i, :n], relevance[i, :n], reduction="none") for i, n in enumerate(lengths)]
        )
        torch.testing.assert_close(batched, alone, rtol=1e-12, atol=1e-12)


def test_listmle_ties_follow_item_order():
    scores = torch.tensor([0.3, -1.2, 2.0, 0.5], dtype=torch.float64)
    relevance = torch.tensor([1, 2, 1, 0])
    # stable sort: item 1 (rel 2), then the tied items 0 and 2 in item order, then item 3
    order = [1, 0, 2, 3]
    s = scores[order]
    want = -sum(s[k] - torch.logsumexp(s[k:], 0) for k in range(4))
    torch.testing.assert_close(losslib.listmle_loss(scores, relevance), want)
    # swapping the tied items' positions in the input swaps their place in the order
    swapped = losslib.listmle_loss(scores[[2, 1, 0, 3]], relevance[[2, 1, 0, 3]])
    assert not torch.isclose(swapped, want)


@pytest.mark.parametrize("name", [*LIST_LOSSES, "soft_pairwise_loss", "bpr_loss"])
def test_float32_scores_of_1e4_stay_finite(name):
    g = gen(8)
    scores = (torch.randn(3, 6, generator=g) * 1e4).requires_grad_(True)
    target = graded_relevance(g, 3, 6).float()
    where = torch.ones(3, 6, dtype=torch.bool)
    where[0, -1] = False
    if name == "soft_pairwise_loss":
        target = torch.where(target > 1, 1.0, -1.0)
    if name == "bpr_loss":
        out = losslib.bpr_loss(scores[:, 0], scores[:, 1:])
    else:
        out = loss(name, scores, target, where=where)
    (grad,) = torch.autograd.grad(out, scores)
    assert torch.isfinite(out) and torch.isfinite(grad).all()


def test_bpr_with_k_negatives_is_the_mean_of_k_single_negative_losses():
    g = gen(9)
    pos, neg = torch.randn(8, generator=g, dtype=torch.float64), torch.randn(8, 5, generator=g, dtype=torch.float64)
    each = torch.stack([losslib.bpr_loss(pos, neg[:, k], reduction="none") for k in range(5)], -1)
    torch.testing.assert_close(losslib.bpr_loss(pos, neg, reduction="none"), each.mean(-1))
    torch.testing.assert_close(
        losslib.bpr_loss(pos, neg[:, 0]), -torch.nn.functional.logsigmoid(pos - neg[:, 0]).mean()
    )


def test_lambda_rank_weights_carry_no_gradient():
    """The gradient is the |ΔNDCG|-weighted RankNet gradient: the weights are constants."""
    scores, relevance = lists(10, n_lists=1, items=6)
    scores = scores[0].clone().requires_grad_(True)
    relevance = relevance[0]
    (grad,) = torch.autograd.grad(losslib.lambda_rank_loss(scores, relevance), scores)
    order = sorted(range(6), key=lambda i: -scores[i].item())
    base = ndcg_of_order(order, relevance.tolist())
    want = torch.zeros(6, dtype=torch.float64)
    for i in range(6):
        for j in range(6):
            if relevance[i] > relevance[j]:
                swapped = [j if x == i else i if x == j else x for x in order]
                w = abs(ndcg_of_order(swapped, relevance.tolist()) - base)
                lam = -w * torch.sigmoid(-(scores[i] - scores[j])).item()
                want[i] += lam
                want[j] -= lam
    torch.testing.assert_close(grad, want)


# ------------------------------------------------------------------- properties


@PROPERTY
@given(seed=SEEDS, shift=st.floats(-50, 50))
def test_list_losses_are_invariant_to_a_shift_of_the_scores(seed, shift):
    scores, relevance = lists(seed)
    for name in LIST_LOSSES:
        torch.testing.assert_close(
            loss(name, scores + shift, relevance, reduction="none"),
            loss(name, scores, relevance, reduction="none"),
            rtol=1e-9,
            atol=1e-9,
        )


@PROPERTY
@given(seed=SEEDS)
def test_pairwise_losses_are_invariant_to_permuting_the_items(seed):
    scores, relevance = lists(seed)
    perm = torch.randperm(scores.shape[-1], generator=gen(seed))
    for name in [*PAIRWISE, "listnet_loss", "approx_ndcg_loss"]:
        torch.testing.assert_close(
            loss(name, scores[:, perm], relevance[:, perm], reduction="none"),
            loss(name, scores, relevance, reduction="none"),
        )


@PROPERTY
@given(seed=SEEDS)
def test_well_separated_correct_order_has_zero_hinge_and_tiny_logistic_loss(seed):
    _, relevance = lists(seed)
    scores = relevance.double() * 40.0  # every preferred pair is 40 apart
    assert losslib.pairwise_hinge_loss(scores, relevance).item() == 0.0
    assert losslib.pairwise_logistic_loss(scores, relevance).item() < 1e-15
    assert losslib.lambda_rank_loss(scores, relevance).item() < 1e-15


@PROPERTY
@given(seed=SEEDS)
def test_listnet_is_minimal_where_the_scores_match_the_relevance(seed):
    _, relevance = lists(seed)
    scores = relevance.double().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(losslib.listnet_loss(scores, relevance), scores)
    assert grad.abs().max() < 1e-12


@PROPERTY
@given(seed=SEEDS)
def test_approx_ndcg_tends_to_minus_the_ndcg_of_scikit_learn(seed):
    from sklearn.metrics import ndcg_score

    scores, relevance = lists(seed)
    # sklearn's NDCG uses linear gains: pass 2^rel - 1 as its relevance for exponential gains
    ndcg = ndcg_score((2.0 ** relevance.double()).numpy() - 1.0, scores.numpy(), ignore_ties=True)
    got = losslib.approx_ndcg_loss(scores, relevance, temperature=1e-8)
    assert math.isclose(-got.item(), ndcg, rel_tol=1e-6)
    values = losslib.approx_ndcg_loss(scores, relevance, reduction="none")
    assert ((values >= -1.0) & (values <= 0.0)).all()


@PROPERTY
@given(seed=SEEDS)
def test_soft_pairwise_with_all_labels_equal_is_symmetric(seed):
    """With one label for every item, each pair appears in both orders: the loss is the
    mean of softplus(d) + softplus(-d) over pairs, at least log 2."""
    scores, _ = lists(seed)
    out = losslib.soft_pairwise_loss(scores, torch.ones_like(scores), reduction="none")
    assert (out >= math.log(2) - 1e-12).all()


@PROPERTY
@given(seed=SEEDS)
def test_margin_ranking_with_sign_labels_is_the_hinge_of_the_ordered_difference(seed):
    g = gen(seed)
    x1, x2 = torch.randn(9, generator=g, dtype=torch.float64), torch.randn(9, generator=g, dtype=torch.float64)
    y = torch.where(torch.rand(9, generator=g) > 0.5, 1.0, -1.0).double()
    want = torch.clamp(0.2 - y * (x1 - x2), min=0)
    torch.testing.assert_close(losslib.margin_ranking_loss(x1, x2, y, margin=0.2, reduction="none"), want)


# ----------------------------------------------------------------------- errors


def test_bpr_shape_errors():
    with pytest.raises(ValueError, match=r"pos_scores must have shape \[B\]"):
        losslib.bpr_loss(torch.randn(3, 2), torch.randn(3, 2))
    with pytest.raises(ValueError, match=r"neg_scores must have shape \[B\] or \[B, K\]"):
        losslib.bpr_loss(torch.randn(3), torch.randn(4))
    with pytest.raises(ValueError, match=r"neg_scores must have shape"):
        losslib.bpr_loss(torch.randn(3), torch.randn(3, 2, 2))
    with pytest.raises(ValueError, match="neg_scores must not be empty"):
        losslib.bpr_loss(torch.randn(3), torch.randn(3, 0))


def test_mnr_errors():
    a = torch.randn(4, 3)
    with pytest.raises(ValueError, match="scale must be positive"):
        losslib.multiple_negatives_ranking_loss(a, a, scale=0.0)
    with pytest.raises(ValueError, match=r"anchors must have shape \[B, D\]"):
        losslib.multiple_negatives_ranking_loss(a[0], a[0])
    with pytest.raises(ValueError, match="positives must have the shape of anchors"):
        losslib.multiple_negatives_ranking_loss(a, a[:3])
    with pytest.raises(ValueError, match=r"hard_negatives must have shape \[B·k, D\] with D = 3"):
        losslib.multiple_negatives_ranking_loss(a, a, hard_negatives=torch.randn(4, 2))
    with pytest.raises(TypeError, match="hard_negatives must be a floating-point tensor"):
        losslib.multiple_negatives_ranking_loss(a, a, hard_negatives=torch.ones(4, 3, dtype=torch.long))


@pytest.mark.parametrize("name", LIST_LOSSES)
def test_list_loss_errors(name):
    scores, relevance = lists(0)
    with pytest.raises(TypeError, match="where must be a bool tensor"):
        loss(name, scores, relevance, where=torch.ones_like(scores))
    with pytest.raises(ValueError, match="where must have the shape of scores"):
        loss(name, scores, relevance, where=torch.ones(4, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match="relevance must have the shape of scores"):
        loss(name, scores, relevance[:, :-1])
    with pytest.raises(TypeError, match="relevance must hold real numbers"):
        loss(name, scores, relevance > 1)
    with pytest.raises(ValueError, match=r"scores must have shape \[\.\.\., N\]"):
        loss(name, torch.tensor(1.0), torch.tensor(1.0))


@pytest.mark.parametrize("name", ["lambda_rank_loss", "approx_ndcg_loss"])
def test_negative_relevance_raises_unless_checks_are_off_or_masked(name):
    scores, relevance = lists(0)
    relevance[0, 0] = -1
    with pytest.raises(ValueError, match="relevance must hold non-negative values"):
        loss(name, scores, relevance)
    where = relevance >= 0
    assert torch.isfinite(loss(name, scores, relevance, where=where))  # padding with -1 is fine
    with losslib.value_checks(False):
        loss(name, scores, relevance)


@pytest.mark.parametrize("name", ["listnet_loss", "approx_ndcg_loss"])
@pytest.mark.parametrize("temperature", [0.0, -1.0, float("inf")])
def test_bad_temperature_raises(name, temperature):
    scores, relevance = lists(0)
    with pytest.raises(ValueError, match="temperature must be"):
        loss(name, scores, relevance, temperature=temperature)


@pytest.mark.parametrize(("k", "error"), [(0, ValueError), (-2, ValueError), (1.5, TypeError), (True, TypeError)])
def test_lambda_rank_bad_k_raises(k, error):
    scores, relevance = lists(0)
    with pytest.raises(error, match="k must be a positive int"):
        losslib.lambda_rank_loss(scores, relevance, k=k)


def test_sign_label_errors():
    x = torch.randn(4)
    target = torch.tensor([1.0, -1.0, 0.0, 1.0])  # torch.sign can return 0
    with pytest.raises(ValueError, match=r"target must hold labels in \{-1.0, 1.0\}"):
        losslib.margin_ranking_loss(x, x, target)
    with pytest.raises(ValueError, match=r"labels must hold labels in \{-1.0, 1.0\}"):
        losslib.soft_pairwise_loss(torch.randn(2, 4), target.repeat(2, 1))
    with pytest.raises(ValueError, match="x2 must have the shape of x1"):
        losslib.margin_ranking_loss(x, x[:3], target)
    with pytest.raises(ValueError, match="margin must be finite"):
        losslib.margin_ranking_loss(x, x, torch.ones(4), margin=float("nan"))
    with losslib.value_checks(False):
        losslib.margin_ranking_loss(x, x, target)


def test_triplet_errors():
    a = torch.randn(4, 3)
    with pytest.raises(ValueError, match="margin must be non-negative"):
        losslib.triplet_margin_loss(a, a, a, margin=-1.0)
    with pytest.raises(ValueError, match="p must be positive"):
        losslib.triplet_margin_loss(a, a, a, p=0.0)
    with pytest.raises(ValueError, match="eps must be non-negative"):
        losslib.triplet_margin_loss(a, a, a, eps=-1e-3)
    with pytest.raises(ValueError, match=r"anchor must have shape \[B, D\] or \[D\]"):
        losslib.triplet_margin_loss(a[None], a[None], a[None])
    with pytest.raises(ValueError, match="negative must have the shape of anchor"):
        losslib.triplet_margin_loss(a, a, a[:, :2])


def test_triplet_identical_points_have_finite_gradient():
    a = torch.randn(3, 4, requires_grad=True)
    out = losslib.triplet_margin_loss(a, a, a, eps=1e-6)
    (grad,) = torch.autograd.grad(out, a)
    assert torch.isfinite(grad).all()
    np.testing.assert_allclose(out.item(), 1.0, rtol=1e-5)
