r"""Blockwise evaluation of the quadratic losses: in-batch softmax / sigmoid losses over a
``B × M`` similarity matrix, and pairwise ranking losses over the ``N × N`` pairs of a list.

Neither matrix is ever built whole. The rows are taken ``chunk_size`` at a time: a block of
rows against every column, so at most ``chunk_size × M`` similarities (or ``chunk_size × N``
pair terms per list) exist at once, in the forward pass and in the backward pass.

The gradient is computed in the same sweep as the value. A ``"mean"`` or ``"sum"`` loss is a
scalar :math:`L = \sum_i r_i \ell_i` with fixed row weights :math:`r`; its gradient with
respect to the query rows and the key rows is accumulated block by block during the forward
pass (``O((B + M) · D)`` extra memory), and the backward pass only multiplies it by the
upstream gradient. Per block that is three matrix products, as for the dense loss: the
similarities :math:`S_b = Q_b K^\top`, then :math:`\nabla Q_b = G_b K` and
:math:`\nabla K \mathrel{+}= G_b^\top Q_b` with :math:`G_b = \partial L / \partial S_b`.
``reduction="none"`` returns a vector whose upstream gradient is not known in the forward
pass: its backward pass recomputes each block (four products). The pairwise ranking losses
need no products: each item belongs to one list, so the per-list gradient is stored and
scaled by the upstream gradient of its list.

The functions here are device-agnostic (plain tensor operations on the inputs' device) and
compute in at least float32 (bfloat16 blocks are upcast; the result is cast back).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
import torch.distributed as dist
import torch.nn.functional as F

# terms(S, rows, need_grad) -> (losses of the rows [c], dℓ_i/dS_ij [c, M] or None).
# S is the block of similarities of the rows ``rows`` (a slice) and may be overwritten.
RowTerms = Callable[[torch.Tensor, slice, bool], tuple[torch.Tensor, torch.Tensor | None]]


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.promote_types(dtype, torch.float32)


def _row_blocks(n: int, chunk_size: int):
    for start in range(0, n, chunk_size):
        yield slice(start, min(start + chunk_size, n))


# ------------------------------------------------------------ across processes


def world(gather: bool) -> tuple[int, int]:
    """``(rank, world size)`` of the process group ``gather`` uses; ``(0, 1)`` without one."""
    if gather and dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def gather_with_grad(x: torch.Tensor, world: int) -> torch.Tensor:
    """The rows of every rank, rank 0 first, carrying gradient back to each rank's rows (the
    backward pass of ``all_gather`` sums every rank's gradient for this rank's rows)."""
    if world == 1:
        return x
    from torch.distributed.nn.functional import all_gather

    sizes = [torch.zeros(1, dtype=torch.long, device=x.device) for _ in range(world)]
    dist.all_gather(sizes, torch.tensor([x.shape[0]], device=x.device))
    if any(int(size) != x.shape[0] for size in sizes):
        raise ValueError(f"gather=True needs equal local batches, got sizes {[int(n) for n in sizes]}")
    with warnings.catch_warnings():  # torch suggests a private module instead; this one is public
        warnings.filterwarnings("ignore", "torch.distributed.nn.functional.all_gather", FutureWarning)
        return torch.cat(all_gather(x))


def gather_labels(labels: torch.Tensor, world: int) -> torch.Tensor:
    if world == 1:
        return labels
    gathered = [torch.empty_like(labels) for _ in range(world)]
    dist.all_gather(gathered, labels.contiguous())
    return torch.cat(gathered)


# ------------------------------------------------------------ in-batch (rows x columns)


def _row_losses(q: torch.Tensor, k: torch.Tensor, terms: RowTerms, chunk_size: int) -> torch.Tensor:
    """The per-row losses, one block of rows at a time (one product per block)."""
    losses = q.new_empty(q.shape[0])
    for rows in _row_blocks(q.shape[0], chunk_size):
        losses[rows] = terms(q[rows] @ k.T, rows, False)[0]
    return losses


def _row_losses_and_gradients(
    q: torch.Tensor, k: torch.Tensor, terms: RowTerms, chunk_size: int, weights: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The per-row losses and the gradient of :math:`\\sum_i w_i \\ell_i` with respect to
    ``q`` and ``k``, in one sweep over the row blocks (three products per block)."""
    losses = q.new_empty(q.shape[0])
    grad_q = torch.empty_like(q)
    grad_k = torch.zeros_like(k)
    for rows in _row_blocks(q.shape[0], chunk_size):
        losses[rows], g = terms(q[rows] @ k.T, rows, True)
        w = weights[rows].unsqueeze(1)  # row weights, applied to the c × D side, not c × M
        grad_q[rows] = (g @ k).mul_(w)
        grad_k += g.T @ (q[rows] * w)
    return losses, grad_q, grad_k


