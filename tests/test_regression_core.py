"""l1_loss and mse_loss: torch equality, no silent broadcasting, the minimisers."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import losslib

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)


@pytest.mark.parametrize("name", ["l1_loss", "mse_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_equals_torch(name, reduction):
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(5, 4, generator=g), torch.randn(5, 4, generator=g)
    torch.testing.assert_close(
        getattr(losslib, name)(x, y, reduction=reduction), getattr(F, name)(x, y, reduction=reduction)
    )


@pytest.mark.parametrize("name", ["l1_loss", "mse_loss"])
def test_never_broadcasts(name):
    with pytest.raises(ValueError, match=r"target must have the shape of input \(5, 1\)"):
        getattr(losslib, name)(torch.zeros(5, 1), torch.zeros(5))


values = st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=30)


@SETTINGS
@given(ys=values, c=st.floats(-1e3, 1e3))
def test_constant_minimising_mse_is_the_mean_and_l1_the_median(ys, c):
    y = torch.tensor(ys, dtype=torch.float64)
    const = torch.full_like(y, c)
    assert losslib.mse_loss(torch.full_like(y, y.mean()), y) <= losslib.mse_loss(const, y) + 1e-9
    median = y.median()  # lower median: a minimiser of the absolute error
    assert losslib.l1_loss(torch.full_like(y, median), y) <= losslib.l1_loss(const, y) + 1e-9


@SETTINGS
@given(ys=values)
def test_zero_at_the_perfect_prediction(ys):
    y = torch.tensor(ys, dtype=torch.float64)
    assert losslib.mse_loss(y, y) == 0 and losslib.l1_loss(y, y) == 0
