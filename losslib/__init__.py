"""losslib: the loss functions of *Loss Functions, a primer*, in PyTorch.

Every loss is a pure function ``fn(input, target, *, ..., reduction="mean")``; see the
book's API page, and :func:`losslib.catalogue` for the machine-readable list.
"""

from ._validation import set_value_checks, value_checks, value_checks_enabled
from .alignment import *  # noqa: F403
from .alignment import __all__ as _alignment
from .angular import *  # noqa: F403
from .angular import __all__ as _angular
from .classification import *  # noqa: F403
from .classification import __all__ as _classification
from .embedding import *  # noqa: F403
from .embedding import __all__ as _embedding
from .generative import *  # noqa: F403
from .generative import __all__ as _generative
from .hinge import *  # noqa: F403
from .hinge import __all__ as _hinge
from .ranking import *  # noqa: F403
from .ranking import __all__ as _ranking
from .registry import LossEntry, catalogue, entry
from .regression import *  # noqa: F403
from .regression import __all__ as _regression
from .rl import *  # noqa: F403
from .rl import __all__ as _rl
from .segmentation import *  # noqa: F403
from .segmentation import __all__ as _segmentation
from .sequence import *  # noqa: F403
from .sequence import __all__ as _sequence

__version__ = "0.1.0"

__all__ = [
    "LossEntry",
    "catalogue",
    "entry",
    "set_value_checks",
    "value_checks",
    "value_checks_enabled",
    *_classification,
    *_hinge,
    *_angular,
    *_segmentation,
    *_regression,
    *_ranking,
    *_embedding,
    *_rl,
    *_sequence,
    *_generative,
    *_alignment,
]
