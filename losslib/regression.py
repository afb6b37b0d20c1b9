r"""Regression losses of the residual :math:`e = \hat y - y` (``input - target``).

Conventions (see ``losslib-api.md``): input first, target second, the two of the same
shape (never broadcast), ``reduction`` in ``{"mean", "sum", "none"}`` with ``"none"``
elementwise.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import _validation as V
from .registry import register

__all__ = [
    "l1_loss",
    "mse_loss",
]


def _check_pair(input: torch.Tensor, target: torch.Tensor) -> None:
    """``input`` and ``target``: floating point, non-empty, the same shape."""
    V.check_floating("input", input)
    V.check_floating("target", target)
    V.check_nonempty("input", input)
    V.check_same_shape("input", input, "target", target)


@register(
    family="regression",
    summary="Mean absolute error: Laplace negative log-likelihood, estimates the median.",
    cite="hastie2009elements",
    chapter="regression/mae-mse",
    reference="torch.nn.functional.l1_loss",
)
def l1_loss(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    r"""Absolute error (L1 loss; MAE with ``reduction="mean"``).

    .. math::
        \ell = |\hat y - y|

    Args:
        input: predictions :math:`\hat y`, any shape.
        target: targets :math:`y`, the shape of ``input``.
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (elementwise).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`hastie2009elements`. Equivalent: ``torch.nn.functional.l1_loss``.
    """
    V.check_reduction(reduction)
    _check_pair(input, target)
    return F.l1_loss(input, target, reduction=reduction)


@register(
    family="regression",
    summary="Mean squared error: Gaussian negative log-likelihood, estimates the mean.",
    cite="hastie2009elements",
    chapter="regression/mae-mse",
    reference="torch.nn.functional.mse_loss",
)
def mse_loss(input: torch.Tensor, target: torch.Tensor, *, reduction: str = "mean") -> torch.Tensor:
    r"""Squared error (L2 loss; MSE with ``reduction="mean"``).

    .. math::
        \ell = (\hat y - y)^2

    Args:
        input: predictions :math:`\hat y`, any shape.
        target: targets :math:`y`, the shape of ``input`` (torch would broadcast; losslib
            raises ``ValueError`` instead).
        reduction: ``"mean"``, ``"sum"`` or ``"none"`` (elementwise).

    Returns:
        The loss, a scalar unless ``reduction="none"``.

    Reference: :cite:t:`hastie2009elements`. Equivalent: ``torch.nn.functional.mse_loss``.
    """
    V.check_reduction(reduction)
    _check_pair(input, target)
    return F.mse_loss(input, target, reduction=reduction)
