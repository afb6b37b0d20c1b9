"""`make bench` compares each loss with a reference: every catalogue entry must have one,
and on the benchmark's own inputs the two must compute the same value (so the benchmark
times equivalent work, and each loss gets one more independent check)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

import losslib

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from specs import SPECS  # noqa: E402

ENTRIES = losslib.catalogue()


def test_every_catalogue_entry_has_a_benchmark_spec():
    missing = [e.name for e in ENTRIES if e.name not in SPECS]
    assert not missing, f"no benchmark spec for {missing}"
    assert set(SPECS) <= {e.name for e in ENTRIES}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_benchmark_inputs_are_valid_and_the_reference_agrees(name):
    spec = SPECS[name]
    args, kwargs = spec.make(1000, torch.Generator().manual_seed(0))
    ours = getattr(losslib, name)(*args, **kwargs)
    theirs = spec.reference(*args, **kwargs)
    torch.testing.assert_close(ours, theirs.to(ours.dtype), rtol=2e-4, atol=1e-5)
