"""Cases of the sequence family (issue 13). The references are brute-force enumerations in
float64, written with Python loops and independent of losslib: every frame alignment for CTC
(C^T paths, T = 5, C = 3) and every tag sequence for the CRF (K^T paths, T = 4, K = 3). The
library references (``F.ctc_loss``, pytorch-crf, ``F.cross_entropy(ignore_index=...)``) are
in ``tests/test_sequence.py``.

Two contract checks need adapting here:

* ``ctc_loss`` takes ``log_probs [T, N, C]`` (time first): dim 0 is not the batch, so the
  permutation test is off (``per_example=False``; ``tests/test_sequence.py`` permutes dim 1).
* ``crf_decode`` is a decoder, not a loss: it returns int64 tags, has no reduction, carries no
  gradient (``differentiable=False``) and is compared exactly with the enumerated argmax.
  Its output dtype is int64 whatever the input dtype (``extra["output_dtype"]``).
"""

from __future__ import annotations

import itertools
import math

import torch

from . import Case, add, randint, randn
from .classification import ref_cross_entropy

# ----------------------------------------------------------------------------- CTC

T_CTC, N_CTC, C_CTC, S_CTC = 5, 4, 3, 2


def _collapse(path: tuple[int, ...], blank: int) -> tuple[int, ...]:
    """CTC's map B: merge runs of equal symbols, then drop blanks."""
    merged = [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]
    return tuple(k for k in merged if k != blank)


def ref_ctc(log_probs, targets, input_lengths, target_lengths, *, blank=0, zero_infinity=False):
    """-log of the summed probability of every path of C^T_n symbols that collapses to the target."""
    out = []
    num_classes = log_probs.shape[2]
    offsets = [0, *itertools.accumulate(int(n) for n in target_lengths)]
    for n in range(log_probs.shape[1]):
        frames, length = int(input_lengths[n]), int(target_lengths[n])
        label = targets[n, :length] if targets.dim() == 2 else targets[offsets[n] : offsets[n + 1]]
        label = tuple(int(k) for k in label)
        terms = [
            sum(float(log_probs[t, n, k]) for t, k in enumerate(path))
            for path in itertools.product(range(num_classes), repeat=frames)
            if _collapse(path, blank) == label
        ]
        if terms:
            top = max(terms)
            out.append(-(top + math.log(sum(math.exp(x - top) for x in terms))))
        else:
            out.append(0.0 if zero_infinity else math.inf)
    return torch.tensor(out, dtype=torch.float64)


def _ctc_make(blank=0, concatenated=False):
    def make(g, dt, s):
        log_probs = randn(g, T_CTC, N_CTC, C_CTC, dtype=torch.float64, scale=s).log_softmax(2).to(dt)
        labels = [k for k in range(C_CTC) if k != blank]
        targets = torch.tensor(labels)[randint(g, len(labels), N_CTC, S_CTC)]
        target_lengths = 1 + randint(g, S_CTC, N_CTC)  # 1 or 2 labels: always reachable in 4 frames
        input_lengths = T_CTC - randint(g, 2, N_CTC)  # 4 or 5 frames
        if concatenated:
            targets = torch.cat([targets[n, : int(target_lengths[n])] for n in range(N_CTC)])
        return (log_probs, targets, input_lengths, target_lengths), {"blank": blank}

    return make


add(Case("ctc_loss", _ctc_make(), ref_ctc, batch_args=(1, 2, 3), per_example=False))
add(Case("ctc_loss", _ctc_make(blank=2), ref_ctc, label="blank-last", batch_args=(1, 2, 3), per_example=False))
add(
    Case(
        "ctc_loss",
        _ctc_make(concatenated=True),
        ref_ctc,
        label="concatenated",
        batch_args=(2, 3),  # 1-D targets have no batch dim
        per_example=False,
    )
)

# ----------------------------------------------------------------------------- CRF

B_CRF, T_CRF, K_CRF = 4, 4, 3


def _path_score(emissions, transitions, start, end, row, path):
    score = float(start[path[0]]) + float(end[path[-1]])
    score += sum(float(emissions[row, t, k]) for t, k in enumerate(path))
    score += sum(float(transitions[i, j]) for i, j in zip(path, path[1:], strict=False))
    return score


def _crf_parts(emissions, transitions, start_transitions, end_transitions, mask):
    num_tags = emissions.shape[2]
    start = torch.zeros(num_tags) if start_transitions is None else start_transitions
    end = torch.zeros(num_tags) if end_transitions is None else end_transitions
    lengths = [emissions.shape[1]] * emissions.shape[0] if mask is None else [int(m.sum()) for m in mask]
    return start, end, lengths


