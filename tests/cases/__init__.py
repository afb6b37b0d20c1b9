"""Test cases for the contract tests, one per catalogue entry (or more).

Each family module in this package (``classification.py``, ``regression.py``, ...) calls
:func:`add` for its losses. A :class:`Case` knows how to make valid random arguments for a
loss and, where one exists, the reference implementation to compare with. The contract
tests in ``tests/test_contract.py`` are parametrised over :data:`CASES`, and
``tests/test_catalogue.py`` checks that every catalogue entry has at least one case.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

Args = tuple[tuple, dict]


@dataclass(frozen=True)
class Case:
    """How to exercise one loss.

    Attributes:
        name: the losslib function name.
        make: ``make(gen, dtype, scale) -> (args, kwargs)``: valid random arguments drawn
            from the ``torch.Generator`` ``gen``, floating tensors in ``dtype``;
            ``scale`` multiplies the logits / scores / residuals (``1e4`` for the
            extreme-input test). Tensors must be small enough for ``gradcheck``.
        reference: ``reference(*args, **kwargs)`` computing what the loss returns with
            ``reduction="none"`` (or its only output when it has no reduction), with an
            independent implementation (torch, a library, or the paper's formula).
        label: tells apart several cases of one loss (e.g. index vs probability targets).
        grad_args: positions of the positional arguments to differentiate.
        batch_args: positions of the arguments whose dim 0 is the batch (permuted together
            in the permutation test; the first two are made inconsistent in the
            shape test).
        nonnegative: the loss is ``>= 0`` everywhere.
        reductions: the loss takes ``reduction=``.
        per_example: ``reduction="none"`` returns one value per batch row (dim 0), so a
            permutation of the batch permutes the output.
        rtol, atol: tolerances of the reference comparison in float64.
        differentiable: False for targets that must carry no gradient (returns,
            advantages): the gradient tests then check that none reaches the output.
    """

    name: str
    make: Callable[[torch.Generator, torch.dtype, float], Args]
    reference: Callable | None = None
    label: str = ""
    grad_args: tuple[int, ...] = (0,)
    batch_args: tuple[int, ...] = (0, 1)
    nonnegative: bool = True
    reductions: bool = True
    per_example: bool = True
    rtol: float = 1e-7
    atol: float = 1e-9
    differentiable: bool = True
    extra: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.name}[{self.label}]" if self.label else self.name


CASES: list[Case] = []


def add(case: Case) -> Case:
    CASES.append(case)
    return case


def randn(gen: torch.Generator, *shape: int, dtype: torch.dtype, scale: float = 1.0) -> torch.Tensor:
    """Standard normal draws from ``gen`` (made in float64, then cast)."""
    return (torch.randn(*shape, generator=gen, dtype=torch.float64) * scale).to(dtype)


def rand(gen: torch.Generator, *shape: int, dtype: torch.dtype, low: float = 0.0, high: float = 1.0) -> torch.Tensor:
    """Uniform draws in ``[low, high)`` from ``gen``."""
    u = torch.rand(*shape, generator=gen, dtype=torch.float64)
    return (low + (high - low) * u).to(dtype)


def randint(gen: torch.Generator, high: int, *shape: int) -> torch.Tensor:
    return torch.randint(0, high, shape, generator=gen)


def _load_all() -> None:
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


_load_all()
