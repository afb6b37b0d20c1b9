"""Benchmark specs of the sequence family (issue 13), to be merged into ``specs.SPECS``.

References: ``F.cross_entropy(ignore_index=-100)`` for token cross-entropy with padding,
``F.ctc_loss(reduction="none").mean()`` (the same value as losslib's ``"mean"``) and
pytorch-crf's ``CRF`` (the negative log-likelihood and ``decode``) with the same parameters.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from specs import Spec

PAD = -100


def _padded_tokens(n, g, vocab=32):
    """Logits of n // vocab token positions; a quarter of the targets are padding."""
    rows = max(4, n // vocab)
    target = torch.randint(0, vocab, (rows,), generator=g)
    target[torch.rand(rows, generator=g) < 0.25] = PAD
    target[0] = 0  # never all padding
    return (torch.randn(rows, vocab, generator=g), target), {"ignore_index": PAD}


def _ctc_batch(n, g, frames=50, classes=20, labels=10):
    """[T = 50, N, C = 20] log-probabilities, targets of 5 to 10 labels, 40 to 50 frames."""
    batch = max(1, n // (frames * classes))
    log_probs = torch.randn(frames, batch, classes, generator=g).log_softmax(2)
    targets = torch.randint(1, classes, (batch, labels), generator=g)
    input_lengths = torch.randint(40, frames + 1, (batch,), generator=g)
    target_lengths = torch.randint(5, labels + 1, (batch,), generator=g)
    return (log_probs, targets, input_lengths, target_lengths), {}


def _ctc_torch(log_probs, targets, input_lengths, target_lengths):
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, reduction="none").mean()


def _crf_batch(n, g, steps=50, tags=20):
    """[B, T = 50, K = 20] emissions (B = 32 at n = 32 000), lengths 25 to 50."""
    batch = max(2, n // (steps * tags))
    emissions = torch.randn(batch, steps, tags, generator=g)
    gold = torch.randint(0, tags, (batch, steps), generator=g)
    transitions = torch.randn(tags, tags, generator=g) * 0.1
    lengths = torch.randint(steps // 2, steps + 1, (batch,), generator=g)
    lengths[0] = steps
    mask = torch.arange(steps)[None, :] < lengths[:, None]
    start, end = torch.randn(tags, generator=g) * 0.1, torch.randn(tags, generator=g) * 0.1
    kwargs = {"start_transitions": start, "end_transitions": end, "mask": mask}
    return (emissions, gold, transitions), kwargs


def _pytorch_crf(num_tags, transitions, start, end):
    from torchcrf import CRF

    crf = CRF(num_tags, batch_first=True)
    with torch.no_grad():
        crf.transitions.copy_(transitions)
        crf.start_transitions.copy_(start)
        crf.end_transitions.copy_(end)
    return crf


_CRFS: dict = {}


def _crf_module(transitions, start, end):
    """One pytorch-crf module per parameter set (built once, outside the timed calls)."""
    key = (id(transitions), id(start), id(end))
    if key not in _CRFS:
        _CRFS[key] = _pytorch_crf(transitions.shape[0], transitions.detach(), start, end)
    return _CRFS[key]


def _crf_torchcrf(emissions, tags, transitions, *, start_transitions, end_transitions, mask):
    crf = _crf_module(transitions, start_transitions, end_transitions)
    return -crf(emissions, tags, mask, reduction="mean")


def _decode_batch(n, g):
    (emissions, _, transitions), kwargs = _crf_batch(n, g)
    return (emissions, transitions), kwargs


def _decode_torchcrf(emissions, transitions, *, start_transitions, end_transitions, mask):
    crf = _crf_module(transitions, start_transitions, end_transitions)
    with torch.no_grad():
        paths = crf.decode(emissions, mask)
    out = torch.full(emissions.shape[:2], -1, dtype=torch.int64)
    for row, path in enumerate(paths):
        out[row, : len(path)] = torch.tensor(path)
    return out


SPECS = {
    "ctc_loss": Spec(_ctc_batch, _ctc_torch, "torch built-in"),
    "crf_nll_loss": Spec(_crf_batch, _crf_torchcrf, "third-party", (0, 2)),
    "crf_decode": Spec(_decode_batch, _decode_torchcrf, "third-party", ()),
}

# cross_entropy keeps its spec in specs.py; this one times the ignore_index path.
IGNORE_INDEX_SPEC = Spec(
    _padded_tokens, lambda z, y, ignore_index: F.cross_entropy(z, y, ignore_index=ignore_index), "torch built-in"
)
