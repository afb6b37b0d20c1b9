r"""Ranking losses: pairwise preferences, in-batch negatives, triplets and listwise losses.

Scores of a list are ``[..., N]``: the last dim holds the items of one list, the leading
dims index the lists. Relevance (graded, higher is better) or labels have the scores'
shape. The pairwise and listwise losses take ``where``, a bool tensor of the scores'
shape: items where it is False take part in no pair and no list (padding of lists of
different lengths, as rax's ``where``).

A list that holds no preference, that is no pair of valid items with different relevance
(fewer than two valid items, or all valid relevances equal; for ``soft_pairwise_loss``
fewer than two valid items), gives 0 in ``reduction="none"`` and is left out of
``"mean"``: ``"mean"`` is the sum over the lists that hold a preference divided by their
number (0 when there is none), never NaN.

Losses at scale (book Part VIII): the pairwise losses take ``chunk_size``, the number of
items of a list whose pairs are formed at a time (``O(chunk_size · N)`` pair terms per list
instead of ``N²``, the same value and gradient); :func:`multiple_negatives_ranking_loss`
takes ``chunk_size`` and ``gather`` as the in-batch losses of ``losslib.embedding`` do.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import _blockwise as blocks
from . import _validation as V
from .registry import register

__all__ = [
    "bpr_loss",
    "multiple_negatives_ranking_loss",
    "pairwise_logistic_loss",
    "pairwise_hinge_loss",
    "soft_pairwise_loss",
    "margin_ranking_loss",
    "triplet_margin_loss",
    "listnet_loss",
    "listmle_loss",
    "lambda_rank_loss",
    "approx_ndcg_loss",
]


# ------------------------------------------------------------------ list helpers


def _check_lists(scores: torch.Tensor, relevance: torch.Tensor, where: torch.Tensor | None, name: str) -> None:
    V.check_list_scores("scores", scores)
    V.check_real_tensor(name, relevance)
    V.check_same_shape("scores", scores, name, relevance)
    V.check_where(where, scores)


def _masked(values: torch.Tensor, valid: torch.Tensor | None, fill: float) -> torch.Tensor:
    """``values`` with the invalid items replaced by ``fill``: they get no gradient and
    whatever they held (padding, ``inf``, NaN) never reaches the loss. ``valid=None``: all."""
    if valid is None:
        return values
    return torch.where(valid, values, torch.full((), fill, dtype=values.dtype, device=values.device))


def _valid_pairs(valid: torch.Tensor | None) -> torch.Tensor | None:
    """``[..., N, N]``: both items of the pair (i, j) are valid (``None``: every pair)."""
    return None if valid is None else valid.unsqueeze(-1) & valid.unsqueeze(-2)


def _preferred_pairs(relevance: torch.Tensor, valid: torch.Tensor | None) -> torch.Tensor:
    """``[..., N, N]``: item i is strictly more relevant than item j, both valid."""
    pairs = relevance.unsqueeze(-1) > relevance.unsqueeze(-2)
    return pairs if valid is None else pairs & _valid_pairs(valid)


def _distinct_pairs(scores: torch.Tensor, valid: torch.Tensor | None) -> torch.Tensor:
    """``[..., N, N]``: the pairs i != j of valid items."""
    n = scores.shape[-1]
    off_diagonal = ~torch.eye(n, dtype=torch.bool, device=scores.device)
    pairs = off_diagonal.expand(*scores.shape, n) if valid is None else off_diagonal & _valid_pairs(valid)
    return pairs


def _score_gaps(scores: torch.Tensor, valid: torch.Tensor | None) -> torch.Tensor:
    """``[..., N, N]`` with entry (i, j) equal to :math:`s_j - s_i`, how far j scores above i
    (invalid items read as 0). The pair losses are functions of it: RankNet's is
    ``softplus(gap)``."""
    s = _masked(scores, valid, 0.0)
    return s.unsqueeze(-2) - s.unsqueeze(-1)


def _row_sums(terms: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    """Per item i: the sum of ``terms[..., i, j]`` over the j with ``pairs[..., i, j]``."""
    return torch.where(pairs, terms, torch.zeros((), dtype=terms.dtype, device=terms.device)).sum(-1)


def _sum_over_pairs(terms: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    return _row_sums(terms, pairs).sum(-1)


def _mean_over_pairs(terms: torch.Tensor, pairs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per list: the mean of ``terms`` over ``pairs`` (0 without a pair), and whether it has one."""
    count = pairs.sum((-2, -1))
    return _sum_over_pairs(terms, pairs) / count.clamp(min=1).to(terms.dtype), count > 0


def _has_preference(relevance: torch.Tensor, valid: torch.Tensor | None) -> torch.Tensor:
    """Per list: some valid item is more relevant than another (O(N), no pair matrix)."""
    if valid is None:
        low, high = torch.aminmax(relevance, dim=-1)  # one pass
    else:
        high = _masked(relevance, valid, _extreme(relevance.dtype, highest=False)).amax(-1)
        low = _masked(relevance, valid, _extreme(relevance.dtype, highest=True)).amin(-1)
    return high > low


