"""Run every chapter of the table of contents under nbval.

nbval collects ``.ipynb`` files only; the chapters are MyST Markdown notebooks. This hook
converts each ``.md`` page listed in ``_toc.yml`` with jupytext into ``_build/nbval/``
during collection and hands it to nbval, so a new chapter is tested as soon as it is in
the toc, with no edit to the tests. It also times each chapter (kernel start included)
and fails the session if one takes longer than ``CHAPTER_BUDGET_S``.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
NOTEBOOKS = ROOT / "_build" / "nbval"
CHAPTER_BUDGET_S = 60.0
# Chapters run small tensors: one thread per kernel avoids oversubscribing the CPU when
# several kernels (nbval workers, the book build) run at once. Inherited by the kernels.
os.environ.setdefault("OMP_NUM_THREADS", "1")
_chapter_seconds: dict[str, float] = defaultdict(float)


def toc_docnames() -> list[str]:
    return re.findall(r"(?:file|root):\s*(\S+)", (ROOT / "_toc.yml").read_text())


def _notebook_file_class():
    """nbval's notebook collector, reading a MyST chapter converted by jupytext.

    The node's path stays the ``.md`` chapter (so ``pytest book/x/y.md`` works and reports
    name the chapter); nbval reads the notebook from ``fspath``, the converted copy.
    """
    import jupytext
    import nbformat
    from _pytest.compat import legacy_path
    from nbval.plugin import IPyNbFile

    class MystNotebookFile(IPyNbFile):
        @property
        def fspath(self):
            docname = self.path.relative_to(ROOT).with_suffix("").as_posix()
            out = NOTEBOOKS / f"{docname}.ipynb"
            if not out.exists() or out.stat().st_mtime < self.path.stat().st_mtime:
                out.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(jupytext.read(self.path), out)
            return legacy_path(out)

    return MystNotebookFile


def pytest_collect_file(file_path: Path, parent):
    if file_path.suffix != ".md" or not file_path.is_relative_to(ROOT / "book"):
        return None
    docname = file_path.relative_to(ROOT).with_suffix("").as_posix()
    if docname not in toc_docnames():
        return None
    return _notebook_file_class().from_parent(parent, path=file_path)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.startswith("book/") and path.endswith(".md"):
        _chapter_seconds[path] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _chapter_seconds:
        return
    terminalreporter.section("chapter execution times (nbval, kernel start included)")
    for path, seconds in sorted(_chapter_seconds.items(), key=lambda kv: -kv[1]):
        flag = "  OVER BUDGET" if seconds > CHAPTER_BUDGET_S else ""
        terminalreporter.write_line(f"{seconds:7.1f} s  {path}{flag}")


def pytest_sessionfinish(session, exitstatus):
    over = [p for p, s in _chapter_seconds.items() if s > CHAPTER_BUDGET_S]
    if over and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
