"""The contract of losslib-api.md, checked for every case of every catalogue entry.

Per case: equality with the reference, reductions that agree, gradcheck in float64,
finite loss and gradient at extreme inputs, dtypes, no input modified, non-negativity,
batch-permutation invariance, and the documented errors (unknown reduction, integer
input, empty batch, shape mismatch). Randomness comes from hypothesis-drawn seeds.
"""

from __future__ import annotations

import pytest
import torch
from cases import CASES, Case
from hypothesis import given, settings
from hypothesis import strategies as st

import losslib

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
PROPERTY = settings(max_examples=15, deadline=None, derandomize=True)

case_params = pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])


def make(case: Case, seed: int = 0, dtype: torch.dtype = torch.float64, scale: float = 1.0):
    gen = torch.Generator().manual_seed(seed)
    return case.make(gen, dtype, scale)


def call(case: Case, args, kwargs, **extra):
    fn = getattr(losslib, case.name)
    return fn(*args, **kwargs, **extra)


def none_kw(case: Case) -> dict:
    return {"reduction": "none"} if case.reductions else {}


def floating_tensors(args) -> list[torch.Tensor]:
    return [a for a in args if isinstance(a, torch.Tensor) and a.is_floating_point()]


@case_params
@PROPERTY
@given(seed=SEEDS)
def test_matches_reference(case: Case, seed: int):
    if case.reference is None:
        pytest.skip("compared with its reference in the family's own tests")
    args, kwargs = make(case, seed)
    got = call(case, args, kwargs, **none_kw(case))
    want = case.reference(*args, **kwargs)
    torch.testing.assert_close(got, want.to(got.dtype), rtol=case.rtol, atol=case.atol)


@case_params
@PROPERTY
@given(seed=SEEDS)
def test_reductions_agree(case: Case, seed: int):
    if not case.reductions:
        pytest.skip("has no reduction argument")
    args, kwargs = make(case, seed)
    per_example = call(case, args, kwargs, reduction="none")
    torch.testing.assert_close(call(case, args, kwargs, reduction="sum"), per_example.sum())
    torch.testing.assert_close(call(case, args, kwargs, reduction="mean"), per_example.mean())
    torch.testing.assert_close(call(case, args, kwargs), per_example.mean())  # default is mean


@case_params
def test_gradcheck_float64(case: Case):
    args, kwargs = make(case, seed=1)
    args = list(args)
    for i in case.grad_args:
        args[i] = args[i].detach().clone().requires_grad_(True)
    diff = [args[i] for i in case.grad_args]
    if not case.differentiable:
        out = call(case, args, kwargs, **none_kw(case))
        assert not out.requires_grad, "a target must carry no gradient"
        return

    def fn(*inputs):
        full = list(args)
        for i, t in zip(case.grad_args, inputs, strict=True):
            full[i] = t
        return call(case, full, kwargs, **none_kw(case))

    assert torch.autograd.gradcheck(fn, diff, eps=1e-6, atol=1e-5, rtol=1e-4)


@case_params
def test_extreme_inputs_give_finite_loss_and_gradient(case: Case):
    for seed in range(3):
        args, kwargs = make(case, seed, dtype=torch.float32, scale=1e4)
        args = list(args)
        for i in case.grad_args:
            args[i] = args[i].detach().clone().requires_grad_(True)
        loss = call(case, args, kwargs, **({"reduction": "sum"} if case.reductions else {}))
        assert torch.isfinite(loss).all(), f"loss {loss} at scale 1e4"
        if not case.differentiable:
            assert not loss.requires_grad
            continue
        grads = torch.autograd.grad(loss, [args[i] for i in case.grad_args])
        for g in grads:
            assert torch.isfinite(g).all(), "non-finite gradient at scale 1e4"


@case_params
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16], ids=str)
def test_returns_input_dtype(case: Case, dtype: torch.dtype):
    args, kwargs = make(case, seed=2, dtype=dtype)
    out = call(case, args, kwargs)
    assert out.dtype == case.extra.get("output_dtype", dtype)  # a decoder returns int64 tags
    assert torch.isfinite(out).all()
    if dtype != torch.float64 and case.reference is not None:
        ref_args, ref_kwargs = make(case, seed=2)
        reference = case.reference(*ref_args, **ref_kwargs)
        loose = {"rtol": 0.05, "atol": 0.05} if dtype == torch.bfloat16 else {"rtol": 1e-4, "atol": 1e-5}
        got = call(case, args, kwargs, **none_kw(case)).to(torch.float64)
        torch.testing.assert_close(got, reference.to(torch.float64), **loose)


@case_params
def test_does_not_modify_inputs(case: Case):
    args, kwargs = make(case, seed=3)
    before = [a.clone() if isinstance(a, torch.Tensor) else a for a in (*args, *kwargs.values())]
    call(case, args, kwargs)
    after = [*args, *kwargs.values()]
    for b, a in zip(before, after, strict=True):
        if isinstance(a, torch.Tensor):
            assert torch.equal(a, b)


@case_params
@PROPERTY
@given(seed=SEEDS)
def test_nonnegative(case: Case, seed: int):
    if not case.nonnegative:
        pytest.skip("can be negative by definition")
    args, kwargs = make(case, seed)
    assert (call(case, args, kwargs, **none_kw(case)) >= 0).all()


@case_params
@PROPERTY
@given(seed=SEEDS)
def test_batch_permutation_permutes_output(case: Case, seed: int):
    if not (case.reductions and case.per_example):
        pytest.skip("output is not one value per batch row")
    args, kwargs = make(case, seed)
    n = args[case.batch_args[0]].shape[0]
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    permuted = [a[perm] if i in case.batch_args else a for i, a in enumerate(args)]
    out = call(case, args, kwargs, reduction="none")
    torch.testing.assert_close(call(case, permuted, kwargs, reduction="none"), out[perm])
    torch.testing.assert_close(call(case, permuted, kwargs), call(case, args, kwargs))


# ----------------------------------------------------------------------- errors


@case_params
def test_unknown_reduction_raises(case: Case):
    if not case.reductions:
        pytest.skip("has no reduction argument")
    args, kwargs = make(case)
    with pytest.raises(ValueError, match="reduction"):
        call(case, args, kwargs, reduction="average")


@case_params
def test_integer_prediction_raises_type_error(case: Case):
    args, kwargs = make(case)
    args = list(args)
    args[0] = args[0].round().long()
    with pytest.raises(TypeError, match="dtype"):
        call(case, args, kwargs)


@case_params
def test_empty_batch_raises(case: Case):
    args, kwargs = make(case)
    args = [a[:0] if i in case.batch_args else a for i, a in enumerate(args)]
    with pytest.raises(ValueError, match="empty|shape"):
        call(case, args, kwargs)


@case_params
def test_batch_size_mismatch_raises(case: Case):
    if len(set(case.batch_args)) < 2:
        pytest.skip("a single batched argument: its shape errors are tested in the family's tests")
    args, kwargs = make(case)
    first, second = case.batch_args[:2]
    args = list(args)
    args[second] = args[second][:-1]
    with pytest.raises(ValueError, match="shape"):
        call(case, args, kwargs)
