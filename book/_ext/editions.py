"""The student edition (no solutions) and builds that reuse the main build's executions.

Two environment variables, set by the Makefile's ``book-student`` and ``pdf`` targets:

``LOSSBOOK_EDITION=student``
    Every solution is removed from the site, not collapsed: the ``{solution}`` directives and
    the gated ``{solution-start}`` ... ``{solution-end}`` blocks with all they hold (prose,
    code cells and their outputs). sphinx-exercise's own ``hide_solutions`` drops the
    ``solution-start`` marker but leaves the gated content on the page, so this extension
    removes the merged solution nodes after sphinx-exercise has built them (``doctree-read``).
    The downloadable sources (``_sources/*.md`` and the executed ``*.ipynb``) are stripped
    of the same blocks when the build finishes. The search index is built from the pruned
    pages.

``LOSSBOOK_EXECUTION_CACHE=<folder>``
    myst-nb reads the executed notebooks from this jupyter-cache instead of the one under
    ``--path-output``: a second edition of the book (student, single page for the PDF) then
    reuses the main build's executions and runs no chapter again.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from sphinx_exercise.nodes import solution_end_node, solution_node, solution_start_node

SOLUTION_NODES = (solution_node, solution_start_node, solution_end_node)
FENCE = re.compile(r"^(\s*)(:{3,}|`{3,})\s*$")
OPENING = re.compile(r"^\s*(:{3,}|`{3,})\{(solution|solution-start|solution-end)\}")


def edition() -> str:
    return os.environ.get("LOSSBOOK_EDITION", "full").strip() or "full"


def strip_solutions(lines: list[str], inside: bool = False) -> tuple[list[str], bool]:
    """Drop solution blocks from MyST lines; ``inside`` carries a gated block across cells.

    A ``{solution}`` directive is dropped up to its closing fence; a gated block from its
    ``{solution-start}`` line to the closing fence of its ``{solution-end}``.
    """
    kept: list[str] = []
    closing: str | None = None  # the fence that ends the directive being dropped
    after_end = False
    for line in lines:
        opening = OPENING.match(line)
        if closing is not None:
            fence = FENCE.match(line)
            if fence and fence.group(2) == closing:
                closing = None
                if after_end:
                    inside, after_end = False, False
            continue
        if opening:
            kind, closing = opening.group(2), opening.group(1)
            if kind == "solution-start":
                inside = True
            elif kind == "solution-end":
                after_end = True
            continue
        if not inside:
            kept.append(line)
    return kept, inside


def strip_notebook(notebook: dict) -> dict:
    """The notebook without its solution cells and blocks."""
    cells, inside = [], False
    for cell in notebook.get("cells", []):
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else source
        if cell.get("cell_type") == "markdown":
            kept, inside = strip_solutions(text.splitlines(keepends=True), inside)
            if "".join(kept).strip():
                cell["source"] = "".join(kept)
                cells.append(cell)
        elif not inside:
            cells.append(cell)
    notebook["cells"] = cells
    return notebook


def _configure(app, config):
    cache = os.environ.get("LOSSBOOK_EXECUTION_CACHE")
    if cache:
        config.nb_execution_cache_path = str(Path(cache).resolve())


def _drop_solutions(app, doctree):
    if app.config.book_edition != "student":
        return
    for node in list(doctree.findall(lambda n: isinstance(n, SOLUTION_NODES))):
        node.parent.remove(node)


def _strip_sources(app, exception):
    if exception is not None or app.config.book_edition != "student" or app.builder.format != "html":
        return
    sources = Path(app.outdir) / "_sources"
    for path in sources.rglob("*"):
        if path.suffix == ".ipynb":
            notebook = json.loads(path.read_text(encoding="utf-8"))
            path.write_text(json.dumps(strip_notebook(notebook), indent=1, ensure_ascii=False), encoding="utf-8")
        elif path.suffix in (".md", ".txt"):
            kept, _ = strip_solutions(path.read_text(encoding="utf-8").splitlines(keepends=True))
            path.write_text("".join(kept), encoding="utf-8")


def _singlehtml_handlers(app):
    """Give the single-page builder (the PDF's) the HTML visitors it lacks.

    Sphinx looks up a node's visitors under the builder's name and only falls back to its
    format ("html") when no extension registered any for that name. One does for
    "singlehtml", so myst-nb's nodes (HideCodeCellNode, ...) had none there.
    """
    handlers = app.registry.translation_handlers
    if app.builder.name == "singlehtml" and "singlehtml" in handlers:
        for node, visitors in handlers.get("html", {}).items():
            handlers["singlehtml"].setdefault(node, visitors)


def setup(app):
    app.add_config_value("book_edition", edition(), "env")
    app.connect("config-inited", _configure)
    app.connect("builder-inited", _singlehtml_handlers)
    app.connect("doctree-read", _drop_solutions)
    app.connect("build-finished", _strip_sources)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
