"""The student edition (``make book-student``): every solution removed, nothing else.

The normal edition (``_build/html``) keeps its solutions (collapsed dropdowns); the student
edition (``_build/student``) must not hold their text anywhere a student can reach: not in
the pages, not in the search index, not in the downloadable sources. It is built from the
main build's execution cache, so it runs no chapter again.

Slow (it builds the main edition if needed, then the student one), so ``make test-paths``
runs it, not ``make test``.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FULL = ROOT / "_build" / "html"
STUDENT = ROOT / "_build" / "student"
TEXT_SUFFIXES = {".html", ".js", ".md", ".txt", ".ipynb", ".json"}
# a run of plain prose in a solution (no maths, no markup), long enough to be its own
PROSE = re.compile(r"[A-Za-z][A-Za-z ,;’']{38,}[A-Za-z]")

pytestmark = pytest.mark.slow


def toc_docnames() -> list[str]:
    return re.findall(r"(?:file|root):\s*(\S+)", (ROOT / "_toc.yml").read_text())


def _text(html: str) -> str:
    from bs4 import BeautifulSoup

    return " ".join(BeautifulSoup(html, "html.parser").get_text(" ").split())


@pytest.fixture(scope="module")
def build_log() -> str:
    proc = subprocess.run(["make", "-s", "book-student"], cwd=ROOT, capture_output=True, text=True, timeout=3600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-6000:]
    return log


def solution_fragments(full: Path) -> dict[str, list[str]]:
    """Per page of the normal edition, prose fragments found in its solutions only."""
    from bs4 import BeautifulSoup

    found: dict[str, list[str]] = {}
    for doc in toc_docnames():
        soup = BeautifulSoup((full / f"{doc}.html").read_text(), "html.parser")
        boxes = soup.select("div.solution")
        fragments = [m.group(0).strip() for box in boxes for m in PROSE.finditer(" ".join(box.get_text(" ").split()))]
        for box in boxes:
            box.decompose()
        elsewhere = " ".join(soup.get_text(" ").split())
        fragments = [f for f in fragments if f not in elsewhere and "Solution to" not in f]
        if boxes:
            found[doc] = fragments
    return found


@pytest.fixture(scope="module")
def solutions(build_log) -> dict[str, list[str]]:
    return solution_fragments(FULL)


def test_the_normal_edition_has_its_solutions(solutions):
    assert len(solutions) >= 10, f"solutions found on {len(solutions)} pages only"
    assert sum(map(len, solutions.values())) >= 50


def test_the_student_edition_has_every_page_and_exercise_but_no_solution(build_log):
    for doc in toc_docnames():
        full = (FULL / f"{doc}.html").read_text()
        page = STUDENT / f"{doc}.html"
        assert page.is_file(), f"{doc} is missing from the student edition"
        student = page.read_text()
        assert 'class="solution' not in student, f"{doc}: a solution box is left"
        assert student.count('class="exercise') == full.count('class="exercise'), f"{doc}: exercises lost"


def test_no_solution_text_anywhere_in_the_student_edition(solutions):
    """Neither pages, nor search index, nor downloadable sources hold a solution's prose."""
    files = [p for p in STUDENT.rglob("*") if p.is_file() and p.suffix in TEXT_SUFFIXES and "mathjax" not in p.parts]
    assert any(p.suffix == ".ipynb" for p in files) and any(p.suffix == ".md" for p in files)
    corpus = {
        p: (_text(p.read_text(errors="ignore")) if p.suffix == ".html" else p.read_text(errors="ignore")) for p in files
    }
    leaks = []
    for doc, fragments in solutions.items():
        for fragment in fragments:
            leaks += [
                f"{doc}: {fragment[:60]!r} in {p.relative_to(STUDENT)}"
                for p, text in corpus.items()
                if fragment in text
            ]
    assert not leaks, "\n".join(leaks[:20])
    markers = [p for p, text in corpus.items() if re.search(r"\{solution(-start|-end)?\}", text)]
    assert not markers, f"solution directives left in {[str(p.relative_to(STUDENT)) for p in markers][:10]}"


def test_the_student_edition_runs_no_chapter_again(build_log):
    """Built from the main build's cache; only the course page (execution_mode: force) runs."""
    assert "== student edition ==" in build_log
    executed = re.findall(r"(\S+\.md): Executing notebook", build_log.split("== student edition ==", 1)[1])
    assert all(path.endswith("book/appendix/course.md") for path in executed), executed
