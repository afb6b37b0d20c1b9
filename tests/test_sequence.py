"""Sequence losses (issue 13): the libraries' conventions, brute force and the hard cases.

- ``cross_entropy(ignore_index=...)`` against ``F.cross_entropy(ignore_index=...)`` over a grid
  of ignore indices (inside and outside ``[0, C)``), label smoothing, class weights, shapes and
  reductions; losslib's ``"mean"`` is the mean over the counted positions (torch's weighted
  mean divides by the counted weights instead: the conversion is tested); an all-ignored
  batch raises;
- ``ctc_loss`` against ``F.ctc_loss(reduction="none")``, against a brute-force enumeration of
  every alignment (T <= 5, C <= 3) written here, with torch's ``"mean"`` as a conversion; the
  gradient is the true gradient with respect to ``log_probs`` (torch's is not); impossible
  targets (inf, or 0 with ``zero_infinity``), repeats that need a blank, variable lengths,
  float32 logits of 1e4;
- ``crf_nll_loss`` / ``crf_decode`` against pytorch-crf (``torchcrf.CRF``) with the same
  parameters, and against a brute-force enumeration of all K^T tag sequences (T <= 5, K <= 3)
  for log Z and for Viterbi; masks;
- every documented error, and hypothesis properties.
"""

from __future__ import annotations

import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torchcrf import CRF

import losslib

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
PROPERTY = settings(max_examples=20, deadline=None, derandomize=True)
D64 = torch.float64
# pytorch-crf builds a uint8 mask when none is given; torch warns about it
pytestmark = pytest.mark.filterwarnings("ignore:where received a uint8 condition:UserWarning")


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


# ============================================================ cross_entropy(ignore_index)


def tokens(seed=0, n=4, c=5, length=6, p_pad=0.3, pad=-100, dtype=D64):
    g = gen(seed)
    logits = torch.randn(n, c, length, generator=g, dtype=dtype)
    target = torch.randint(0, c, (n, length), generator=g)
    target[torch.rand(n, length, generator=g) < p_pad] = pad
    target[0, 0] = 1 if pad != 1 else 2  # at least one counted position
    return logits, target


@pytest.mark.parametrize("ignore_index", [-100, 0, 2, 7])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1, 0.5])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("flat", [False, True])
def test_cross_entropy_ignore_index_matches_torch(ignore_index, label_smoothing, weighted, flat):
    logits, target = tokens(seed=ignore_index + 200, pad=ignore_index)
    if flat:  # [N * L, C] rows, as a language model's logits are often reshaped
        logits, target = logits.transpose(1, 2).reshape(-1, logits.shape[1]), target.reshape(-1)
    weight = torch.rand(5, generator=gen(3), dtype=D64) + 0.5 if weighted else None
    kw = {"weight": weight, "label_smoothing": label_smoothing, "ignore_index": ignore_index}
    none = losslib.cross_entropy(logits, target, reduction="none", **kw)
    torch.testing.assert_close(none, F.cross_entropy(logits, target, reduction="none", **kw))
    torch.testing.assert_close(
        losslib.cross_entropy(logits, target, reduction="sum", **kw),
        F.cross_entropy(logits, target, reduction="sum", **kw),
    )
    kept = target != ignore_index
    assert (none[~kept] == 0).all()
    mean = losslib.cross_entropy(logits, target, **kw)
    torch.testing.assert_close(mean, none.sum() / kept.sum())  # the mean over the counted positions
    torch_mean = F.cross_entropy(logits, target, reduction="mean", **kw)
    if weight is None:
        torch.testing.assert_close(mean, torch_mean)
    else:  # torch divides by the counted weights: the conversion of the docstring
        torch.testing.assert_close(none.sum() / weight[target[kept]].sum(), torch_mean)


