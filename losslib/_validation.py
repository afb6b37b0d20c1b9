"""The one private place for argument checks and reductions.

Every public loss calls these helpers, so every loss raises the same errors with the same
kind of message: the argument's name, what was expected and what was received.

Checks come in two kinds:

* always on: shapes, dtypes, hyper-parameters and ``reduction``; they cost no pass over
  the data;
* value checks (class indices in range, probabilities in ``[0, 1]``, labels in their set):
  one pass over the data each, switched off with :func:`set_value_checks` or the
  :func:`value_checks` context manager for hot loops.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence

import torch

REDUCTIONS = ("mean", "sum", "none")

_value_checks_enabled = True


def set_value_checks(enabled: bool) -> bool:
    """Switch the value checks (index ranges, probability ranges, label sets) on or off.

    Shape, dtype and hyper-parameter checks stay on. Returns the previous setting.
    """
    global _value_checks_enabled
    previous = _value_checks_enabled
    _value_checks_enabled = bool(enabled)
    return previous


def value_checks_enabled() -> bool:
    """Whether the value checks are currently on."""
    return _value_checks_enabled


@contextlib.contextmanager
def value_checks(enabled: bool) -> Iterator[None]:
    """Context manager: ``with losslib.value_checks(False): ...`` for a hot loop."""
    previous = set_value_checks(enabled)
    try:
        yield
    finally:
        set_value_checks(previous)


# ---------------------------------------------------------------------------- reductions


def check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")


def reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    """Apply ``reduction`` to a tensor of per-example losses."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def reduce_counted(loss: torch.Tensor, counted: torch.Tensor, reduction: str) -> torch.Tensor:
    """Like :func:`reduce`, but ``"mean"`` averages only the entries where ``counted`` is True
    (the others are 0 by definition: a ranking list without a preference, a SupCon anchor
    without a positive); 0, not NaN, when none is counted."""
    if reduction == "mean":
        return loss.sum() / counted.sum().clamp(min=1).to(loss.dtype)
    return reduce(loss, reduction)


# ------------------------------------------------------------------------- always on


def check_floating(name: str, tensor: torch.Tensor) -> None:
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
    if not tensor.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {tensor.dtype}")


def check_integer(name: str, tensor: torch.Tensor) -> None:
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
    if tensor.is_floating_point() or tensor.is_complex() or tensor.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer class indices (torch.long), got dtype {tensor.dtype}")


def check_nonempty(name: str, tensor: torch.Tensor) -> None:
    if tensor.numel() == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(tensor.shape)}")


def check_min_dim(name: str, tensor: torch.Tensor, ndim: int, what: str) -> None:
    if tensor.dim() < ndim:
        raise ValueError(f"{name} must have shape {what}, got shape {tuple(tensor.shape)}")


def check_same_shape(name: str, tensor: torch.Tensor, other_name: str, other: torch.Tensor) -> None:
    if tensor.shape != other.shape:
        raise ValueError(
            f"{other_name} must have the shape of {name} {tuple(tensor.shape)}, got shape {tuple(other.shape)}"
        )


def check_shape(name: str, tensor: torch.Tensor, shape: Sequence[int], what: str) -> None:
    if tuple(tensor.shape) != tuple(shape):
        raise ValueError(f"{name} must have shape {what} = {tuple(shape)}, got shape {tuple(tensor.shape)}")


def check_class_scores(name: str, scores: torch.Tensor) -> int:
    """Class scores are floating ``[N, C]`` or ``[N, C, d1, ...]`` and non-empty; returns ``C``."""
    check_floating(name, scores)
    check_min_dim(name, scores, 2, "[N, C] or [N, C, d1, ...]")
    check_nonempty(name, scores)
    return scores.shape[1]


def check_index_target(scores: torch.Tensor, target: torch.Tensor, num_classes: int) -> None:
    """Integer class indices ``[N, d1, ...]`` matching ``scores [N, C, d1, ...]``, in ``[0, C)``."""
    check_integer("target", target)
    expected = scores.shape[:1] + scores.shape[2:]
    if target.shape != expected:
        raise ValueError(
            f"target must have shape [N, d1, ...] = {tuple(expected)} for input of shape "
            f"{tuple(scores.shape)}, got shape {tuple(target.shape)}"
        )
    check_class_indices("target", target, num_classes)


