r"""Sequences and structured prediction (book Part IX).

* Token-level cross-entropy with padding is :func:`~losslib.classification.cross_entropy` with
  ``ignore_index`` (in ``classification.py``).
* :func:`ctc_loss`: connectionist temporal classification, the negative log-likelihood of a
  label sequence summed over all its frame alignments.
* :func:`crf_nll_loss` and :func:`crf_decode`: the linear-chain conditional random field,
  its negative log-likelihood by the forward algorithm and its best tag sequence by Viterbi.

Both CRF functions run the recursion vectorised over the batch, with a Python loop over
time only; a ``mask [B, T]`` is left-aligned (on up to each sequence's length).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import _validation as V
from .registry import register

__all__ = ["ctc_loss", "crf_nll_loss", "crf_decode"]


def _work_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype the recursions run in: float64 stays, everything else runs in float32."""
    return torch.float64 if dtype == torch.float64 else torch.float32


# --------------------------------------------------------------------------------- CTC


def _check_ctc_targets(
    targets: torch.Tensor, target_lengths: torch.Tensor, n: int, num_classes: int, blank: int
) -> torch.Tensor:
    """Targets ``[N, S]`` (padded) or 1-D (concatenated); returns the labels that count."""
    V.check_integer("targets", targets)
    if targets.dim() == 2:
        V.check_shape("targets", targets, (n, targets.shape[1]), "[N, S]")
        V.check_lengths("target_lengths", target_lengths, n, targets.shape[1])
        if not V.value_checks_enabled():
            return targets[:0]
        positions = torch.arange(targets.shape[1], device=targets.device)
        return targets[positions[None, :] < target_lengths[:, None]]
    V.check_ndim("targets", targets, 1, "[N, S] (padded) or [sum(target_lengths)] (concatenated)")
    V.check_lengths("target_lengths", target_lengths, n, targets.numel())
    total = int(target_lengths.sum())
    if total != targets.numel():
        raise ValueError(
            f"targets (concatenated) must have sum(target_lengths) = {total} entries, got shape {tuple(targets.shape)}"
        )
    return targets


def _ctc_reachable(targets: torch.Tensor, input_lengths: torch.Tensor, target_lengths: torch.Tensor) -> torch.Tensor:
    """Whether some alignment reaches each target: one frame per label plus one blank between
    each pair of equal neighbours, ``T_n >= S_n + repeats_n``."""
    if targets.dim() == 2:
        positions = torch.arange(1, targets.shape[1], device=targets.device)
        inside = positions[None, :] < target_lengths[:, None]
        repeats = ((targets[:, 1:] == targets[:, :-1]) & inside).sum(1)
    else:
        segment = torch.repeat_interleave(torch.arange(target_lengths.numel()), target_lengths)
        same = (targets[1:] == targets[:-1]) & (segment[1:] == segment[:-1])
        repeats = torch.zeros_like(target_lengths).index_add_(0, segment[1:], same.to(target_lengths.dtype))
    return input_lengths >= target_lengths + repeats


