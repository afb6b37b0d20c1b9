"""Re-read a page built from the other pages' sources whenever one of them changes.

The course page (``book/appendix/course.md``) lists each chapter's exercises, read from the
chapters' ``.md`` files by a code cell when the page is executed. Sphinx re-reads a page
only when its own file changes, and jupyter-cache keys an execution on the page's code
only, so that list would go stale. For every page named in ``pages_reading_chapters``
(``_config.yml``) this extension records every page of the book and ``_toc.yml`` as
dependencies of it: a changed chapter makes Sphinx read the course page again, and its
front matter (``execution_mode: force``) makes myst-nb execute it again.
"""

from __future__ import annotations

from pathlib import Path


def _note_dependencies(app, doctree):
    docname = app.env.docname
    if docname not in app.config.pages_reading_chapters:
        return
    for other in sorted(app.env.found_docs - {docname}):
        app.env.note_dependency(str(app.env.doc2path(other)))
    app.env.note_dependency(str(Path(app.srcdir) / "_toc.yml"))


def setup(app):
    app.add_config_value("pages_reading_chapters", [], "env")
    app.connect("doctree-read", _note_dependencies)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
