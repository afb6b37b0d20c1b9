"""The catalogue ties every loss to a chapter, a citation and tests; check all three."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from cases import CASES

import losslib
from losslib.registry import FAMILIES

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
ENTRIES = losslib.catalogue()
entry_params = pytest.mark.parametrize("entry", ENTRIES, ids=[e.name for e in ENTRIES])


def bib_keys() -> set[str]:
    text = (BOOK / "references.bib").read_text()
    return set(re.findall(r"@\w+\s*\{\s*([^,\s]+)\s*,", text))


def toc_docnames() -> set[str]:
    text = (ROOT / "_toc.yml").read_text()
    return set(re.findall(r"(?:file|root):\s*(\S+)", text))


def test_catalogue_is_not_empty_and_names_are_unique():
    names = [e.name for e in ENTRIES]
    assert len(names) >= 6
    assert len(names) == len(set(names))


@entry_params
def test_entry_is_exported_at_top_level(entry):
    assert getattr(losslib, entry.name) is entry.function
    assert entry.name in losslib.__all__
    assert entry.family in FAMILIES


@entry_params
def test_entry_has_a_test_case(entry):
    assert any(c.name == entry.name for c in CASES), f"no case in tests/cases for {entry.name}"


def test_every_case_names_a_catalogue_entry():
    names = {e.name for e in ENTRIES}
    assert {c.name for c in CASES} <= names


@entry_params
def test_entry_cites_a_key_of_the_bibliography(entry):
    assert entry.cite in bib_keys(), f"{entry.cite!r} is not in book/references.bib"


@entry_params
def test_entry_chapter_is_in_the_toc_and_uses_the_loss(entry):
    docname = f"book/{entry.chapter}"
    assert docname in toc_docnames(), f"{docname} is not in _toc.yml"
    text = (ROOT / f"{docname}.md").read_text()
    assert re.search(rf"\b{entry.name}\(", text), f"{docname}.md never calls {entry.name}()"


@entry_params
def test_docstring_gives_formula_arguments_returns_and_reference(entry):
    doc = inspect.getdoc(entry.function) or ""
    for part in (".. math::", "Args:", "Returns:", "Reference"):
        assert part in doc, f"{entry.name} docstring lacks {part!r}"
    params = [p for p in inspect.signature(entry.function).parameters if p != "reduction"]
    for p in params:
        assert re.search(rf"^\s*{p}\b.*:", doc, re.M), f"{entry.name}: argument {p} undocumented"


@entry_params
def test_signature_follows_the_conventions(entry):
    sig = inspect.signature(entry.function)
    kinds = [p.kind for p in sig.parameters.values()]
    positional = [p for p in sig.parameters.values() if p.kind == p.POSITIONAL_OR_KEYWORD]
    assert positional, "prediction and target come first, positionally"
    assert all(k == inspect.Parameter.KEYWORD_ONLY for k in kinds[len(positional) :]), (
        "hyper-parameters are keyword-only"
    )
    if "reduction" in sig.parameters:
        assert sig.parameters["reduction"].default == "mean"