def test_cross_entropy_ignore_index_is_dropping_the_positions():
    logits, target = tokens(seed=4)
    flat_logits, flat_target = logits.transpose(1, 2).reshape(-1, 5), target.reshape(-1)
    kept = flat_target != -100
    w = torch.tensor([1.0, 2.0, 0.5, 1.5, 1.0], dtype=D64)
    for kw in ({}, {"weight": w, "label_smoothing": 0.2}):
        got = losslib.cross_entropy(logits, target, ignore_index=-100, **kw)
        want = losslib.cross_entropy(flat_logits[kept], flat_target[kept], **kw)
        torch.testing.assert_close(got, want)


def test_cross_entropy_ignore_index_without_ignored_targets_is_the_plain_loss():
    logits, target = tokens(seed=5, p_pad=0.0)
    w = torch.rand(5, generator=gen(1), dtype=D64) + 0.5
    for reduction in ("none", "sum", "mean"):
        torch.testing.assert_close(
            losslib.cross_entropy(logits, target, weight=w, ignore_index=-100, reduction=reduction),
            losslib.cross_entropy(logits, target, weight=w, reduction=reduction),
        )


def test_cross_entropy_ignored_positions_get_no_gradient():
    logits, target = tokens(seed=6)
    logits.requires_grad_(True)
    losslib.cross_entropy(logits, target, ignore_index=-100, label_smoothing=0.1).backward()
    ignored = (target == -100).unsqueeze(1).expand_as(logits)
    assert (logits.grad[ignored] == 0).all()
    assert (logits.grad[~ignored] != 0).any()


def test_cross_entropy_all_ignored_raises_for_mean_and_is_zero_otherwise():
    logits = torch.randn(3, 4, dtype=D64)
    target = torch.full((3,), -100)
    with pytest.raises(ValueError, match="ignore_index=-100"):
        losslib.cross_entropy(logits, target, ignore_index=-100)
    assert losslib.cross_entropy(logits, target, ignore_index=-100, reduction="sum") == 0
    assert (losslib.cross_entropy(logits, target, ignore_index=-100, reduction="none") == 0).all()
    assert torch.isnan(F.cross_entropy(logits, target))  # what torch does instead


def test_cross_entropy_ignore_index_errors():
    logits = torch.randn(3, 4)
    with pytest.raises(ValueError, match=r"class indices in \[0, 4\)"):
        losslib.cross_entropy(logits, torch.tensor([0, 4, -100]), ignore_index=-100)
    with pytest.raises(ValueError, match=r"class indices in \[0, 4\)"):
        losslib.cross_entropy(logits, torch.tensor([0, -1, -100]), ignore_index=-100)
    with pytest.raises(ValueError, match="class-index targets only"):
        losslib.cross_entropy(logits, torch.softmax(logits, 1), ignore_index=-100)
    with pytest.raises(TypeError, match="ignore_index must be an int"):
        losslib.cross_entropy(logits, torch.tensor([0, 1, 2]), ignore_index=True)
    with pytest.raises(TypeError, match="ignore_index must be an int"):
        losslib.cross_entropy(logits, torch.tensor([0, 1, 2]), ignore_index=-100.0)
    with pytest.raises(ValueError, match="shape"):
        losslib.cross_entropy(logits, torch.tensor([0, 1]), ignore_index=-100)
    with pytest.raises(TypeError, match="dtype"):
        losslib.cross_entropy(logits, torch.tensor([True, False, True]), ignore_index=0)


def test_cross_entropy_ignore_index_value_checks_can_be_switched_off():
    logits = torch.randn(3, 4)
    with losslib.value_checks(False):
        losslib.cross_entropy(logits, torch.tensor([0, 1, -100]), ignore_index=-100)


@PROPERTY
@given(seed=SEEDS, smoothing=st.floats(0.0, 1.0))
def test_cross_entropy_ignore_index_property_mean_between_extremes(seed, smoothing):
    logits, target = tokens(seed=seed % 1000)
    none = losslib.cross_entropy(logits, target, ignore_index=-100, label_smoothing=smoothing, reduction="none")
    mean = losslib.cross_entropy(logits, target, ignore_index=-100, label_smoothing=smoothing)
    kept = none[target != -100]
    assert kept.min() - 1e-12 <= mean <= kept.max() + 1e-12