@register(
    family="sequence",
    summary="CTC: -log of the summed probability of every frame alignment that collapses to the target.",
    cite="graves2006connectionist",
    chapter="sequences/ctc",
    reference="torch.nn.functional.ctc_loss",
)
def ctc_loss(
    log_probs: torch.Tensor,
    targets: torch.Tensor,
    input_lengths: torch.Tensor,
    target_lengths: torch.Tensor,
    *,
    blank: int = 0,
    zero_infinity: bool = False,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Connectionist temporal classification loss.

    For frame log-probabilities :math:`\log y_t(k)` over :math:`T_n` frames and a target
    :math:`\mathbf{l}` without blanks, with :math:`\mathcal{B}` the map that merges repeated
    labels and then deletes blanks,

    .. math::
        \ell_n = -\log \sum_{\pi \in \mathcal{B}^{-1}(\mathbf{l})} \prod_{t=1}^{T_n} y_t(\pi_t),

    the sum over every alignment :math:`\pi` of length :math:`T_n` that collapses to
    :math:`\mathbf{l}`, computed by the forward algorithm in log space. A target that no
    alignment reaches (it needs more frames than there are: one per label plus one blank
    between each pair of equal neighbours) has :math:`\ell_n = \infty`, or 0 with
    ``zero_infinity=True`` (and then no gradient).

    Args:
        log_probs: :math:`\log y_t(k)`, ``[T, N, C]`` (time first, as torch), e.g. the
            output of ``log_softmax(dim=2)``.
        targets: label indices in ``[0, C)`` other than ``blank``: padded ``[N, S]`` (entries
            beyond a target's length are not read) or concatenated 1-D
            ``[sum(target_lengths)]``.
        input_lengths: frames of each sequence, integer ``[N]``, values in ``[0, T]``.
        target_lengths: labels of each target, integer ``[N]``.
        blank: the index of the blank symbol, in ``[0, C)``.
        zero_infinity: replace infinite losses (and their gradients) by 0.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[N]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Note:
        ``"mean"`` is the plain mean of the ``"none"`` losses. Torch's ``"mean"`` first
        divides each loss by its target length:
        ``F.ctc_loss(..., reduction="mean")`` equals
        ``(ctc_loss(..., reduction="none") / target_lengths.clamp(min=1)).mean()``.

        The values are ``F.ctc_loss(..., reduction="none")``; the gradient is the true
        gradient with respect to ``log_probs``. Torch's own backward returns
        :math:`y_t(k) - \gamma_t(k)` (the gradient with respect to the logits under a
        ``log_softmax``), which differs from the gradient with respect to ``log_probs``,
        :math:`-\gamma_t(k)`, by :math:`y_t(k)` on every frame inside the input length;
        chained through ``log_softmax`` both give the same gradient to the logits.
        bfloat16 and float16 inputs are computed in float32 and cast back.

    Reference: :cite:t:`graves2006connectionist`. Equivalent: ``torch.nn.functional.ctc_loss``
    (and ``torch.nn.CTCLoss``) with the conversion of the note.
    """
    V.check_reduction(reduction)
    V.check_floating("log_probs", log_probs)
    V.check_ndim("log_probs", log_probs, 3, "[T, N, C]")
    V.check_nonempty("log_probs", log_probs)
    num_frames, n, num_classes = log_probs.shape
    V.check_int("blank", blank)
    V.check_in_interval("blank", blank, 0, num_classes - 1, closed=True)
    V.check_bool("zero_infinity", zero_infinity)
    V.check_lengths("input_lengths", input_lengths, n, num_frames)
    labels = _check_ctc_targets(targets, target_lengths, n, num_classes, blank)
    if labels.numel():
        V.check_class_indices("targets", labels, num_classes)
    V.check_excludes("targets", labels, blank, "the blank index may not be a target label")

    work = log_probs if log_probs.dtype in (torch.float32, torch.float64) else log_probs.float()
    losses = F.ctc_loss(
        work, targets, input_lengths, target_lengths, blank=blank, reduction="none", zero_infinity=zero_infinity
    )
    if work.requires_grad and torch.is_grad_enabled():
        # Torch's backward adds y_t(k) on the frames t < T_n of every sequence with a finite
        # loss (its gradient assumes a log_softmax before it). Subtract sum_t,k y_t(k), a term
        # of value 0 here, whose gradient removes exactly that.
        # Unreachable targets have no torch gradient (0 with zero_infinity): no correction.
        frames = torch.arange(num_frames, device=work.device)[:, None] < input_lengths.to(work.device)[None, :]
        frames = frames & _ctc_reachable(targets, input_lengths, target_lengths)[None, :]
        mass = (work.exp().sum(2) * frames).sum(0)
        losses = losses - (mass - mass.detach())
    return V.reduce(losses.to(log_probs.dtype), reduction)


# --------------------------------------------------------------------------------- CRF


def _check_crf_parameters(
    emissions: torch.Tensor,
    transitions: torch.Tensor,
    start_transitions: torch.Tensor | None,
    end_transitions: torch.Tensor | None,
    mask: torch.Tensor | None,
) -> None:
    V.check_floating("emissions", emissions)
    V.check_ndim("emissions", emissions, 3, "[B, T, K]")
    V.check_nonempty("emissions", emissions)
    num_tags = emissions.shape[2]
    V.check_floating("transitions", transitions)
    V.check_shape("transitions", transitions, (num_tags, num_tags), "[K, K]")
    for name, vector in (("start_transitions", start_transitions), ("end_transitions", end_transitions)):
        if vector is not None:
            V.check_floating(name, vector)
            V.check_shape(name, vector, (num_tags,), "[K]")
    if mask is not None:
        V.check_left_aligned_mask("mask", mask, emissions.shape[:2])


def _crf_inputs(emissions, transitions, start_transitions, end_transitions, mask):
    """Time-major emissions ``[T, B, K]``, the three parameter tensors (zeros for a missing
    start or end) and the mask ``[T, B]``, all in the work dtype."""
    dtype = _work_dtype(emissions.dtype)
    num_tags = emissions.shape[2]
    zeros = emissions.new_zeros(num_tags, dtype=dtype)
    start = zeros if start_transitions is None else start_transitions.to(dtype)
    end = zeros if end_transitions is None else end_transitions.to(dtype)
    steps = emissions.transpose(0, 1).to(dtype)
    on = None if mask is None else mask.transpose(0, 1)
    return steps, transitions.to(dtype), start, end, on


@register(
    family="sequence",
    summary="Linear-chain CRF negative log-likelihood log Z(x) - score(x, y), by the forward algorithm.",
    cite="lafferty2001conditional",
    chapter="sequences/crf",
    reference="torchcrf.CRF",
)
def crf_nll_loss(
    emissions: torch.Tensor,
    tags: torch.Tensor,
    transitions: torch.Tensor,
    *,
    start_transitions: torch.Tensor | None = None,
    end_transitions: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Negative log-likelihood of a linear-chain conditional random field.

    With emission scores :math:`e_t(k)`, transition scores :math:`A_{ij}` (from tag
    :math:`i` to tag :math:`j`), start and end scores :math:`a_k, b_k`, a tag sequence
    :math:`y_1, \dots, y_L` (``L`` the length under ``mask``) scores

    .. math::
        s(x, y) = a_{y_1} + \sum_{t=1}^{L} e_t(y_t) + \sum_{t=2}^{L} A_{y_{t-1} y_t} + b_{y_L},
        \qquad
        \ell = \log \sum_{y'} e^{s(x, y')} - s(x, y),

    the log-partition function over all :math:`K^L` tag sequences computed by the forward
    recursion :math:`\alpha_t(j) = e_t(j) + \log\sum_i e^{\alpha_{t-1}(i) + A_{ij}}` in log
    space. :math:`\ell \ge 0`.

    Args:
        emissions: :math:`e_t(k)`, ``[B, T, K]`` (batch first).
        tags: the gold tags, integer ``[B, T]``, values in ``[0, K)`` where ``mask`` is on
            (entries where it is off are not read).
        transitions: :math:`A`, ``[K, K]``, row = previous tag, column = next tag.
        start_transitions: :math:`a`, ``[K]``, or ``None`` (zeros).
        end_transitions: :math:`b`, ``[K]``, or ``None`` (zeros).
        mask: bool ``[B, T]``, left-aligned (on up to each length, first step on), or
            ``None`` (every step counts).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (``[B]``).

    Returns:
        The loss, a scalar unless ``reduction="none"``. bfloat16 and float16 inputs are
        computed in float32 and cast back.

    Reference: :cite:t:`lafferty2001conditional`. Equivalent: minus pytorch-crf's
    ``CRF(K, batch_first=True)(emissions, tags, mask, reduction="none")`` with its
    ``transitions``, ``start_transitions`` and ``end_transitions`` set to these tensors
    (pytorch-crf's ``"mean"`` is the same plain mean; its ``"token_mean"`` divides by the
    number of tokens).
    """
    V.check_reduction(reduction)
    _check_crf_parameters(emissions, transitions, start_transitions, end_transitions, mask)
    batch, num_steps, num_tags = emissions.shape
    V.check_integer("tags", tags)
    V.check_shape("tags", tags, (batch, num_steps), "[B, T]")
    V.check_class_indices("tags", tags if mask is None else tags[mask], num_tags)
    steps, trans, start, end, on = _crf_inputs(emissions, transitions, start_transitions, end_transitions, mask)

    # score of the gold path, vectorised over time
    gold = tags.transpose(0, 1) if mask is None else tags.masked_fill(~mask, 0).transpose(0, 1)  # [T, B]
    emitted = steps.gather(2, gold.unsqueeze(2)).squeeze(2)  # [T, B]
    moved = trans[gold[:-1], gold[1:]]  # [T - 1, B]
    if on is None:
        last = gold[-1]
        score = start[gold[0]] + emitted.sum(0) + moved.sum(0) + end[last]
    else:
        weights = on.to(steps.dtype)
        lengths = on.sum(0)
        last = gold.gather(0, (lengths - 1).unsqueeze(0)).squeeze(0)
        score = start[gold[0]] + (emitted * weights).sum(0) + (moved * weights[1:]).sum(0) + end[last]

    # log Z by the forward algorithm: a loop over time, vectorised over the batch
    alpha = start + steps[0]  # [B, K]
    for t in range(1, num_steps):
        step = torch.logsumexp(alpha.unsqueeze(2) + trans, dim=1) + steps[t]
        alpha = step if on is None else torch.where(on[t].unsqueeze(1), step, alpha)
    log_partition = torch.logsumexp(alpha + end, dim=1)
    return V.reduce((log_partition - score).to(emissions.dtype), reduction)


@register(
    family="sequence",
    summary="Viterbi decoding of a linear-chain CRF: the highest-scoring tag sequence (int64, -1 off the mask).",
    cite="forney1973viterbi",
    chapter="sequences/crf",
    reference="torchcrf.CRF.decode",
)
def crf_decode(
    emissions: torch.Tensor,
    transitions: torch.Tensor,
    *,
    start_transitions: torch.Tensor | None = None,
    end_transitions: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""Viterbi decoding of a linear-chain CRF (the model of :func:`crf_nll_loss`).

    .. math::
        \hat y = \arg\max_{y} s(x, y), \qquad
        \delta_t(j) = e_t(j) + \max_i \bigl(\delta_{t-1}(i) + A_{ij}\bigr),
        \quad \delta_1 = a + e_1,

    then :math:`\hat y_L = \arg\max_k \delta_L(k) + b_k` and back along the stored argmax
    pointers. A decoder, not a loss: it returns tags, carries no gradient and has no
    ``reduction``.

    Args:
        emissions: :math:`e_t(k)`, ``[B, T, K]`` (batch first).
        transitions: :math:`A`, ``[K, K]``, row = previous tag, column = next tag.
        start_transitions: :math:`a`, ``[K]``, or ``None`` (zeros).
        end_transitions: :math:`b`, ``[K]``, or ``None`` (zeros).
        mask: bool ``[B, T]``, left-aligned (first step on), or ``None``.

    Returns:
        The best tags, int64 ``[B, T]``, -1 where ``mask`` is off.

    Reference: the Viterbi algorithm :cite:p:`viterbi1967error,forney1973viterbi` on the
    CRF of :cite:t:`lafferty2001conditional`. Equivalent: pytorch-crf's ``CRF.decode``
    (which returns lists of each sequence's length).
    """
    _check_crf_parameters(emissions, transitions, start_transitions, end_transitions, mask)
    batch, num_steps, _ = emissions.shape
    with torch.no_grad():
        steps, trans, start, end, on = _crf_inputs(emissions, transitions, start_transitions, end_transitions, mask)
        delta = start + steps[0]
        pointers = []
        for t in range(1, num_steps):
            best, pointer = (delta.unsqueeze(2) + trans).max(dim=1)  # over the previous tag
            step = best + steps[t]
            delta = step if on is None else torch.where(on[t].unsqueeze(1), step, delta)
            pointers.append(pointer)
        current = (delta + end).argmax(dim=1)  # the last tag of each sequence
        tags = torch.full((num_steps, batch), -1, dtype=torch.int64, device=emissions.device)
        for t in range(num_steps - 1, -1, -1):
            active = None if on is None else on[t]
            tags[t] = current if active is None else torch.where(active, current, -1)
            if t > 0:
                previous = pointers[t - 1].gather(1, current.unsqueeze(1)).squeeze(1)
                current = previous if active is None else torch.where(active, previous, current)
        return tags.transpose(0, 1).contiguous()