def _extreme(dtype: torch.dtype, *, highest: bool) -> float | int:
    """The largest or smallest finite value of ``dtype`` (floating or integer)."""
    info = torch.finfo(dtype) if dtype.is_floating_point else torch.iinfo(dtype)
    return info.max if highest else info.min


def _work_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype of the NDCG weights: at least float32 (bfloat16 gains lose the grades)."""
    return torch.promote_types(dtype, torch.float32)


def _gains(relevance: torch.Tensor, valid: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """NDCG gains :math:`2^{rel} - 1`, 0 for invalid items."""
    return _masked(torch.exp2(relevance.to(dtype)) - 1.0, valid, 0.0)


def _discounts(ranks: torch.Tensor, dtype: torch.dtype, k: int | None) -> torch.Tensor:
    """:math:`1 / \\log_2(1 + r)` for ranks ``r`` (1-based), 0 beyond the cut-off ``k``."""
    discounts = 1.0 / torch.log2(1.0 + ranks.to(dtype))
    return discounts if k is None else torch.where(ranks <= k, discounts, torch.zeros_like(discounts))


def _ideal_dcg(gains: torch.Tensor, k: int | None) -> torch.Tensor:
    """DCG@k of the best order: the gains sorted in descending order."""
    ideal = torch.sort(gains, dim=-1, descending=True).values
    positions = torch.arange(1, gains.shape[-1] + 1, device=gains.device)
    return (ideal * _discounts(positions, gains.dtype, k)).sum(-1)


def _ranks_by_score(scores: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """1-based rank of every item by descending score (ties in item order, invalid items last)."""
    key = _masked(scores.detach(), valid, float("-inf"))
    order = torch.sort(key, dim=-1, descending=True, stable=True).indices
    positions = torch.arange(1, scores.shape[-1] + 1, device=scores.device).expand_as(order)
    return torch.empty_like(order).scatter_(-1, order, positions)


def _check_nonnegative_relevance(relevance: torch.Tensor, valid: torch.Tensor) -> None:
    V.check_nonnegative_values("relevance", _masked(relevance, valid, 0))


# ------------------------------------------------------------ pairs in blocks (chunk_size)


def _flat_lists(tensor: torch.Tensor | None) -> torch.Tensor | None:
    return None if tensor is None else tensor.reshape(-1, tensor.shape[-1])


def _preferred_pair_count(relevance: torch.Tensor, valid: torch.Tensor | None) -> torch.Tensor:
    """Per list ``[L, N]``: the number of pairs with rel_i > rel_j, both valid, by sorting
    (O(N log N), no pair matrix): each valid i counts the valid items below it."""
    rel = relevance.to(torch.float64)
    below = rel if valid is None else torch.where(valid, rel, torch.full_like(rel, float("inf")))
    ordered = torch.sort(below, dim=-1).values
    counts = torch.searchsorted(ordered, rel.contiguous())
    return (counts if valid is None else counts * valid).sum(-1)


def _pairs_in_blocks(
    scores: torch.Tensor,
    valid: torch.Tensor | None,
    chunk_size: int,
    term: str,
    relevance: torch.Tensor | None = None,
    row_factor: torch.Tensor | None = None,
    offset: float = 0.0,
    weights: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    r"""Per list: the sum over its pairs of ``φ(a_i (s_j - s_i) + offset) · w_ij`` in blocks of
    ``chunk_size`` items, with φ = softplus (``term="softplus"``) or relu (``"relu"``); the
    pairs are rel_i > rel_j (``relevance`` given) or all i ≠ j, both items valid; ``a_i`` is
    ``row_factor`` (1 if None); ``weights = (gains, discounts, ideal)`` gives LambdaRank's
    :math:`w_{ij} = |G_i - G_j| |D_i - D_j| / \mathrm{IDCG}` (1 if None)."""
    shape = scores.shape[:-1]
    s = _flat_lists(_masked(scores, valid, 0.0))
    valid, relevance, row_factor = _flat_lists(valid), _flat_lists(relevance), _flat_lists(row_factor)
    if weights is not None:
        gains, discounts, ideal = _flat_lists(weights[0]), _flat_lists(weights[1]), weights[2].reshape(-1)
    n = s.shape[-1]

    def pair_terms(gaps: torch.Tensor, rows: slice) -> tuple[torch.Tensor, torch.Tensor]:
        if relevance is not None:
            pairs = relevance[:, rows].unsqueeze(2) > relevance.unsqueeze(1)
        else:
            pairs = torch.arange(n, device=gaps.device)[rows].unsqueeze(1) != torch.arange(n, device=gaps.device)
            pairs = pairs.expand_as(gaps)
        if valid is not None:
            pairs = pairs & valid[:, rows].unsqueeze(2) & valid.unsqueeze(1)
        x = gaps  # a fresh block: overwritten in place
        if row_factor is not None:
            a = row_factor[:, rows].unsqueeze(2).to(gaps.dtype)
            x.mul_(a)
        if offset:
            x.add_(offset)
        zero = torch.zeros((), dtype=gaps.dtype, device=gaps.device)
        if term == "relu":
            active = pairs & (x > 0)  # relu's slope, 0 at 0 as torch's
            terms, slopes = torch.where(active, x, zero), active.to(gaps.dtype)
        else:
            terms, slopes = torch.where(pairs, F.softplus(x), zero), torch.where(pairs, blocks.softplus_slope(x), zero)
        if row_factor is not None:
            slopes.mul_(a)
        if weights is not None:
            w = (gains[:, rows].unsqueeze(2) - gains.unsqueeze(1)).abs() * (
                discounts[:, rows].unsqueeze(2) - discounts.unsqueeze(1)
            ).abs()
            w = (w / ideal.reshape(-1, 1, 1)).to(gaps.dtype)
            terms.mul_(w)
            slopes.mul_(w)
        return terms.sum((1, 2)), slopes

    return blocks.pair_block_sums(s, pair_terms, chunk_size).reshape(shape)


# ---------------------------------------------------------------- pairs of scores


@register(
    family="ranking",
    summary="Bayesian personalised ranking -log σ(s⁺ - s⁻), one or K sampled negatives per positive.",
    cite="rendle2009bpr",
    chapter="ranking/bpr",
    reference=None,
)
def bpr_loss(pos_scores: torch.Tensor, neg_scores: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    r"""Bayesian personalised ranking (BPR) loss.

    .. math::
        \ell_b = -\frac{1}{K} \sum_{k=1}^{K} \log \sigma\bigl(s^+_b - s^-_{b,k}\bigr)

    the negative log-likelihood that the observed item of row ``b`` is preferred to each of
    its ``K`` sampled unobserved items, with :math:`\sigma` the logistic function (computed
    as ``softplus(s⁻ - s⁺)``). The prior of BPR-Opt, :math:`\lambda \lVert\Theta\rVert^2`,
    is weight decay and not part of the loss.

    Args:
        pos_scores: scores of the observed (positive) items, ``[B]``.
        neg_scores: scores of the sampled negatives, ``[B]`` (one per positive) or
            ``[B, K]`` (``K`` per positive, averaged).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[B]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`rendle2009bpr`; the ``K``-negative average as in session-based
    recommenders. Equivalent: ``-F.logsigmoid(pos - neg)``.
    """
    V.check_reduction(reduction)
    V.check_floating("pos_scores", pos_scores)
    V.check_floating("neg_scores", neg_scores)
    V.check_ndim("pos_scores", pos_scores, 1, "[B]")
    V.check_nonempty("pos_scores", pos_scores)
    if neg_scores.dim() not in (1, 2) or neg_scores.shape[0] != pos_scores.shape[0]:
        raise ValueError(
            f"neg_scores must have shape [B] or [B, K] with B = {pos_scores.shape[0]}, "
            f"got shape {tuple(neg_scores.shape)}"
        )
    V.check_nonempty("neg_scores", neg_scores)
    negatives = neg_scores if neg_scores.dim() == 2 else neg_scores.unsqueeze(-1)
    terms = F.softplus(negatives - pos_scores.unsqueeze(-1))
    if reduction == "mean":  # every row has K terms: the mean of the row means is the mean
        return terms.mean()
    return V.reduce(terms.mean(-1), reduction)


@register(
    family="ranking",
    summary="Multiple negatives ranking: softmax over in-batch (and hard) negatives of scaled cosines.",
    cite="henderson2017efficient",
    chapter="ranking/mnr",
    reference="sentence_transformers.losses.MultipleNegativesRankingLoss",
)
def multiple_negatives_ranking_loss(
    anchors: torch.Tensor,
    positives: torch.Tensor,
    *,
    hard_negatives: torch.Tensor | None = None,
    scale: float = 20.0,
    chunk_size: int | None = None,
    gather: bool = False,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Multiple negatives ranking loss (in-batch negatives).

    .. math::
        \ell_i = -\log \frac{\exp(\kappa \cos(a_i, c_i))}{\sum_{j=1}^{M} \exp(\kappa \cos(a_i, c_j))}

    with the candidates :math:`c` = the ``B`` positives, then the hard negatives, and the
    scale :math:`\kappa` (an inverse temperature). Row ``i`` of ``positives`` is the
    positive of anchor ``i``; every other candidate is one of its negatives.

    Args:
        anchors: anchor embeddings ``[B, D]`` (e.g. queries).
        positives: their positives ``[B, D]`` (e.g. the matching documents).
        hard_negatives: extra negatives ``[B·k, D]`` shared by every anchor, e.g. ``k``
            mined negatives per anchor stacked column by column as sentence-transformers
            does (any number of rows is allowed), or ``None``.
        scale: :math:`\kappa > 0`, multiplies the cosine similarities (sentence-transformers'
            default 20, a temperature of 0.05).
        chunk_size: ``None`` (the dense ``B × M`` matrix) or the number of anchors per block
            (memory ``O(chunk_size · M)``; the same value and gradient).
        gather: under ``torch.distributed``, score the local anchors against the positives
            and hard negatives of every rank, gathered with their gradient (the positive of
            local anchor i at ``rank·B + i``; equal local batches; see ``losslib.embedding``).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[B]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`henderson2017efficient`. Equivalent: sentence-transformers'
    ``MultipleNegativesRankingLoss(model, scale)`` (its default ``cos_sim``), which returns
    the ``"mean"``.
    """
    V.check_reduction(reduction)
    V.check_real("scale", scale)
    V.check_positive("scale", scale)
    V.check_chunk_size(chunk_size)
    V.check_bool("gather", gather)
    for name, tensor in (("anchors", anchors), ("positives", positives)):
        V.check_floating(name, tensor)
        V.check_ndim(name, tensor, 2, "[B, D]")
        V.check_nonempty(name, tensor)
    V.check_same_shape("anchors", anchors, "positives", positives)
    rank, world = blocks.world(gather)
    candidates = blocks.gather_with_grad(F.normalize(positives, dim=-1), world)
    if hard_negatives is not None:
        V.check_floating("hard_negatives", hard_negatives)
        V.check_ndim("hard_negatives", hard_negatives, 2, "[B·k, D]")
        V.check_nonempty("hard_negatives", hard_negatives)
        if hard_negatives.shape[1] != anchors.shape[1]:
            raise ValueError(
                f"hard_negatives must have shape [B·k, D] with D = {anchors.shape[1]}, "
                f"got shape {tuple(hard_negatives.shape)}"
            )
        negatives = F.normalize(hard_negatives.to(positives.dtype), dim=-1)
        candidates = torch.cat([candidates, blocks.gather_with_grad(negatives, world)])
    q = scale * F.normalize(anchors, dim=-1)  # scale the B x D rows, not B x M
    target = torch.arange(anchors.shape[0], device=anchors.device) + rank * anchors.shape[0]
    if chunk_size is None:
        return F.cross_entropy(q @ candidates.T, target, reduction=reduction)
    return blocks.row_block_loss(q, candidates, blocks.cross_entropy_terms(target), chunk_size, reduction)