# ================================================================================ CTC


def collapse(path, blank):
    """CTC's B: merge repeats (groupby), drop blanks."""
    return tuple(k for k, _ in itertools.groupby(path) if k != blank)


def brute_force_ctc(log_probs, target, frames, blank=0):
    """-log sum over every path of `frames` symbols that collapses to `target` (float64)."""
    total = 0.0
    for path in itertools.product(range(log_probs.shape[-1]), repeat=frames):
        if collapse(path, blank) == tuple(target):
            total += math.exp(sum(float(log_probs[t, k]) for t, k in enumerate(path)))
    return -math.log(total) if total > 0 else math.inf


def ctc_batch(seed=0, t=5, n=6, c=3, s=3, blank=0, dtype=D64, scale=1.0):
    g = gen(seed)
    log_probs = (torch.randn(t, n, c, generator=g, dtype=D64) * scale).log_softmax(2).to(dtype)
    labels = torch.tensor([k for k in range(c) if k != blank])
    targets = labels[torch.randint(0, c - 1, (n, s), generator=g)]
    target_lengths = torch.randint(0, s + 1, (n,), generator=g)
    input_lengths = torch.randint(max(1, t - 2), t + 1, (n,), generator=g)
    return log_probs, targets, input_lengths, target_lengths


@pytest.mark.parametrize("blank", [0, 2])
@pytest.mark.parametrize("seed", range(4))
def test_ctc_matches_brute_force_enumeration(seed, blank):
    lp, targets, il, tl = ctc_batch(seed, blank=blank)
    got = losslib.ctc_loss(lp, targets, il, tl, blank=blank, reduction="none")
    want = torch.tensor(
        [brute_force_ctc(lp[:, n], targets[n, : tl[n]].tolist(), int(il[n]), blank) for n in range(lp.shape[1])],
        dtype=D64,
    )
    torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("dtype", [torch.float32, D64])
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_matches_torch_and_converts_its_mean(dtype, zero_infinity):
    lp, targets, il, tl = ctc_batch(1, t=30, n=8, c=6, s=8, dtype=dtype)
    kw = {"zero_infinity": zero_infinity}
    none = losslib.ctc_loss(lp, targets, il, tl, reduction="none", **kw)
    torch.testing.assert_close(none, F.ctc_loss(lp, targets, il, tl, reduction="none", **kw))
    torch.testing.assert_close(losslib.ctc_loss(lp, targets, il, tl, **kw), none.mean())
    torch.testing.assert_close(losslib.ctc_loss(lp, targets, il, tl, reduction="sum", **kw), none.sum())
    torch_mean = F.ctc_loss(lp, targets, il, tl, reduction="mean", **kw)
    torch.testing.assert_close((none / tl.clamp(min=1)).mean(), torch_mean)  # the documented conversion


def test_ctc_concatenated_targets_equal_padded_targets():
    lp, targets, il, tl = ctc_batch(2, t=12, n=5, c=4, s=4)
    flat = torch.cat([targets[n, : tl[n]] for n in range(5)])
    torch.testing.assert_close(
        losslib.ctc_loss(lp, flat, il, tl, reduction="none"), losslib.ctc_loss(lp, targets, il, tl, reduction="none")
    )


def test_ctc_padding_beyond_the_target_length_is_not_read():
    lp, targets, il, tl = ctc_batch(3, t=8, n=4, c=4, s=4)
    padded = targets.clone()
    positions = torch.arange(4)[None, :] >= tl[:, None]
    padded[positions] = -1
    torch.testing.assert_close(losslib.ctc_loss(lp, padded, il, tl), losslib.ctc_loss(lp, targets, il, tl))