class _RowBlockLoss(torch.autograd.Function):
    """``Σ_i w_i ℓ_i`` (``per_row=False``) or the vector ``ℓ`` (``per_row=True``) of a row
    loss over the similarities ``q kᵀ``, computed in blocks of rows."""

    @staticmethod
    def forward(ctx, q, k, weights, terms, chunk_size, per_row):
        ctx.terms, ctx.chunk_size, ctx.per_row = terms, chunk_size, per_row
        needs_grad = ctx.needs_input_grad[0] or ctx.needs_input_grad[1]
        if per_row or not needs_grad:
            losses = _row_losses(q, k, terms, chunk_size)
            ctx.save_for_backward(q, k)
            return losses if per_row else (weights * losses).sum()
        losses, grad_q, grad_k = _row_losses_and_gradients(q, k, terms, chunk_size, weights)
        ctx.save_for_backward(grad_q, grad_k)
        return (weights * losses).sum()

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output):
        if ctx.per_row:
            q, k = ctx.saved_tensors
            _, grad_q, grad_k = _row_losses_and_gradients(q, k, ctx.terms, ctx.chunk_size, grad_output)
            return grad_q, grad_k, None, None, None, None
        grad_q, grad_k = ctx.saved_tensors
        return grad_output * grad_q, grad_output * grad_k, None, None, None, None


def row_block_loss(
    q: torch.Tensor,
    k: torch.Tensor,
    terms: RowTerms,
    chunk_size: int,
    reduction: str,
    counted: torch.Tensor | None = None,
    denominator: torch.Tensor | None = None,
) -> torch.Tensor:
    """A row loss of the similarities ``q kᵀ`` reduced as ``reduction`` says; ``counted``
    (bool ``[B]``) restricts ``"mean"`` to the counted rows (the others' losses are 0), whose
    sum it divides by ``denominator`` (default: the number of counted rows)."""
    dtype = q.dtype
    work = compute_dtype(dtype)
    q, k = q.to(work), k.to(work)
    b = q.shape[0]
    if reduction == "none":
        return _RowBlockLoss.apply(q, k, None, terms, chunk_size, True).to(dtype)
    if reduction == "sum":
        weights = q.new_ones(b)
    elif counted is None:
        weights = q.new_full((b,), 1.0 / b)
    else:
        total = counted.sum().clamp(min=1) if denominator is None else denominator
        weights = counted.to(work) / total.to(work)
    return _RowBlockLoss.apply(q, k, weights, terms, chunk_size, False).to(dtype)


def _fill_excluded(scores: torch.Tensor, columns: torch.Tensor | None) -> None:
    """Set each row's excluded column (an anchor's own similarity) to the lowest finite value."""
    if columns is not None:
        scores.scatter_(1, columns.unsqueeze(1), torch.finfo(scores.dtype).min)


def _softmax_in_place(scores: torch.Tensor) -> torch.Tensor:
    """Overwrite ``scores`` with its row softmax; return the rows' log-sum-exp."""
    top = scores.amax(1, keepdim=True)
    scores.sub_(top).exp_()
    total = scores.sum(1, keepdim=True)
    scores.div_(total)
    return (top + total.log()).squeeze(1)


def cross_entropy_terms(targets: torch.Tensor, excluded: torch.Tensor | None = None) -> RowTerms:
    r"""Row ``i``: :math:`\mathrm{lse}_j S_{ij} - S_{i t_i} = -\log P_{i t_i}` (the excluded
    column left out), with :math:`\partial \ell_i / \partial S_{ij} = P_{ij} - [j = t_i]`."""

    def terms(scores, rows, need_grad):
        target = targets[rows].unsqueeze(1)
        _fill_excluded(scores, None if excluded is None else excluded[rows])
        log_p = torch.log_softmax(scores, dim=1)  # fused; the block of scores is then dropped
        del scores
        losses = -log_p.gather(1, target).squeeze(1)
        if not need_grad:
            return losses, None
        return losses, log_p.exp_().scatter_add_(1, target, log_p.new_full(target.shape, -1.0))

    return terms