@register(
    family="ranking",
    summary="RankNet: log(1 + exp(-(s_i - s_j))) averaged over the pairs with rel_i > rel_j of a list.",
    cite="burges2005learning",
    chapter="ranking/pairwise",
    reference=None,
)
def pairwise_logistic_loss(
    scores: torch.Tensor,
    relevance: torch.Tensor,
    *,
    where: torch.Tensor | None = None,
    chunk_size: int | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Pairwise logistic loss (RankNet).

    .. math::
        \ell = \frac{1}{|P|} \sum_{(i, j) \in P} \log\bigl(1 + e^{-(s_i - s_j)}\bigr),
        \qquad P = \{(i, j) : \mathrm{rel}_i > \mathrm{rel}_j\}

    per list: the cross-entropy of RankNet's :math:`P_{ij} = \sigma(s_i - s_j)` with the
    target 1, over the ordered pairs whose first item is more relevant (tied pairs are left
    out).

    Args:
        scores: ``[..., N]``, the last dim holds the items of one list.
        relevance: graded relevance of the scores' shape (higher is better; floating or
            integer).
        where: ``None`` or a bool tensor of the scores' shape; False items take no part.
        chunk_size: ``None`` (all ``N²`` pairs of a list at once) or the number of items
            whose pairs are formed at a time (``O(chunk_size · N)`` pair terms per list; the
            same value and gradient).
        reduction: ``"mean"`` (over the lists with a pair), ``"sum"`` or ``"none"`` (one
            value per list, shape ``[...]``, 0 for a list without a pair).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`burges2005learning`. Equivalent: rax's ``pairwise_logistic_loss``
    averages over all pairs of the batch instead of per list (the tests convert).
    """
    V.check_reduction(reduction)
    V.check_chunk_size(chunk_size)
    _check_lists(scores, relevance, where, "relevance")
    valid = where
    if chunk_size is not None:
        count = _preferred_pair_count(_flat_lists(relevance), _flat_lists(valid)).reshape(scores.shape[:-1])
        total = _pairs_in_blocks(scores, valid, chunk_size, "softplus", relevance=relevance)
        return V.reduce_counted(total / count.clamp(min=1).to(total.dtype), count > 0, reduction)
    pairs = _preferred_pairs(relevance, valid)
    per_list, counted = _mean_over_pairs(F.softplus(_score_gaps(scores, valid)), pairs)
    return V.reduce_counted(per_list, counted, reduction)


@register(
    family="ranking",
    summary="Pairwise hinge (RankSVM): max(0, margin - (s_i - s_j)) over the pairs with rel_i > rel_j.",
    cite="joachims2002optimizing",
    chapter="ranking/pairwise",
    reference=None,
)
def pairwise_hinge_loss(
    scores: torch.Tensor,
    relevance: torch.Tensor,
    *,
    margin: float = 1.0,
    where: torch.Tensor | None = None,
    chunk_size: int | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Pairwise hinge loss (the loss of RankSVM).

    .. math::
        \ell = \frac{1}{|P|} \sum_{(i, j) \in P} \max\bigl(0,\; \mu - (s_i - s_j)\bigr),
        \qquad P = \{(i, j) : \mathrm{rel}_i > \mathrm{rel}_j\}

    Args:
        scores: ``[..., N]``, the last dim holds the items of one list.
        relevance: graded relevance of the scores' shape.
        margin: :math:`\mu`, the score gap a preferred item must have (a finite real).
        where: ``None`` or a bool tensor of the scores' shape; False items take no part.
        chunk_size: ``None`` (all ``N²`` pairs of a list at once) or the number of items
            whose pairs are formed at a time (``O(chunk_size · N)`` pair terms per list; the
            same value and gradient).
        reduction: ``"mean"`` (over the lists with a pair), ``"sum"`` or ``"none"`` (``[...]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`joachims2002optimizing`. Equivalent: rax's ``pairwise_hinge_loss``
    up to its batch-wide pair average.
    """
    V.check_reduction(reduction)
    V.check_real("margin", margin)
    V.check_chunk_size(chunk_size)
    _check_lists(scores, relevance, where, "relevance")
    valid = where
    if chunk_size is not None:
        count = _preferred_pair_count(_flat_lists(relevance), _flat_lists(valid)).reshape(scores.shape[:-1])
        total = _pairs_in_blocks(scores, valid, chunk_size, "relu", relevance=relevance, offset=float(margin))
        return V.reduce_counted(total / count.clamp(min=1).to(total.dtype), count > 0, reduction)
    pairs = _preferred_pairs(relevance, valid)
    per_list, counted = _mean_over_pairs(F.relu(margin + _score_gaps(scores, valid)), pairs)
    return V.reduce_counted(per_list, counted, reduction)


