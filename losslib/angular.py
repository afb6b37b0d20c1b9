r"""Margin-based embedding classifiers: GE2E, ArcFace, CosFace and the centre loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: F401

from . import _validation as V  # noqa: F401
from .registry import register  # noqa: F401

__all__: list[str] = []

_ = torch