def test_ctc_impossible_target_is_inf_or_zero_with_no_gradient():
    lp = torch.randn(2, 1, 3, dtype=D64).log_softmax(2).requires_grad_(True)
    target, il, tl = torch.tensor([[1, 2, 1]]), torch.tensor([2]), torch.tensor([3])  # 3 labels, 2 frames
    assert losslib.ctc_loss(lp, target, il, tl, reduction="none").item() == math.inf
    loss = losslib.ctc_loss(lp, target, il, tl, zero_infinity=True)
    assert loss.item() == 0
    (grad,) = torch.autograd.grad(loss, lp)
    assert (grad == 0).all()


def test_ctc_repeated_labels_need_a_blank_between_them():
    lp = torch.randn(3, 1, 3, dtype=D64).log_softmax(2)
    repeat, one = torch.tensor([[1, 1]]), torch.tensor([1])
    two = torch.tensor([2])
    assert losslib.ctc_loss(lp[:2], repeat, one * 2, two, reduction="none").item() == math.inf  # "1 1" in 2 frames
    got = losslib.ctc_loss(lp, repeat, one * 3, two, reduction="none").item()
    assert got == pytest.approx(-(lp[0, 0, 1] + lp[1, 0, 0] + lp[2, 0, 1]).item())  # the one path: 1, blank, 1
    distinct = losslib.ctc_loss(lp[:2], torch.tensor([[1, 2]]), one * 2, two, reduction="none").item()
    assert distinct == pytest.approx(-(lp[0, 0, 1] + lp[1, 0, 2]).item())  # "1 2" needs no blank


def test_ctc_variable_lengths_ignore_frames_beyond_the_input_length():
    lp, targets, il, tl = ctc_batch(4, t=10, n=4, c=4, s=3)
    il = torch.tensor([10, 7, 5, 9])
    noisy = lp.clone()
    for n in range(4):
        noisy[il[n] :, n] = torch.randn(10 - il[n], 4, dtype=D64).log_softmax(1)
    torch.testing.assert_close(
        losslib.ctc_loss(noisy, targets, il, tl, reduction="none"),
        losslib.ctc_loss(lp, targets, il, tl, reduction="none"),
    )


def test_ctc_gradient_is_the_gradient_with_respect_to_log_probs():
    lp, targets, il, tl = ctc_batch(5, t=5, n=3, c=3, s=2)
    tl = tl.clamp(min=1)
    raw = (lp + torch.randn(lp.shape, generator=gen(9), dtype=D64)).requires_grad_(True)  # not normalised
    assert torch.autograd.gradcheck(lambda x: losslib.ctc_loss(x, targets, il, tl, reduction="none"), (raw,))
    # torch's own backward is the gradient through a log_softmax: it fails this check...
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        torch.autograd.gradcheck(lambda x: F.ctc_loss(x, targets, il, tl, reduction="none"), (raw,))
    # ...but through a log_softmax both give the logits the same gradient
    logits = torch.randn(lp.shape, generator=gen(10), dtype=D64, requires_grad=True)
    (ours,) = torch.autograd.grad(losslib.ctc_loss(logits.log_softmax(2), targets, il, tl), logits)
    (theirs,) = torch.autograd.grad(F.ctc_loss(logits.log_softmax(2), targets, il, tl, reduction="none").mean(), logits)
    torch.testing.assert_close(ours, theirs)


def test_ctc_float32_logits_of_1e4_are_finite():
    logits = (torch.randn(20, 4, 5, generator=gen(6)) * 1e4).requires_grad_(True)
    targets = torch.randint(1, 5, (4, 6), generator=gen(7))
    il, tl = torch.full((4,), 20), torch.tensor([6, 3, 1, 5])
    loss = losslib.ctc_loss(logits.log_softmax(2), targets, il, tl, reduction="sum")
    (grad,) = torch.autograd.grad(loss, logits)
    assert torch.isfinite(loss) and torch.isfinite(grad).all()
    want = losslib.ctc_loss(logits.detach().double().log_softmax(2), targets, il, tl, reduction="sum")
    torch.testing.assert_close(loss.double(), want, rtol=1e-5, atol=1e-2)