def ref_crf_nll(emissions, tags, transitions, *, start_transitions=None, end_transitions=None, mask=None):
    """log Z by summing exp(score) over all K^L tag sequences, minus the gold path's score."""
    start, end, lengths = _crf_parts(emissions, transitions, start_transitions, end_transitions, mask)
    out = []
    for row, length in enumerate(lengths):
        scores = [
            _path_score(emissions, transitions, start, end, row, path)
            for path in itertools.product(range(emissions.shape[2]), repeat=length)
        ]
        top = max(scores)
        log_z = top + math.log(sum(math.exp(x - top) for x in scores))
        gold = tuple(int(k) for k in tags[row, :length])
        out.append(log_z - _path_score(emissions, transitions, start, end, row, gold))
    return torch.tensor(out, dtype=torch.float64)


def ref_crf_decode(emissions, transitions, *, start_transitions=None, end_transitions=None, mask=None):
    """The argmax over all K^L tag sequences, padded with -1."""
    start, end, lengths = _crf_parts(emissions, transitions, start_transitions, end_transitions, mask)
    out = torch.full(emissions.shape[:2], -1, dtype=torch.int64)
    for row, length in enumerate(lengths):
        paths = itertools.product(range(emissions.shape[2]), repeat=length)
        best = max(paths, key=lambda p: _path_score(emissions, transitions, start, end, row, p))
        out[row, :length] = torch.tensor(best)
    return out


def _crf_make(with_ends=False, with_mask=False, decode=False):
    def make(g, dt, s):
        emissions = randn(g, B_CRF, T_CRF, K_CRF, dtype=dt, scale=s)
        tags = randint(g, K_CRF, B_CRF, T_CRF)
        transitions = randn(g, K_CRF, K_CRF, dtype=dt)
        kwargs = {}
        if with_ends:
            kwargs["start_transitions"] = randn(g, K_CRF, dtype=dt)
            kwargs["end_transitions"] = randn(g, K_CRF, dtype=dt)
        if with_mask:
            lengths = torch.tensor([T_CRF, 1, 3, 2])
            kwargs["mask"] = torch.arange(T_CRF)[None, :] < lengths[:, None]
            tags = tags.masked_fill(~kwargs["mask"], -1)  # padding is never read
        return ((emissions, transitions) if decode else (emissions, tags, transitions)), kwargs

    return make


add(Case("crf_nll_loss", _crf_make(), ref_crf_nll, grad_args=(0, 2)))
add(Case("crf_nll_loss", _crf_make(with_ends=True), ref_crf_nll, label="start-end", grad_args=(0, 2)))
add(
    Case(
        "crf_nll_loss",
        _crf_make(with_ends=True, with_mask=True),
        ref_crf_nll,
        label="mask",
        grad_args=(0, 2),
        per_example=False,  # the mask is a keyword: the permutation test would not permute it
    )
)
add(
    Case(
        "crf_decode",
        _crf_make(with_ends=True, decode=True),
        ref_crf_decode,
        batch_args=(0,),
        reductions=False,
        differentiable=False,
        extra={"output_dtype": torch.int64},
    )
)
add(
    Case(
        "crf_decode",
        _crf_make(with_ends=True, with_mask=True, decode=True),
        ref_crf_decode,
        label="mask",
        batch_args=(0,),
        reductions=False,
        nonnegative=False,  # -1 off the mask
        differentiable=False,
        extra={"output_dtype": torch.int64},
    )
)

# ------------------------------------------------------- cross_entropy(ignore_index=...)

# The contract's reduction test requires "mean" == "none".mean(), which an ignored position
# breaks by design (it is 0 in "none" and not counted in "mean"). So the contract runs the
# ignore_index code path with torch's idiom -100 and no target equal to it; the ignored
# positions themselves are tested in tests/test_sequence.py.


def _tokens_make(g, dt, s):
    logits = randn(g, 3, 4, 5, dtype=dt, scale=s)  # [N, C, L]: 3 sequences of 5 tokens, 4 classes
    kwargs = {"ignore_index": -100, "label_smoothing": 0.1, "weight": randn(g, 4, dtype=dt).abs() + 0.5}
    return (logits, randint(g, 4, 3, 5)), kwargs


def ref_cross_entropy_ignoring(z, target, *, ignore_index, weight=None, label_smoothing=0.0):
    kept = target != ignore_index
    return ref_cross_entropy(z, target.where(kept, 0), weight=weight, label_smoothing=label_smoothing) * kept


add(Case("cross_entropy", _tokens_make, ref_cross_entropy_ignoring, label="ignore_index"))
