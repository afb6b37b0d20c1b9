"""A machine-readable catalogue of every loss in losslib.

Each loss registers itself with :func:`register` where it is defined. The book's summary
tables (the map in the introduction, the API page) and the test suite's parametrisation
are generated from this catalogue, so a loss cannot be added without a chapter, a test
and a citation: the test suite checks all three for every entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

FAMILIES = (
    "classification",
    "regression",
    "ranking",
    "embedding",
    "rl",
    "sequence",
    "generative",
    "alignment",
)


@dataclass(frozen=True)
class LossEntry:
    """One catalogue entry.

    Attributes:
        name: the public name, ``losslib.<name>``.
        function: the function itself.
        family: one of ``FAMILIES``.
        summary: one line saying what it computes.
        cite: the key of the paper or book in ``book/references.bib``.
        chapter: the book page that teaches it, relative to ``book/`` without suffix,
            e.g. ``"classification/focal"``.
        reference: the reference implementation it is tested against, e.g.
            ``"torch.nn.functional.cross_entropy"``, or ``None`` when the tests compare it
            with an independent transcription of the paper's formula.
    """

    name: str
    function: Callable
    family: str
    summary: str
    cite: str
    chapter: str
    reference: str | None = None


_CATALOGUE: dict[str, LossEntry] = {}


def register(
    *, family: str, summary: str, cite: str, chapter: str, reference: str | None = None
) -> Callable[[Callable], Callable]:
    """Decorator: add the decorated function to the catalogue and return it unchanged."""
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")

    def decorate(function: Callable) -> Callable:
        name = function.__name__
        if name in _CATALOGUE:
            raise ValueError(f"{name!r} is registered twice")
        _CATALOGUE[name] = LossEntry(name, function, family, summary, cite, chapter, reference)
        return function

    return decorate


def catalogue(family: str | None = None) -> list[LossEntry]:
    """Every registered loss (of one family if given), in registration order."""
    return [e for e in _CATALOGUE.values() if family is None or e.family == family]


def entry(name: str) -> LossEntry:
    """The catalogue entry of ``losslib.<name>``."""
    try:
        return _CATALOGUE[name]
    except KeyError:
        raise KeyError(f"no loss named {name!r} in the catalogue") from None


def markdown_table(family: str | None = None) -> str:
    """The catalogue as a MyST table: loss, summary, chapter, reference implementation.

    Rendered by the book (``IPython.display.Markdown``) with MyST roles, so each row links
    to the API entry and the chapter, and a missing page fails the strict build.
    """
    rows = [
        "| loss | what it computes | chapter | tested against |",
        "| --- | --- | --- | --- |",
    ]
    for e in catalogue(family):
        reference = f"`{e.reference}`" if e.reference else "the paper's formula"
        rows.append(
            f"| {{py:func}}`{e.name} <{e.function.__module__}.{e.name}>` | {e.summary} {{cite:p}}`{e.cite}` "
            f"| {{doc}}`/book/{e.chapter}` | {reference} |"
        )
    return "\n".join(rows)