def test_ctc_bfloat16_is_computed_in_float32():
    lp, targets, il, tl = ctc_batch(8, t=12, n=4, c=4, s=4, dtype=torch.float32)
    out = losslib.ctc_loss(lp.bfloat16(), targets, il, tl, reduction="none")
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(
        out.float(), losslib.ctc_loss(lp, targets, il, tl, reduction="none"), rtol=0.02, atol=0.05
    )


@PROPERTY
@given(seed=SEEDS)
def test_ctc_property_permuting_the_batch_dim_permutes_the_losses(seed):
    lp, targets, il, tl = ctc_batch(seed % 10_000, t=8, n=5, c=4, s=3)
    perm = torch.randperm(5, generator=gen(seed % 10_000))
    out = losslib.ctc_loss(lp, targets, il, tl, reduction="none")
    torch.testing.assert_close(
        losslib.ctc_loss(lp[:, perm], targets[perm], il[perm], tl[perm], reduction="none"), out[perm]
    )


@PROPERTY
@given(seed=SEEDS)
def test_ctc_property_probabilities_of_all_targets_sum_to_one(seed):
    """Every path collapses to exactly one label sequence: sum_l p(l | x) = 1 over T = 3, C = 3."""
    g = gen(seed % 10_000)
    lp = torch.randn(3, 1, 3, generator=g, dtype=D64).log_softmax(2)
    total = 0.0
    for length in range(4):
        for label in itertools.product((1, 2), repeat=length):
            loss = losslib.ctc_loss(
                lp, torch.tensor([list(label) + [1] * (3 - length)]), torch.tensor([3]), torch.tensor([length])
            )
            total += math.exp(-loss.item())
    assert total == pytest.approx(1.0, abs=1e-10)


def test_ctc_errors():
    lp, targets, il, tl = ctc_batch(0, t=5, n=3, c=3, s=2)
    with pytest.raises(ValueError, match=r"log_probs must have shape \[T, N, C\]"):
        losslib.ctc_loss(lp[0], targets, il, tl)
    with pytest.raises(TypeError, match="log_probs must be a floating-point tensor"):
        losslib.ctc_loss(lp.long(), targets, il, tl)
    with pytest.raises(TypeError, match="targets must hold integer"):
        losslib.ctc_loss(lp, targets.double(), il, tl)
    with pytest.raises(TypeError, match="input_lengths must be an integer tensor"):
        losslib.ctc_loss(lp, targets, il.double(), tl)
    with pytest.raises(ValueError, match=r"input_lengths must have shape \[N\]"):
        losslib.ctc_loss(lp, targets, il[:2], tl)
    with pytest.raises(ValueError, match=r"input_lengths must hold lengths in \[0, 5\]"):
        losslib.ctc_loss(lp, targets, il + 5, tl)
    with pytest.raises(ValueError, match=r"target_lengths must hold lengths in \[0, 2\]"):
        losslib.ctc_loss(lp, targets, il, tl + 2)
    with pytest.raises(ValueError, match="must not contain 0"):
        losslib.ctc_loss(lp, torch.zeros_like(targets), il, tl.clamp(min=1))
    with pytest.raises(ValueError, match=r"class indices in \[0, 3\)"):
        losslib.ctc_loss(lp, targets + 5, il, tl.clamp(min=1))
    with pytest.raises(ValueError, match=r"blank must lie in \[0, 2\]"):
        losslib.ctc_loss(lp, targets, il, tl, blank=3)
    with pytest.raises(TypeError, match="blank must be an int"):
        losslib.ctc_loss(lp, targets, il, tl, blank=0.0)
    with pytest.raises(TypeError, match="zero_infinity must be a bool"):
        losslib.ctc_loss(lp, targets, il, tl, zero_infinity=1)
    with pytest.raises(ValueError, match=r"sum\(target_lengths\)"):
        losslib.ctc_loss(lp, torch.tensor([1, 2]), il, torch.tensor([1, 1, 1]))
    with pytest.raises(ValueError, match=r"targets must have shape \[N, S\]"):
        losslib.ctc_loss(lp, targets[:2], il, tl)
    with pytest.raises(ValueError, match="reduction"):
        losslib.ctc_loss(lp, targets, il, tl, reduction="batchmean")


