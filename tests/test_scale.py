"""Losses at scale (issue 10): ``chunk_size`` gives the dense path's values and gradients for
every listed loss (float64 1e-10, float32 1e-5; uneven last block, a block larger than the
batch, ``where`` masks), passes ``gradcheck``, stays finite at extreme inputs, rejects bad
options, and bounds memory (a fresh process each). ``gather`` across real processes is in
tests/test_distributed.py."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import torch
from distributed_worker import NAMES as GATHERED
from hypothesis import given, settings
from hypothesis import strategies as st

import losslib

B, D, N = 11, 5, 13  # batch, width, items per list


def _in_batch(name: str, g: torch.Generator, dtype: torch.dtype, b: int = B, scale: float = 1.0):
    """(function, differentiable args, other args, keywords) of one in-batch loss."""
    x = torch.randn(b, D, generator=g, dtype=torch.float64).to(dtype) * scale
    y = torch.randn(b, D, generator=g, dtype=torch.float64).to(dtype) * scale
    fn = getattr(losslib, name)
    if name == "supervised_contrastive_loss":
        labels = torch.randint(0, 3, (b,), generator=g)
        labels[0] = 7  # an anchor without a positive
        return fn, [x], [labels], {"temperature": 0.3}
    if name == "multiple_negatives_ranking_loss":
        hard = torch.randn(2 * b, D, generator=g, dtype=torch.float64).to(dtype)
        return fn, [x, y], [], {"hard_negatives": hard, "scale": 7.0}
    keywords = {"siglip_loss": {"scale": 4.0, "bias": -2.0}, "n_pair_loss": {}}.get(name, {"temperature": 0.3})
    return fn, [x, y], [], keywords


def _pairwise(name: str, g: torch.Generator, dtype: torch.dtype, masked: bool, n: int = N, scale: float = 2.0):
    shape = (3, n)
    scores = (torch.randn(shape, generator=g, dtype=torch.float64) * scale).to(dtype)
    where = torch.rand(shape, generator=g) > 0.3 if masked else None
    if name == "soft_pairwise_loss":
        target = torch.randint(0, 2, shape, generator=g) * 2 - 1
    else:
        target = torch.randint(0, 4, shape, generator=g)
        target[1] = 2  # a list without a preference: 0 and left out of the mean
    keywords = {"where": where, **{"pairwise_hinge_loss": {"margin": 0.5}, "lambda_rank_loss": {"k": 5}}.get(name, {})}
    return getattr(losslib, name), [scores], [target], keywords


IN_BATCH = (*GATHERED, "n_pair_loss")  # the losses with gather=True, and N-pair
PAIRWISE = ("pairwise_logistic_loss", "pairwise_hinge_loss", "soft_pairwise_loss", "lambda_rank_loss")
CASES = [(name, False) for name in IN_BATCH] + [(name, masked) for name in PAIRWISE for masked in (False, True)]
IDS = [f"{name}{'-where' if masked else ''}" for name, masked in CASES]


def make(name: str, masked: bool, dtype: torch.dtype, seed: int = 0, b: int = B, n: int = N, scale=None):
    g = torch.Generator().manual_seed(seed)
    if name in PAIRWISE:
        return _pairwise(name, g, dtype, masked, n=n, scale=2.0 if scale is None else scale)
    return _in_batch(name, g, dtype, b=b, scale=1.0 if scale is None else scale)


def value_and_grads(fn, leaves, others, keywords, weights=None, **options):
    leaves = [x.detach().clone().requires_grad_() for x in leaves]
    out = fn(*leaves, *others, **keywords, **options)
    w = torch.ones_like(out) if weights is None else weights.to(out.dtype)
    grads = torch.autograd.grad((out * w).sum(), leaves)
    return out.detach(), grads


def relative(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max().clamp(min=torch.finfo(b.dtype).tiny))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("chunk", ["1", "uneven", "exact", "larger"])
@pytest.mark.parametrize(("name", "masked"), CASES, ids=IDS)
def test_chunked_equals_dense_in_float64(name, masked, chunk, reduction):
    fn, leaves, others, keywords = make(name, masked, torch.float64)
    rows = leaves[0].shape[-1] if name in PAIRWISE else leaves[0].shape[0]
    chunk_size = {"1": 1, "uneven": 3, "exact": rows, "larger": 2 * rows + 5}[chunk]
    dense = value_and_grads(fn, leaves, others, keywords, reduction=reduction)
    weights = torch.randn(dense[0].shape, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    dense = value_and_grads(fn, leaves, others, keywords, weights, reduction=reduction)
    chunked = value_and_grads(fn, leaves, others, keywords, weights, reduction=reduction, chunk_size=chunk_size)
    assert relative(chunked[0], dense[0]) < 1e-10
    for got, want in zip(chunked[1], dense[1], strict=True):
        assert relative(got, want) < 1e-10


@pytest.mark.parametrize(("name", "masked"), CASES, ids=IDS)
def test_chunked_equals_dense_in_float32(name, masked):
    fn, leaves, others, keywords = make(name, masked, torch.float32)
    dense = value_and_grads(fn, leaves, others, keywords)
    chunked = value_and_grads(fn, leaves, others, keywords, chunk_size=4)
    assert relative(chunked[0], dense[0]) < 1e-5
    for got, want in zip(chunked[1], dense[1], strict=True):
        assert relative(got, want) < 1e-5


@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize(("name", "masked"), CASES, ids=IDS)
def test_chunked_passes_gradcheck(name, masked, reduction):
    fn, leaves, others, keywords = make(name, masked, torch.float64, b=6, n=7)
    if name == "pairwise_hinge_loss":  # keep the gaps away from the hinge's kink
        leaves = [leaves[0] * 3 + 0.05]
    leaves = [x.detach().clone().requires_grad_() for x in leaves]
    assert torch.autograd.gradcheck(
        lambda *xs: fn(*xs, *others, **keywords, chunk_size=4, reduction=reduction), leaves, eps=1e-6, atol=1e-7
    )


@pytest.mark.parametrize(("name", "masked"), CASES, ids=IDS)
def test_chunked_is_finite_at_extreme_inputs(name, masked):
    if name in PAIRWISE:
        fn, leaves, others, keywords = make(name, masked, torch.float32, scale=1e4)
    else:
        fn, leaves, others, keywords = make(name, masked, torch.float32, scale=1e4)
        for key in ("temperature",):
            if key in keywords:
                keywords[key] = 0.01
    value, grads = value_and_grads(fn, leaves, others, keywords, chunk_size=3)
    assert torch.isfinite(value).all()
    assert all(torch.isfinite(g).all() for g in grads)


@pytest.mark.parametrize(("name", "masked"), CASES, ids=IDS)
def test_chunked_keeps_bfloat16_and_agrees(name, masked):
    fn, leaves, others, keywords = make(name, masked, torch.bfloat16)
    if "hard_negatives" in keywords:
        keywords["hard_negatives"] = keywords["hard_negatives"].to(torch.bfloat16)
    chunked = fn(*leaves, *others, **keywords, chunk_size=4)
    dense = fn(*leaves, *others, **keywords)
    assert chunked.dtype == torch.bfloat16
    torch.testing.assert_close(chunked.float(), dense.float(), rtol=0.05, atol=0.05)


@pytest.mark.parametrize(("name", "masked"), CASES, ids=IDS)
def test_chunked_without_gradient(name, masked):
    fn, leaves, others, keywords = make(name, masked, torch.float64)
    with torch.no_grad():
        chunked = fn(*leaves, *others, **keywords, chunk_size=2)
    torch.testing.assert_close(chunked, fn(*leaves, *others, **keywords), rtol=1e-10, atol=0)


@pytest.mark.parametrize("name", IN_BATCH + PAIRWISE)
@pytest.mark.parametrize(("value", "error"), [(0, ValueError), (-3, ValueError), (2.5, TypeError), (True, TypeError)])
def test_bad_chunk_size_raises(name, value, error):
    fn, leaves, others, keywords = make(name, False, torch.float64)
    with pytest.raises(error, match="chunk_size"):
        fn(*leaves, *others, **keywords, chunk_size=value)


@pytest.mark.parametrize("name", list(GATHERED))
def test_gather_without_a_process_group_is_the_plain_loss(name):
    fn, leaves, others, keywords = make(name, False, torch.float64)
    dense = value_and_grads(fn, leaves, others, keywords)
    gathered = value_and_grads(fn, leaves, others, keywords, gather=True)
    assert relative(gathered[0], dense[0]) < 1e-12
    for got, want in zip(gathered[1], dense[1], strict=True):
        assert relative(got, want) < 1e-12


@pytest.mark.parametrize("name", list(GATHERED))
def test_gather_must_be_a_bool(name):
    fn, leaves, others, keywords = make(name, False, torch.float64)
    with pytest.raises(TypeError, match="gather"):
        fn(*leaves, *others, **keywords, gather=1)


def test_info_nce_with_explicit_negatives_rejects_chunk_size_and_gather():
    q, k, n = torch.randn(4, 3), torch.randn(4, 3), torch.randn(6, 3)
    for options in ({"chunk_size": 2}, {"gather": True}):
        with pytest.raises(ValueError, match="in-batch form"):
            losslib.info_nce_loss(q, k, n, **options)


@settings(max_examples=25, deadline=None)
@given(b=st.integers(1, 20), chunk=st.integers(1, 25), seed=st.integers(0, 2**16))
def test_property_chunked_info_nce_and_supcon_equal_dense(b, chunk, seed):
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(b, 3, generator=g, dtype=torch.float64), torch.randn(b, 3, generator=g, dtype=torch.float64)
    labels = torch.randint(0, 3, (b,), generator=g)
    for fn, args in ((losslib.info_nce_loss, (x, y)), (losslib.supervised_contrastive_loss, (x, labels))):
        torch.testing.assert_close(fn(*args, chunk_size=chunk), fn(*args), rtol=1e-10, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 30), chunk=st.integers(1, 35), seed=st.integers(0, 2**16))
def test_property_chunked_pairwise_losses_equal_dense(n, chunk, seed):
    g = torch.Generator().manual_seed(seed)
    scores = torch.randn(2, n, generator=g, dtype=torch.float64)
    relevance = torch.randint(0, 3, (2, n), generator=g)
    where = torch.rand(2, n, generator=g) > 0.2
    for fn in (losslib.pairwise_logistic_loss, losslib.pairwise_hinge_loss, losslib.lambda_rank_loss):
        want = fn(scores, relevance, where=where, reduction="none")
        torch.testing.assert_close(
            fn(scores, relevance, where=where, chunk_size=chunk, reduction="none"), want, rtol=1e-10, atol=1e-12
        )


PEAK = textwrap.dedent(
    """
    import resource, sys, torch, losslib
    torch.set_num_threads(1)
    kind, chunk = sys.argv[1], (None if sys.argv[2] == "none" else int(sys.argv[2]))
    if kind == "in-batch":
        x = torch.randn(8192, 32, requires_grad=True)
        y = torch.randn(8192, 32, requires_grad=True)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        losslib.info_nce_loss(x, y, chunk_size=chunk).backward()
    else:
        s = torch.randn(8192, requires_grad=True)
        r = torch.randint(0, 5, (8192,))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        losslib.pairwise_logistic_loss(s, r, chunk_size=chunk).backward()
    print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)
    """
)


@pytest.mark.parametrize("kind", ["in-batch", "pairwise"])
def test_chunked_peak_memory_grows_far_less_than_dense(kind):
    """Peak resident memory added by one forward + backward, in fresh processes: the dense
    path holds at least one 8192 × 8192 matrix (256 MiB in float32) and usually several, the
    chunked path blocks of 256 rows."""

    def added_mib(chunk: str) -> float:
        done = subprocess.run([sys.executable, "-c", PEAK, kind, chunk], capture_output=True, text=True, check=True)
        return float(done.stdout.split()[-1])

    dense, chunked = added_mib("none"), added_mib("256")
    assert dense > 256, dense  # at least one full matrix
    assert chunked < dense / 5, (chunked, dense)
