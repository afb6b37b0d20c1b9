"""Show the repository, issues and launch buttons only when the book knows its repository.

``repository.url`` in ``_config.yml`` is the one setting (see the README, *Publishing the
book*). It is empty by default: a clone, a fork or CI does not know where the book is
published, and a button to an invented address leads nowhere. So:

- with a URL (``https://github.com/<owner>/<repo>``, or GitLab / Bitbucket), every page gets
  the repository and issues buttons, and every chapter the launch buttons of
  ``launch_buttons`` (Binder, Live Code with Thebe), all pointing to that repository;
- without one, the build leaves all of them out. Jupyter Book 1 refuses the repository
  buttons without a URL and sphinx-book-theme's launch buttons fail without one, so
  ``_config.yml`` keeps ``use_repository_button`` / ``use_issues_button`` false and this
  extension switches them on (``config-inited``) only when the URL is there.

Jupyter Book fills a missing ``repository.url`` with its own repository's address; that
counts as no URL too.

sphinx-book-theme puts a chapter's executed ``.ipynb`` in its download menu only while it
builds the launch buttons. Without them, ``_offer_notebook`` does the same, so the download
menu offers the notebook either way.
"""

from __future__ import annotations

from pathlib import Path
from shutil import copy2

from sphinx.errors import ConfigError

JUPYTER_BOOK_DEFAULT_URL = "https://github.com/executablebooks/jupyter-book"
REPOSITORY_BUTTONS = ("use_repository_button", "use_issues_button")
UNSUPPORTED_WITHOUT_URL = ("use_edit_page_button", "use_source_button")


def repository_url(theme_options: dict) -> str:
    """The book's repository URL from the theme options, or "" when it has none."""
    url = str(theme_options.get("repository_url") or "").strip().rstrip("/")
    return "" if url == JUPYTER_BOOK_DEFAULT_URL else url


def _configure(app, config):
    options = dict(config.html_theme_options)
    url = repository_url(options)
    if url:
        if not url.startswith("https://"):
            raise ConfigError(f"repository.url must be an https:// address of the repository, got {url!r}")
        options["repository_url"] = url
        options.update(dict.fromkeys(REPOSITORY_BUTTONS, True))
    else:
        options.pop("repository_url", None)
        options.update(dict.fromkeys(REPOSITORY_BUTTONS + UNSUPPORTED_WITHOUT_URL, False))
        options.pop("launch_buttons", None)
    config.html_theme_options = options


def _offer_notebook(app, pagename, templatename, context, doctree):
    """Put the executed notebook in the download menu when there are no launch buttons."""
    if app.config.html_theme_options.get("launch_buttons") or not context.get("sourcename", "").endswith(".md"):
        return
    if "kernelspec" not in app.env.metadata.get(pagename, {}):
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.is_file():
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    copy2(executed, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def setup(app):
    app.connect("config-inited", _configure)
    # before sphinx-book-theme's header buttons (priority 501), which read ipynb_source
    app.connect("html-page-context", _offer_notebook, priority=500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