# ================================================================================ CRF


def crf_problem(seed=0, b=5, t=5, k=3, lengths=None, dtype=D64):
    g = gen(seed)
    emissions = torch.randn(b, t, k, generator=g, dtype=dtype)
    tags = torch.randint(0, k, (b, t), generator=g)
    params = [torch.randn(*shape, generator=g, dtype=dtype) for shape in ((k, k), (k,), (k,))]
    mask = None if lengths is None else torch.arange(t)[None, :] < torch.tensor(lengths)[:, None]
    return emissions, tags, *params, mask


def pytorch_crf(transitions, start, end):
    crf = CRF(transitions.shape[0], batch_first=True).to(transitions.dtype)
    with torch.no_grad():
        crf.transitions.copy_(transitions)
        crf.start_transitions.copy_(start)
        crf.end_transitions.copy_(end)
    return crf


def path_score(e, transitions, start, end, path):
    score = start[path[0]] + end[path[-1]] + sum(e[t, k] for t, k in enumerate(path))
    return float(score + sum(transitions[i, j] for i, j in zip(path, path[1:], strict=False)))


@pytest.mark.parametrize("lengths", [None, [5, 3, 1, 4, 5]])
@pytest.mark.parametrize("dtype", [torch.float32, D64])
def test_crf_nll_matches_pytorch_crf(lengths, dtype):
    e, tags, transitions, start, end, mask = crf_problem(1, lengths=lengths, dtype=dtype)
    crf = pytorch_crf(transitions, start, end)
    kw = {"start_transitions": start, "end_transitions": end, "mask": mask}
    got = losslib.crf_nll_loss(e, tags, transitions, reduction="none", **kw)
    torch.testing.assert_close(got, -crf(e, tags, mask, reduction="none"))
    torch.testing.assert_close(losslib.crf_nll_loss(e, tags, transitions, **kw), -crf(e, tags, mask, reduction="mean"))
    torch.testing.assert_close(losslib.crf_nll_loss(e, tags, transitions, reduction="sum", **kw), -crf(e, tags, mask))


@pytest.mark.parametrize("lengths", [None, [5, 3, 1, 4, 2]])
def test_crf_gradients_match_pytorch_crf(lengths):
    e, tags, transitions, start, end, mask = crf_problem(2, lengths=lengths)
    crf = pytorch_crf(transitions, start, end)
    ours = [x.clone().requires_grad_(True) for x in (e, transitions, start, end)]
    loss = losslib.crf_nll_loss(ours[0], tags, ours[1], start_transitions=ours[2], end_transitions=ours[3], mask=mask)
    loss.backward()
    theirs_e = e.clone().requires_grad_(True)
    (-crf(theirs_e, tags, mask, reduction="mean")).backward()
    for mine, want in zip(ours, (theirs_e, crf.transitions, crf.start_transitions, crf.end_transitions), strict=True):
        torch.testing.assert_close(mine.grad, want.grad)


@pytest.mark.parametrize("t, k", [(1, 3), (3, 2), (4, 3), (5, 3)])
def test_crf_log_partition_and_viterbi_match_brute_force(t, k):
    e, tags, transitions, start, end, _ = crf_problem(3 + t, b=3, t=t, k=k)
    for row in range(3):
        scores = {p: path_score(e[row], transitions, start, end, p) for p in itertools.product(range(k), repeat=t)}
        log_z = math.log(sum(math.exp(s) for s in scores.values()))
        gold = tuple(tags[row].tolist())
        got = losslib.crf_nll_loss(
            e[row : row + 1], tags[row : row + 1], transitions, start_transitions=start, end_transitions=end
        )
        assert got.item() == pytest.approx(log_z - scores[gold], abs=1e-10)
        best = losslib.crf_decode(e[row : row + 1], transitions, start_transitions=start, end_transitions=end)
        assert tuple(best[0].tolist()) == max(scores, key=scores.get)