def check_class_weight(weight: torch.Tensor | None, num_classes: int) -> None:
    if weight is None:
        return
    check_floating("weight", weight)
    check_shape("weight", weight, (num_classes,), "[C]")


def check_positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{name} must be positive, got {value!r}")


def check_nonnegative(name: str, value: float) -> None:
    if not value >= 0:
        raise ValueError(f"{name} must be non-negative, got {value!r}")


def check_in_interval(name: str, value: float, low: float, high: float, *, closed: bool) -> None:
    ok = low <= value <= high if closed else low < value < high
    if not ok:
        brackets = f"[{low}, {high}]" if closed else f"({low}, {high})"
        raise ValueError(f"{name} must lie in {brackets}, got {value!r}")


def check_choice(name: str, value: object, choices: Sequence[object]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")


# ------------------------------------------------------------- value checks (switchable)


def check_class_indices(name: str, target: torch.Tensor, num_classes: int) -> None:
    """Class indices must lie in ``[0, C)``."""
    if not _value_checks_enabled:
        return
    low, high = (bound.item() for bound in torch.aminmax(target))  # one pass
    if low < 0 or high >= num_classes:
        raise ValueError(f"{name} must hold class indices in [0, {num_classes}), got values in [{low}, {high}]")


def check_probabilities(name: str, tensor: torch.Tensor) -> None:
    """Values must lie in ``[0, 1]`` (NaNs are not checked; they propagate)."""
    if not _value_checks_enabled:
        return
    low, high = (bound.item() for bound in torch.aminmax(tensor.detach()))
    if low < 0.0 or high > 1.0:
        raise ValueError(f"{name} must hold probabilities in [0, 1], got values in [{low}, {high}]")


def check_sign_labels(name: str, tensor: torch.Tensor) -> None:
    """Every value must be -1 or +1: the range of ``|t|`` is ``[1, 1]`` (one reduction)."""
    if not _value_checks_enabled or tensor.numel() == 0:
        return
    low, high = (bound.item() for bound in torch.aminmax(tensor.detach().abs()))
    if not low == high == 1.0:  # NaN fails too
        bad = tensor[tensor.abs() != 1.0].flatten()[:5].tolist()
        raise ValueError(f"{name} must hold labels in {{-1.0, 1.0}}, got values such as {bad}")


def check_greater_than(name: str, tensor: torch.Tensor, bound: float) -> None:
    """Every value must be greater than ``bound`` (e.g. ``> -1`` for ``log1p``)."""
    if not _value_checks_enabled:
        return
    low = float(tensor.detach().min())
    if not low > bound:
        raise ValueError(f"{name} must be greater than {bound}, got a minimum of {low}")


# ------------------------------------------------- real hyper-parameters (always on)


def check_real(name: str, value: object) -> None:
    """``value`` must be a finite real number (int or float, not bool; a 0-d tensor is fine)."""
    if isinstance(value, torch.Tensor) and value.dim() == 0 and value.is_floating_point():
        value = float(value.detach())
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")


def check_real_sequence(name: str, values: object) -> None:
    """``values`` must be a non-empty 1-D sequence (or floating 1-D tensor) of finite reals.

    Used for polynomial coefficients and similar small vectors of hyper-parameters.
    """
    if isinstance(values, torch.Tensor):
        if not values.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got dtype {values.dtype}")
        if values.dim() != 1:
            raise ValueError(f"{name} must be 1-D, got shape {tuple(values.shape)}")
        if values.numel() == 0:
            raise ValueError(f"{name} must not be empty, got shape {tuple(values.shape)}")
        if not bool(torch.isfinite(values.detach()).all()):
            raise ValueError(f"{name} must hold finite numbers, got {values.detach().tolist()}")
        return
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"{name} must be a sequence or 1-D tensor of numbers, got {type(values).__name__}")
    if len(values) == 0:
        raise ValueError(f"{name} must not be empty, got {values!r}")
    for i, value in enumerate(values):
        if isinstance(value, (list, tuple, torch.Tensor)) and not (
            isinstance(value, torch.Tensor) and value.dim() == 0
        ):
            raise ValueError(f"{name} must be 1-D, got a nested element at index {i}: {value!r}")
        check_real(f"{name}[{i}]", value)