@register(
    family="ranking",
    summary="The seed's soft pairwise loss: log(1 + exp(-y_i (s_i - s_j))) over all pairs i ≠ j, y in {-1, +1}.",
    cite="burges2010ranknet",
    chapter="ranking/pairwise",
    reference=None,
)
def soft_pairwise_loss(
    scores: torch.Tensor,
    labels: torch.Tensor,
    *,
    where: torch.Tensor | None = None,
    chunk_size: int | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Soft pairwise loss with per-item labels.

    .. math::
        \ell = \frac{1}{N(N-1)} \sum_{i \ne j} \log\bigl(1 + e^{-y_i (s_i - s_j)}\bigr)

    with labels :math:`y_i \in \{-1, +1\}`: an item labelled +1 is pushed above every other
    item of its list, an item labelled -1 below every other item (so two +1 items push
    against each other; the ranking chapter shows what this optimises).

    Args:
        scores: ``[..., N]``, the last dim holds the items of one list.
        labels: ``{-1, +1}`` labels of the scores' shape.
        where: ``None`` or a bool tensor of the scores' shape; False items take no part.
        chunk_size: ``None`` (all ``N²`` pairs of a list at once) or the number of items
            whose pairs are formed at a time (``O(chunk_size · N)`` pair terms per list; the
            same value and gradient).
        reduction: ``"mean"`` (over the lists with two valid items), ``"sum"`` or
            ``"none"`` (``[...]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: the seeds' formula, a logistic pairwise loss in the sense of
    :cite:t:`burges2010ranknet`; no library implements it.
    """
    V.check_reduction(reduction)
    V.check_chunk_size(chunk_size)
    _check_lists(scores, labels, where, "labels")
    valid = where
    V.check_sign_labels("labels", _masked(labels, valid, 1))
    if chunk_size is not None:
        items = (
            torch.full(scores.shape[:-1], scores.shape[-1], device=scores.device) if valid is None else valid.sum(-1)
        )
        count = items * (items - 1)
        total = _pairs_in_blocks(scores, valid, chunk_size, "softplus", row_factor=_masked(labels, valid, 1))
        return V.reduce_counted(total / count.clamp(min=1).to(total.dtype), count > 0, reduction)
    y = labels.to(scores.dtype).unsqueeze(-1)  # y_i along the rows of the gaps s_j - s_i
    per_list, counted = _mean_over_pairs(F.softplus(y * _score_gaps(scores, valid)), _distinct_pairs(scores, valid))
    return V.reduce_counted(per_list, counted, reduction)


@register(
    family="ranking",
    summary="Margin ranking loss max(0, -y (x1 - x2) + margin), as torch.",
    cite="bordes2013translating",
    chapter="ranking/triplet-margin",
    reference="torch.nn.functional.margin_ranking_loss",
)
def margin_ranking_loss(
    x1: torch.Tensor,
    x2: torch.Tensor,
    target: torch.Tensor,
    *,
    margin: float = 0.0,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Margin ranking loss of two scores and the order they should have.

    .. math::
        \ell = \max\bigl(0,\; -y\,(x_1 - x_2) + \mu\bigr)

    with :math:`y = +1` when :math:`x_1` should rank higher and :math:`-1` when :math:`x_2`
    should. With :math:`y = +1`, :math:`x_1 = s^+`, :math:`x_2 = s^-` it is the
    knowledge-graph loss :math:`[\mu - s^+ + s^-]_+` (for a distance :math:`f`, pass
    :math:`-f`).

    Args:
        x1: first scores, any shape.
        x2: second scores, the shape of ``x1``.
        target: :math:`y \in \{-1, +1\}`, the shape of ``x1`` (floating or integer; 0,
            which ``torch.sign`` can return, raises).
        margin: :math:`\mu`, a finite real.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (the input's shape).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: the margin loss of :cite:t:`bordes2013translating`. Equivalent:
    ``torch.nn.functional.margin_ranking_loss``.
    """
    V.check_reduction(reduction)
    V.check_real("margin", margin)
    V.check_floating("x1", x1)
    V.check_floating("x2", x2)
    V.check_real_tensor("target", target)
    V.check_nonempty("x1", x1)
    V.check_same_shape("x1", x1, "x2", x2)
    V.check_same_shape("x1", x1, "target", target)
    V.check_sign_labels("target", target)
    loss = F.margin_ranking_loss(x1, x2.to(x1.dtype), target.to(x1.dtype), margin=float(margin), reduction="none")
    return V.reduce(loss, reduction)


@register(
    family="ranking",
    summary="Triplet margin loss max(d(a, p) - d(a, n) + margin, 0) with p-norm distances, as torch.",
    cite="schroff2015facenet",
    chapter="ranking/triplet-margin",
    reference="torch.nn.functional.triplet_margin_loss",
)
def triplet_margin_loss(
    anchor: torch.Tensor,
    positive: torch.Tensor,
    negative: torch.Tensor,
    *,
    margin: float = 1.0,
    p: float = 2.0,
    eps: float = 1e-6,
    swap: bool = False,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Triplet margin loss.

    .. math::
        \ell = \max\bigl(d(a, p) - d(a, n) + \alpha,\; 0\bigr),
        \qquad d(x, y) = \lVert x - y + \epsilon \rVert_p

    the distance of torch's ``pairwise_distance`` (the :math:`\epsilon` keeps the gradient
    finite when two points coincide). With ``swap`` the negative distance is
    :math:`\min(d(a, n), d(p, n))` (the distance swap of Balntas et al., 2016). FaceNet
    writes the loss with squared distances; the ranking chapter compares the two.

    Args:
        anchor: ``[B, D]`` (or ``[D]`` for one triplet).
        positive: same class as the anchor, the anchor's shape.
        negative: another class, the anchor's shape.
        margin: :math:`\alpha \ge 0`.
        p: the norm's degree, ``> 0``.
        eps: :math:`\epsilon \ge 0` added to the differences.
        swap: use the distance swap.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[B]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`schroff2015facenet`. Equivalent:
    ``torch.nn.functional.triplet_margin_loss``.
    """
    V.check_reduction(reduction)
    for name, value in (("margin", margin), ("p", p), ("eps", eps)):
        V.check_real(name, value)
    V.check_nonnegative("margin", margin)
    V.check_positive("p", p)
    V.check_nonnegative("eps", eps)
    for name, tensor in (("anchor", anchor), ("positive", positive), ("negative", negative)):
        V.check_floating(name, tensor)
        V.check_nonempty(name, tensor)
    if anchor.dim() not in (1, 2):
        raise ValueError(f"anchor must have shape [B, D] or [D], got shape {tuple(anchor.shape)}")
    V.check_same_shape("anchor", anchor, "positive", positive)
    V.check_same_shape("anchor", anchor, "negative", negative)
    loss = F.triplet_margin_loss(
        anchor, positive, negative, margin=float(margin), p=float(p), eps=float(eps), swap=swap, reduction="none"
    )
    return V.reduce(loss, reduction)


# ----------------------------------------------------------------------- listwise


@register(
    family="ranking",
    summary="ListNet top-one: cross-entropy of softmax(relevance) and softmax(scores / T) over a list.",
    cite="cao2007learning",
    chapter="ranking/listwise",
    reference=None,
)
def listnet_loss(
    scores: torch.Tensor,
    relevance: torch.Tensor,
    *,
    temperature: float = 1.0,
    where: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""ListNet loss (top-one probabilities).

    .. math::
        \ell = -\sum_{i} \operatorname{softmax}(\mathrm{rel})_i \,
               \log \operatorname{softmax}(s / T)_i

    the cross-entropy between the top-one probabilities of the relevance and of the scores,
    over the valid items of a list.

    Args:
        scores: ``[..., N]``, the last dim holds the items of one list.
        relevance: relevance of the scores' shape (any real values).
        temperature: :math:`T > 0`, divides the scores.
        where: ``None`` or a bool tensor of the scores' shape; False items take no part.
        reduction: ``"mean"`` (over the lists that hold a preference), ``"sum"`` or
            ``"none"`` (``[...]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`cao2007learning`. Equivalent: allRank's ``listNet`` (which adds an
    ``eps`` inside the log).
    """
    V.check_reduction(reduction)
    V.check_real("temperature", temperature)
    V.check_positive("temperature", temperature)
    _check_lists(scores, relevance, where, "relevance")
    valid = where
    lowest = _extreme(scores.dtype, highest=False)  # exp(lowest - max) == 0, and no inf - inf
    target = torch.softmax(_masked(relevance.to(scores.dtype), valid, lowest), dim=-1)
    scaled = scores if temperature == 1 else scores / temperature
    log_q = torch.log_softmax(_masked(scaled, valid, lowest), dim=-1)
    terms = _masked(target * log_q, valid, 0.0)
    counted = _has_preference(relevance, valid)
    per_list = _masked(-terms.sum(-1), counted, 0.0)
    return V.reduce_counted(per_list, counted, reduction)


@register(
    family="ranking",
    summary="ListMLE: Plackett-Luce negative log-likelihood of the order that sorts the relevance.",
    cite="xia2008listwise",
    chapter="ranking/listwise",
    reference=None,
)
def listmle_loss(
    scores: torch.Tensor,
    relevance: torch.Tensor,
    *,
    where: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""ListMLE loss.

    .. math::
        \ell = -\sum_{k=1}^{n} \Bigl[ s_{\pi_k} - \log \sum_{j = k}^{n} e^{s_{\pi_j}} \Bigr]

    the negative log-likelihood, under the Plackett–Luce model of the scores, of the
    permutation :math:`\pi` that sorts the valid items by descending relevance. Ties are
    kept in item order (a stable sort), so tied items are expected in the order given.

    Args:
        scores: ``[..., N]``, the last dim holds the items of one list.
        relevance: relevance of the scores' shape (only its order matters).
        where: ``None`` or a bool tensor of the scores' shape; False items take no part.
        reduction: ``"mean"`` (over the lists that hold a preference), ``"sum"`` or
            ``"none"`` (``[...]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`xia2008listwise`. Equivalent: rax's ``listmle_loss`` on lists
    without ties; allRank's ``listMLE`` breaks ties at random.
    """
    V.check_reduction(reduction)
    _check_lists(scores, relevance, where, "relevance")
    valid = where
    # invalid items sort last; their order among themselves does not matter (they add
    # exp(lowest) = 0 to every sum and no term of their own)
    key = _masked(relevance, valid, _extreme(relevance.dtype, highest=False))
    order = torch.sort(key, dim=-1, descending=True, stable=True).indices
    sorted_scores = torch.gather(_masked(scores, valid, _extreme(scores.dtype, highest=False)), -1, order)
    tail_lse = torch.logcumsumexp(sorted_scores.flip(-1), dim=-1).flip(-1)
    terms = _masked(sorted_scores - tail_lse, None if valid is None else torch.gather(valid, -1, order), 0.0)
    counted = _has_preference(relevance, valid)
    per_list = _masked(-terms.sum(-1), counted, 0.0)
    return V.reduce_counted(per_list, counted, reduction)


@register(
    family="ranking",
    summary="LambdaRank: RankNet pairs weighted by |ΔNDCG@k| of swapping them (weights without gradient).",
    cite="burges2010ranknet",
    chapter="ranking/listwise",
    reference=None,
)
def lambda_rank_loss(
    scores: torch.Tensor,
    relevance: torch.Tensor,
    *,
    k: int | None = None,
    where: torch.Tensor | None = None,
    chunk_size: int | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""LambdaRank loss.

    .. math::
        \ell = \sum_{\mathrm{rel}_i > \mathrm{rel}_j} |\Delta\mathrm{NDCG@k}(i, j)| \,
               \log\bigl(1 + e^{-(s_i - s_j)}\bigr),
        \qquad |\Delta\mathrm{NDCG@k}(i, j)| =
        \frac{|G_i - G_j| \cdot |D(r_i) - D(r_j)|}{\mathrm{IDCG@k}}

    with gains :math:`G = 2^{\mathrm{rel}} - 1`, discounts :math:`D(r) = 1/\log_2(1 + r)`
    (0 for :math:`r > k`), ranks :math:`r` from the current scores (ties in item order) and
    the ideal DCG@k. The weights are constants: no gradient flows through the ranks.

    Args:
        scores: ``[..., N]``, the last dim holds the items of one list.
        relevance: non-negative graded relevance of the scores' shape.
        k: the NDCG cut-off, a positive int, or ``None`` for the whole list.
        where: ``None`` or a bool tensor of the scores' shape; False items take no part.
        chunk_size: ``None`` (all ``N²`` pairs of a list at once) or the number of items
            whose pairs are formed at a time (``O(chunk_size · N)`` pair terms per list; the
            same value and gradient).
        reduction: ``"mean"`` (over the lists with a pair), ``"sum"`` or ``"none"`` (``[...]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`burges2010ranknet`. Equivalent: rax's ``pairwise_logistic_loss``
    with ``dcg_lambdaweight(normalize=True, topn=k)``, whose weights are N times these and
    whose reduction differs (the tests convert).
    """
    V.check_reduction(reduction)
    if k is not None:
        V.check_positive_int("k", k)
    V.check_chunk_size(chunk_size)
    _check_lists(scores, relevance, where, "relevance")
    valid = where
    _check_nonnegative_relevance(relevance, valid)
    with torch.no_grad():
        dtype = _work_dtype(scores.dtype)
        gains = _gains(relevance, valid, dtype)
        discounts = _discounts(_ranks_by_score(scores, valid), dtype, k)
        ideal = _ideal_dcg(gains, k).clamp(min=torch.finfo(dtype).tiny)
    if chunk_size is not None:
        count = _preferred_pair_count(_flat_lists(relevance), _flat_lists(valid)).reshape(scores.shape[:-1])
        total = _pairs_in_blocks(
            scores, valid, chunk_size, "softplus", relevance=relevance, weights=(gains, discounts, ideal)
        )
        return V.reduce_counted(total, count > 0, reduction)
    pairs = _preferred_pairs(relevance, valid)
    with torch.no_grad():
        delta = (gains.unsqueeze(-1) - gains.unsqueeze(-2)).abs() * (
            discounts.unsqueeze(-1) - discounts.unsqueeze(-2)
        ).abs()
        weights = (delta / ideal[..., None, None]).to(scores.dtype)
    terms = weights * F.softplus(_score_gaps(scores, valid))
    counted = pairs.any(-1).any(-1)
    return V.reduce_counted(_sum_over_pairs(terms, pairs), counted, reduction)


@register(
    family="ranking",
    summary="ApproxNDCG: minus the NDCG with each rank replaced by a sigmoid-smoothed rank.",
    cite="qin2010general",
    chapter="ranking/listwise",
    reference=None,
)
def approx_ndcg_loss(
    scores: torch.Tensor,
    relevance: torch.Tensor,
    *,
    temperature: float = 1.0,
    where: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""ApproxNDCG loss.

    .. math::
        \ell = -\frac{1}{\mathrm{IDCG}} \sum_i \frac{2^{\mathrm{rel}_i} - 1}{\log_2(1 + \hat r_i)},
        \qquad \hat r_i = 1 + \sum_{j \ne i} \sigma\Bigl(\frac{s_j - s_i}{T}\Bigr)

    the NDCG of the whole list with each rank replaced by a smooth rank; as
    :math:`T \to 0`, :math:`\hat r_i` tends to the rank of item i and the loss to minus the
    NDCG. Values lie in :math:`[-1, 0]`.

    Args:
        scores: ``[..., N]``, the last dim holds the items of one list.
        relevance: non-negative graded relevance of the scores' shape.
        temperature: :math:`T > 0` of the sigmoid.
        where: ``None`` or a bool tensor of the scores' shape; False items take no part.
        reduction: ``"mean"`` (over the lists that hold a preference), ``"sum"`` or
            ``"none"`` (``[...]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`qin2010general`. Equivalent: allRank's ``approxNDCGLoss``
    (``alpha`` = 1/T; it averages over every list of the batch and clamps with an eps).
    """
    V.check_reduction(reduction)
    V.check_real("temperature", temperature)
    V.check_positive("temperature", temperature)
    _check_lists(scores, relevance, where, "relevance")
    valid = where
    _check_nonnegative_relevance(relevance, valid)
    beaten_by = torch.sigmoid(_score_gaps(scores, valid) / temperature)  # (i, j): σ((s_j - s_i) / T)
    smooth_ranks = 1.0 + _row_sums(beaten_by, _distinct_pairs(scores, valid))
    gains = _gains(relevance, valid, scores.dtype)
    with torch.no_grad():
        ideal = _ideal_dcg(_gains(relevance, valid, _work_dtype(scores.dtype)), None)
    counted = _has_preference(relevance, valid)
    ideal = torch.where(counted, ideal, torch.ones_like(ideal)).to(scores.dtype)
    dcg = (gains / torch.log2(1.0 + smooth_ranks)).sum(-1)
    per_list = _masked(-dcg / ideal, counted, 0.0)
    return V.reduce_counted(per_list, counted, reduction)