def test_crf_masked_rows_equal_the_truncated_sequences():
    lengths = [5, 3, 1, 4, 2]
    e, tags, transitions, start, end, mask = crf_problem(4, lengths=lengths)
    kw = {"start_transitions": start, "end_transitions": end}
    padded_tags = tags.masked_fill(~mask, -1)
    full = losslib.crf_nll_loss(e, padded_tags, transitions, mask=mask, reduction="none", **kw)
    decoded = losslib.crf_decode(e, transitions, mask=mask, **kw)
    for row, length in enumerate(lengths):
        alone = losslib.crf_nll_loss(e[row : row + 1, :length], tags[row : row + 1, :length], transitions, **kw)
        torch.testing.assert_close(full[row], alone[0] if alone.dim() else alone)
        best = losslib.crf_decode(e[row : row + 1, :length], transitions, **kw)
        assert decoded[row, :length].tolist() == best[0].tolist()
        assert (decoded[row, length:] == -1).all()


@pytest.mark.parametrize("lengths", [None, [5, 3, 1, 4, 5]])
def test_crf_decode_matches_pytorch_crf(lengths):
    e, _, transitions, start, end, mask = crf_problem(5, b=5, t=5, k=4, lengths=lengths)
    e = torch.randn(5, 5, 4, generator=gen(11), dtype=D64)
    crf = pytorch_crf(transitions, start, end)
    got = losslib.crf_decode(e, transitions, start_transitions=start, end_transitions=end, mask=mask)
    assert got.dtype == torch.int64
    want = crf.decode(e, mask)
    for row, path in enumerate(want):
        assert got[row, : len(path)].tolist() == path
        assert (got[row, len(path) :] == -1).all()


def test_crf_without_start_and_end_is_zero_start_and_end():
    e, tags, transitions, *_ = crf_problem(6)
    zeros = torch.zeros(3, dtype=D64)
    torch.testing.assert_close(
        losslib.crf_nll_loss(e, tags, transitions),
        losslib.crf_nll_loss(e, tags, transitions, start_transitions=zeros, end_transitions=zeros),
    )
    assert torch.equal(losslib.crf_decode(e, transitions), losslib.crf_decode(e, transitions, start_transitions=zeros))


def test_crf_decode_carries_no_gradient():
    e, _, transitions, *_ = crf_problem(7)
    out = losslib.crf_decode(e.requires_grad_(True), transitions.requires_grad_(True))
    assert not out.requires_grad and out.dtype == torch.int64


def test_crf_float32_emissions_of_1e4_are_finite():
    e, tags, transitions, start, end, mask = crf_problem(8, lengths=[5, 2, 3, 1, 4], dtype=torch.float32)
    e = (e * 1e4).requires_grad_(True)
    transitions = (transitions * 1e4).requires_grad_(True)
    loss = losslib.crf_nll_loss(e, tags, transitions, start_transitions=start, end_transitions=end, mask=mask)
    grads = torch.autograd.grad(loss, (e, transitions))
    assert torch.isfinite(loss) and all(torch.isfinite(g).all() for g in grads)
    assert (losslib.crf_decode(e, transitions, mask=mask)[mask] >= 0).all()


def test_crf_bfloat16_is_computed_in_float32():
    e, tags, transitions, start, end, _ = crf_problem(9, dtype=torch.float32)
    out = losslib.crf_nll_loss(e.bfloat16(), tags, transitions.bfloat16(), reduction="none")
    assert out.dtype == torch.bfloat16
    want = losslib.crf_nll_loss(e.bfloat16().float(), tags, transitions.bfloat16().float(), reduction="none")
    torch.testing.assert_close(out.float(), want, rtol=0.01, atol=0.02)