def check_nonnegative_values(name: str, tensor: torch.Tensor) -> None:
    """Every value must be ``>= 0`` (e.g. class weights); NaNs are not checked."""
    if not _value_checks_enabled:
        return
    low = float(tensor.detach().min())
    if low < 0:
        raise ValueError(f"{name} must hold non-negative values, got a minimum of {low}")


def check_nonzero_scalar(name: str, value: torch.Tensor | float, what: str) -> None:
    """A data-derived scalar (e.g. a normaliser) must not be zero; ``what`` says how it was
    computed. NaN passes (NaN inputs are not checked; they propagate)."""
    value = float(value.detach()) if isinstance(value, torch.Tensor) else float(value)
    if value == 0.0:
        raise ValueError(f"{name} must be non-zero, got {value!r} ({what})")


# ------------------------------------------------------- exact shapes (always on)


def check_ndim(name: str, tensor: torch.Tensor, ndim: int, what: str) -> None:
    """``tensor`` must have exactly ``ndim`` dimensions (``what`` names them, e.g. ``[N, D]``)."""
    if tensor.dim() != ndim:
        raise ValueError(f"{name} must have shape {what} ({ndim} dims), got shape {tuple(tensor.shape)}")


def check_min_size(name: str, tensor: torch.Tensor, dim: int, minimum: int, what: str) -> None:
    """Dimension ``dim`` of ``tensor`` must have at least ``minimum`` entries (``what``
    names them, e.g. ``"speakers"``)."""
    if tensor.shape[dim] < minimum:
        raise ValueError(f"{name} must have at least {minimum} {what} (dim {dim}), got shape {tuple(tensor.shape)}")


# ------------------------------------------------------------ ranking lists (always on)


def check_real_tensor(name: str, tensor: torch.Tensor) -> None:
    """A tensor of real numbers: floating or integer (e.g. relevance grades), not bool or complex."""
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
    if tensor.dtype == torch.bool or tensor.is_complex():
        raise TypeError(f"{name} must hold real numbers (floating or integer), got dtype {tensor.dtype}")


def check_list_scores(name: str, scores: torch.Tensor) -> None:
    """Scores of lists are floating ``[..., N]`` with at least one list and one item."""
    check_floating(name, scores)
    check_min_dim(name, scores, 1, "[..., N] (the last dim holds the items of one list)")
    check_nonempty(name, scores)


def check_where(where: torch.Tensor | None, scores: torch.Tensor) -> None:
    """``where`` is ``None`` or a bool tensor of the scores' shape."""
    if where is None:
        return
    if not isinstance(where, torch.Tensor) or where.dtype != torch.bool:
        got = where.dtype if isinstance(where, torch.Tensor) else type(where).__name__
        raise TypeError(f"where must be a bool tensor (True = the item takes part), got {got}")
    check_same_shape("scores", scores, "where", where)


def check_positive_int(name: str, value: object) -> None:
    """``value`` must be an int ``>= 1`` (not bool)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a positive int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def check_binary_values(name: str, tensor: torch.Tensor) -> None:
    """Every value must be 0 or 1 (e.g. episode ends given as floats)."""
    if not _value_checks_enabled or tensor.numel() == 0:
        return
    bad = tensor[(tensor != 0) & (tensor != 1)]
    if bad.numel():
        raise ValueError(f"{name} must hold 0 or 1 (or be a bool tensor), got values such as {bad[:5].tolist()}")


def check_bool(name: str, value: object) -> None:
    """``value`` must be a bool (a switch such as ``gather``)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")


def check_chunk_size(chunk_size: object) -> None:
    """``chunk_size`` must be ``None`` (no chunking) or an int ``>= 1``."""
    if chunk_size is not None:
        check_positive_int("chunk_size", chunk_size)


# ------------------------------------------- log-probabilities (switchable, alignment)


def check_at_most(name: str, tensor: torch.Tensor, bound: float) -> None:
    """Every value must be ``<= bound`` (e.g. log-probabilities ``<= 0``); NaNs are not checked."""
    if not _value_checks_enabled or tensor.numel() == 0:
        return
    high = float(tensor.detach().max())
    if high > bound:
        raise ValueError(f"{name} must hold values <= {bound}, got a maximum of {high}")


