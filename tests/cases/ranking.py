"""Cases of the ranking family (issue 7).

``margin_ranking_loss`` and ``triplet_margin_loss`` are compared with torch. Every other loss
is compared with a float64 transcription of its paper's formula written with Python loops
over lists, items and pairs (independent of losslib's vectorised pair matrices); LambdaRank's
weights are found by actually swapping the two items and recomputing NDCG@k, not by the
closed form. The comparisons with sentence-transformers, rax and allRank conventions are in
``tests/test_ranking.py``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from . import Case, add, randint, randn

LISTS, ITEMS = 3, 5


def graded_relevance(gen: torch.Generator, lists: int = LISTS, items: int = ITEMS, top: int = 3) -> torch.Tensor:
    """Relevance grades in ``0..top`` with at least one 0 and one ``top`` per list (so every
    list holds a preference), in random positions."""
    rel = randint(gen, top + 1, lists, items)
    rel[:, 0], rel[:, 1] = 0, top
    order = torch.rand(lists, items, generator=gen).argsort(-1)
    return rel.gather(-1, order)


def _softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _lists(*tensors):
    """Rows of 2-D tensors as Python lists of floats."""
    return zip(*(t.to(torch.float64).tolist() for t in tensors), strict=True)


def _pairs(rel):
    n = len(rel)
    return [(i, j) for i in range(n) for j in range(n) if rel[i] > rel[j]]


def ref_bpr(pos, neg):
    negs = neg.to(torch.float64).reshape(pos.shape[0], -1).tolist()
    out = []
    for p, row in zip(pos.tolist(), negs, strict=True):
        out.append(sum(-math.log(1 / (1 + math.exp(-(p - q)))) for q in row) / len(row))
    return torch.tensor(out, dtype=torch.float64)


def ref_mnr(anchors, positives, *, hard_negatives=None, scale=20.0):
    candidates = positives if hard_negatives is None else torch.cat([positives, hard_negatives])
    a, c = anchors.to(torch.float64).tolist(), candidates.to(torch.float64).tolist()

    def cos(u, v):
        dot = sum(x * y for x, y in zip(u, v, strict=True))
        return dot / (math.sqrt(sum(x * x for x in u)) * math.sqrt(sum(y * y for y in v)))

    out = []
    for i, u in enumerate(a):
        logits = [scale * cos(u, v) for v in c]
        top = max(logits)
        out.append(top + math.log(sum(math.exp(z - top) for z in logits)) - logits[i])
    return torch.tensor(out, dtype=torch.float64)


def ref_pairwise_logistic(scores, relevance):
    out = []
    for s, rel in _lists(scores, relevance):
        pairs = _pairs(rel)
        out.append(sum(_softplus(-(s[i] - s[j])) for i, j in pairs) / len(pairs))
    return torch.tensor(out, dtype=torch.float64)


def ref_pairwise_hinge(scores, relevance, *, margin=1.0):
    out = []
    for s, rel in _lists(scores, relevance):
        pairs = _pairs(rel)
        out.append(sum(max(0.0, margin - (s[i] - s[j])) for i, j in pairs) / len(pairs))
    return torch.tensor(out, dtype=torch.float64)


def ref_soft_pairwise(scores, labels):
    out = []
    for s, y in _lists(scores, labels):
        n = len(s)
        terms = [_softplus(-y[i] * (s[i] - s[j])) for i in range(n) for j in range(n) if i != j]
        out.append(sum(terms) / len(terms))
    return torch.tensor(out, dtype=torch.float64)


def ref_listnet(scores, relevance, *, temperature=1.0):
    out = []
    for s, rel in _lists(scores, relevance):
        p = [math.exp(r) / sum(math.exp(x) for x in rel) for r in rel]
        z = sum(math.exp(x / temperature) for x in s)
        out.append(-sum(pi * math.log(math.exp(si / temperature) / z) for pi, si in zip(p, s, strict=True)))
    return torch.tensor(out, dtype=torch.float64)


def ref_listmle(scores, relevance):
    out = []
    for s, rel in _lists(scores, relevance):
        order = sorted(range(len(s)), key=lambda i: -rel[i])  # Python's sort is stable
        nll = 0.0
        for k, item in enumerate(order):
            nll -= s[item] - math.log(sum(math.exp(s[j]) for j in order[k:]))
        out.append(nll)
    return torch.tensor(out, dtype=torch.float64)


def dcg_at_k(gains_in_rank_order, k=None):
    """DCG@k of gains listed from rank 1 down."""
    top = gains_in_rank_order if k is None else gains_in_rank_order[:k]
    return sum(g / math.log2(1 + r) for r, g in enumerate(top, start=1))


def ndcg_of_order(order, rel, k=None):
    gains = [2.0 ** rel[i] - 1 for i in order]
    return dcg_at_k(gains, k) / dcg_at_k(sorted(gains, reverse=True), k)


def ref_lambda_rank(scores, relevance, *, k=None):
    """LambdaRank with |ΔNDCG@k| found by swapping the two items in the ranking."""
    out = []
    for s, rel in _lists(scores, relevance):
        order = sorted(range(len(s)), key=lambda i: -s[i])
        base = ndcg_of_order(order, rel, k)
        total = 0.0
        for i, j in _pairs(rel):
            swapped = [j if x == i else i if x == j else x for x in order]
            total += abs(ndcg_of_order(swapped, rel, k) - base) * _softplus(-(s[i] - s[j]))
        out.append(total)
    return torch.tensor(out, dtype=torch.float64)


def ref_approx_ndcg(scores, relevance, *, temperature=1.0):
    out = []
    for s, rel in _lists(scores, relevance):
        n = len(s)
        ranks = [
            1 + sum(1 / (1 + math.exp(-(s[j] - s[i]) / temperature)) for j in range(n) if j != i) for i in range(n)
        ]
        dcg = sum((2.0 ** rel[i] - 1) / math.log2(1 + ranks[i]) for i in range(n))
        out.append(-dcg / dcg_at_k(sorted((2.0**r - 1 for r in rel), reverse=True)))
    return torch.tensor(out, dtype=torch.float64)


def _list_case(name, reference, *, relevance=graded_relevance, nonnegative=True, label="", **kwargs):
    def make(g, dt, s):
        return (randn(g, LISTS, ITEMS, dtype=dt, scale=s), relevance(g)), dict(kwargs)

    return add(Case(name, make, reference, label=label, nonnegative=nonnegative, rtol=1e-7, atol=1e-9))


def sign_labels(g: torch.Generator) -> torch.Tensor:
    return (randint(g, 2, LISTS, ITEMS) * 2 - 1).to(torch.float64)


def _bpr_make(k):
    def make(g, dt, s):
        neg_shape = (6,) if k is None else (6, k)
        return (randn(g, 6, dtype=dt, scale=s), randn(g, *neg_shape, dtype=dt, scale=s)), {}

    return make


add(Case("bpr_loss", _bpr_make(None), ref_bpr, label="one-negative", grad_args=(0, 1)))
add(Case("bpr_loss", _bpr_make(4), ref_bpr, label="K-negatives", grad_args=(0, 1)))


def _mnr_make(hard):
    def make(g, dt, s):
        kwargs = {"scale": 5.0}
        if hard:
            kwargs["hard_negatives"] = randn(g, 2 * 4, 3, dtype=dt, scale=s)
        return (randn(g, 4, 3, dtype=dt, scale=s), randn(g, 4, 3, dtype=dt, scale=s)), kwargs

    return make


add(Case("multiple_negatives_ranking_loss", _mnr_make(False), ref_mnr, label="in-batch", grad_args=(0, 1)))
add(Case("multiple_negatives_ranking_loss", _mnr_make(True), ref_mnr, label="hard-negatives", grad_args=(0, 1)))

_list_case("pairwise_logistic_loss", ref_pairwise_logistic)
_list_case("pairwise_hinge_loss", ref_pairwise_hinge, margin=0.5)
_list_case("soft_pairwise_loss", ref_soft_pairwise, relevance=sign_labels)
_list_case("listnet_loss", ref_listnet, temperature=0.7)
_list_case("listmle_loss", ref_listmle)
_list_case("lambda_rank_loss", ref_lambda_rank, label="full-list")
_list_case("lambda_rank_loss", ref_lambda_rank, label="k=3", k=3)
_list_case("approx_ndcg_loss", ref_approx_ndcg, nonnegative=False, temperature=0.5)


def ref_margin_ranking(x1, x2, target, *, margin=0.0):
    return F.margin_ranking_loss(x1, x2, target.to(x1.dtype), margin=margin, reduction="none")


def ref_triplet(anchor, positive, negative, **kwargs):
    return F.triplet_margin_loss(anchor, positive, negative, reduction="none", **kwargs)


add(
    Case(
        "margin_ranking_loss",
        lambda g, dt, s: (
            (randn(g, 7, dtype=dt, scale=s), randn(g, 7, dtype=dt, scale=s), sign_labels(g)[0].repeat(2)[:7]),
            {"margin": 0.3},
        ),
        ref_margin_ranking,
        grad_args=(0, 1),
        batch_args=(0, 1, 2),
    )
)
for swap in (False, True):
    add(
        Case(
            "triplet_margin_loss",
            lambda g, dt, s, swap=swap: (
                tuple(randn(g, 5, 3, dtype=dt, scale=s) for _ in range(3)),
                {"margin": 0.5, "swap": swap},
            ),
            ref_triplet,
            label="swap" if swap else "",
            grad_args=(0, 1, 2),
            batch_args=(0, 1, 2),
        )
    )