def supervised_contrastive_terms(
    row_labels: torch.Tensor, column_labels: torch.Tensor, excluded: torch.Tensor, counts: torch.Tensor
) -> RowTerms:
    """Row ``i``: :math:`\\mathrm{lse}_{j \\ne i} S_{ij} - \\frac{1}{|P(i)|}\\sum_{p \\in P(i)} S_{ip}`,
    0 for an anchor without a positive (``counts`` = :math:`|P(i)|`)."""

    def terms(scores, rows, need_grad):
        own = excluded[rows].unsqueeze(1)
        positives = row_labels[rows].unsqueeze(1) == column_labels.unsqueeze(0)
        positives.scatter_(1, own, False)
        count = counts[rows].to(scores.dtype)
        share = positives.to(scores.dtype).div_(count.clamp(min=1).unsqueeze(1))
        positive = (scores * share).sum(1)
        _fill_excluded(scores, own.squeeze(1))
        lse = _softmax_in_place(scores)
        has_positive = (count > 0).to(scores.dtype)
        losses = (lse - positive) * has_positive
        if not need_grad:
            return losses, None
        return losses, scores.sub_(share).mul_(has_positive.unsqueeze(1))

    return terms


def sigmoid_pair_terms(targets: torch.Tensor, bias: float) -> RowTerms:
    """Row ``i``: :math:`\\sum_j -\\log\\sigma(z_{ij}(S_{ij} + b))` with :math:`z_{ij} = +1`
    at the column ``t_i`` and -1 elsewhere (SigLIP)."""

    def terms(scores, rows, need_grad):
        target = targets[rows].unsqueeze(1)
        scores.add_(bias)
        positive = scores.gather(1, target)
        negatives = -F.logsigmoid(-scores)
        losses = negatives.sum(1) - negatives.gather(1, target).squeeze(1) - F.logsigmoid(positive).squeeze(1)
        del negatives
        if not need_grad:
            return losses, None
        # d/ds of -log σ(-s) is σ(s); of -log σ(s) it is σ(s) - 1
        return losses, scores.sigmoid_().scatter_add_(1, target, scores.new_full(target.shape, -1.0))

    return terms


# ------------------------------------------------------------ pairwise (items of a list)

# pair_terms(gaps, rows) -> (per-list sum of the terms [L], d term / d gap [L, c, N], 0 outside
# the pairs); ``gaps`` is a fresh block and may be overwritten;
# gaps[l, a, j] = s_j - s_i for the item i = rows.start + a of list l.
PairTerms = Callable[[torch.Tensor, slice], tuple[torch.Tensor, torch.Tensor]]


class _PairBlockLoss(torch.autograd.Function):
    """Per list ``l``: the sum of the pair terms over its pairs (and their count), computed
    in blocks of rows; the gradient of each list's sum is accumulated in the same sweep."""

    @staticmethod
    def forward(ctx, scores, pair_terms, chunk_size):
        lists, n = scores.shape
        sums = scores.new_zeros(lists)
        grad = torch.zeros_like(scores) if ctx.needs_input_grad[0] else None
        for rows in _row_blocks(n, chunk_size):
            gaps = scores.unsqueeze(1) - scores[:, rows].unsqueeze(2)
            block_sums, slopes = pair_terms(gaps, rows)
            sums += block_sums
            if grad is not None:
                grad[:, rows] -= slopes.sum(2)
                grad += slopes.sum(1)
        ctx.save_for_backward(grad)
        return sums

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output):
        (grad,) = ctx.saved_tensors
        return grad_output.unsqueeze(1) * grad, None, None


def pair_block_sums(scores: torch.Tensor, pair_terms: PairTerms, chunk_size: int) -> torch.Tensor:
    """Per list (``scores [L, N]``): the sum of ``pair_terms`` over its pairs, in blocks."""
    dtype = scores.dtype
    return _PairBlockLoss.apply(scores.to(compute_dtype(dtype)), pair_terms, chunk_size).to(dtype)


def softplus_slope(x: torch.Tensor) -> torch.Tensor:
    """The derivative of ``F.softplus`` as torch computes it (1 beyond its threshold of 20)."""
    return torch.where(x > 20, torch.ones((), dtype=x.dtype, device=x.device), torch.sigmoid(x))