# ------------------------------------------------- generative models (always on)


def check_callable(name: str, value: object) -> None:
    """``value`` must be callable (e.g. a critic ``x -> scores``)."""
    if not callable(value):
        raise TypeError(f"{name} must be callable (a function or module: inputs -> scores), got {type(value).__name__}")


def check_same_batch(name: str, tensor: torch.Tensor, other_name: str, other: torch.Tensor) -> None:
    """``other`` must have as many rows (dim 0) as ``tensor``."""
    if other.dim() == 0 or other.shape[0] != tensor.shape[0]:
        raise ValueError(
            f"{other_name} must have {tensor.shape[0]} rows (dim 0), like {name} of shape "
            f"{tuple(tensor.shape)}, got shape {tuple(other.shape)}"
        )


def check_one_score_per_row(name: str, scores: torch.Tensor, rows: int) -> None:
    """A critic's output: floating, shape ``[N]`` or ``[N, 1]``."""
    check_floating(name, scores)
    if tuple(scores.shape) not in ((rows,), (rows, 1)):
        raise ValueError(f"{name} must have shape [N] or [N, 1] with N = {rows}, got shape {tuple(scores.shape)}")


# ------------------------------------------------ sequences: CTC and CRF (issue 13)


def check_int(name: str, value: object) -> None:
    """``value`` must be a Python int (not bool), e.g. a class index such as ``blank``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")


def check_lengths(name: str, lengths: torch.Tensor, n: int, max_length: int) -> None:
    """Sequence lengths: an integer tensor ``[N]`` (always on) with values in
    ``[0, max_length]`` (switchable)."""
    if not isinstance(lengths, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of sequence lengths, got {type(lengths).__name__}")
    if lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == torch.bool:
        raise TypeError(f"{name} must be an integer tensor of sequence lengths, got dtype {lengths.dtype}")
    check_shape(name, lengths, (n,), "[N]")
    if not _value_checks_enabled or n == 0:
        return
    low, high = (bound.item() for bound in torch.aminmax(lengths))
    if low < 0 or high > max_length:
        raise ValueError(f"{name} must hold lengths in [0, {max_length}], got values in [{low}, {high}]")


def check_class_indices_except(name: str, target: torch.Tensor, num_classes: int, ignore_index: int) -> None:
    """Class indices in ``[0, C)``, except entries equal to ``ignore_index`` (which may lie
    outside, as torch's default -100)."""
    if not _value_checks_enabled:
        return
    kept = target[target != ignore_index]
    if kept.numel():
        check_class_indices(name, kept, num_classes)


def check_excludes(name: str, labels: torch.Tensor, value: int, what: str) -> None:
    """No entry of ``labels`` may equal ``value`` (``what`` says why, e.g. the CTC blank)."""
    if not _value_checks_enabled or labels.numel() == 0:
        return
    hits = int((labels == value).sum())
    if hits:
        raise ValueError(f"{name} must not contain {value} ({what}), got {hits} such entries")


def check_some_counted(name: str, count: int, what: str) -> None:
    """A mean over counted entries needs at least one: ``count`` must be positive."""
    if count < 1:
        raise ValueError(f"{name} must count at least one entry, got none ({what})")


def check_left_aligned_mask(name: str, mask: torch.Tensor, shape: Sequence[int]) -> None:
    """A bool mask ``[B, T]`` (always on) whose rows are on from the first step up to a
    length and off after it (switchable): first step on, no gap."""
    if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
        got = mask.dtype if isinstance(mask, torch.Tensor) else type(mask).__name__
        raise TypeError(f"{name} must be a bool tensor (True = the step takes part), got {got}")
    check_shape(name, mask, shape, "[B, T]")
    if not _value_checks_enabled or mask.numel() == 0:
        return
    if not bool(mask[:, 0].all()):
        off = int((~mask[:, 0]).sum())
        raise ValueError(f"{name} must be on at the first step of every sequence, got {off} rows off")
    if bool((mask[:, 1:] & ~mask[:, :-1]).any()):
        raise ValueError(f"{name} must be left-aligned (on up to a length, then off), got a row with a gap")
