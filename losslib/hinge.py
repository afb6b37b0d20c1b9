r"""Margin (SVM) losses: hinge, squared hinge, soft margin and the multi-class hinge."""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: F401

from . import _validation as V  # noqa: F401
from .registry import register  # noqa: F401

__all__: list[str] = []

_ = torch