@PROPERTY
@given(seed=SEEDS)
def test_crf_property_probabilities_of_all_tag_sequences_sum_to_one(seed):
    e, _, transitions, start, end, _ = crf_problem(seed % 10_000, b=1, t=3, k=3)
    paths = torch.tensor(list(itertools.product(range(3), repeat=3)))
    nll = losslib.crf_nll_loss(
        e.expand(len(paths), -1, -1), paths, transitions, start_transitions=start, end_transitions=end, reduction="none"
    )
    assert torch.exp(-nll).sum().item() == pytest.approx(1.0, abs=1e-10)
    assert (nll >= 0).all()
    best = losslib.crf_decode(e, transitions, start_transitions=start, end_transitions=end)
    assert torch.equal(paths[nll.argmin()], best[0])  # Viterbi = the most probable sequence


@PROPERTY
@given(seed=SEEDS)
def test_crf_property_permuting_the_batch_with_its_mask(seed):
    e, tags, transitions, start, end, mask = crf_problem(seed % 10_000, lengths=[5, 3, 1, 4, 2])
    perm = torch.randperm(5, generator=gen(seed % 10_000))
    kw = {"start_transitions": start, "end_transitions": end}
    out = losslib.crf_nll_loss(e, tags, transitions, mask=mask, reduction="none", **kw)
    torch.testing.assert_close(
        losslib.crf_nll_loss(e[perm], tags[perm], transitions, mask=mask[perm], reduction="none", **kw), out[perm]
    )
    decoded = losslib.crf_decode(e, transitions, mask=mask, **kw)
    assert torch.equal(losslib.crf_decode(e[perm], transitions, mask=mask[perm], **kw), decoded[perm])


def test_crf_errors():
    e, tags, transitions, start, end, mask = crf_problem(0, lengths=[5, 3, 1, 4, 2])
    with pytest.raises(ValueError, match=r"emissions must have shape \[B, T, K\]"):
        losslib.crf_nll_loss(e[0], tags, transitions)
    with pytest.raises(TypeError, match="emissions must be a floating-point tensor"):
        losslib.crf_decode(e.long(), transitions)
    with pytest.raises(ValueError, match=r"transitions must have shape \[K, K\]"):
        losslib.crf_nll_loss(e, tags, transitions[:2])
    with pytest.raises(ValueError, match=r"start_transitions must have shape \[K\]"):
        losslib.crf_decode(e, transitions, start_transitions=start[:2])
    with pytest.raises(TypeError, match="end_transitions must be a floating-point tensor"):
        losslib.crf_nll_loss(e, tags, transitions, end_transitions=end.long())
    with pytest.raises(ValueError, match=r"tags must have shape \[B, T\]"):
        losslib.crf_nll_loss(e, tags[:, :3], transitions)
    with pytest.raises(TypeError, match="tags must hold integer"):
        losslib.crf_nll_loss(e, tags.double(), transitions)
    with pytest.raises(ValueError, match=r"tags must hold class indices in \[0, 3\)"):
        losslib.crf_nll_loss(e, tags + 3, transitions)
    with pytest.raises(TypeError, match="mask must be a bool tensor"):
        losslib.crf_nll_loss(e, tags, transitions, mask=mask.long())
    with pytest.raises(ValueError, match=r"mask must have shape \[B, T\]"):
        losslib.crf_decode(e, transitions, mask=mask[:, :3])
    with pytest.raises(ValueError, match="first step"):
        losslib.crf_nll_loss(e, tags, transitions, mask=~mask)
    gap = mask.clone()
    gap[0, 2] = False
    with pytest.raises(ValueError, match="left-aligned"):
        losslib.crf_decode(e, transitions, mask=gap)
    with pytest.raises(ValueError, match="empty"):
        losslib.crf_decode(e[:0], transitions)
    with pytest.raises(ValueError, match="reduction"):
        losslib.crf_nll_loss(e, tags, transitions, reduction="token_mean")
    # padding off the mask is never read, so it is not checked either
    losslib.crf_nll_loss(e, tags.masked_fill(~mask, -1), transitions, mask=mask)
