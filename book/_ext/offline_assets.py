"""Serve MathJax from the site itself, so that the built book works with no internet.

Sphinx links MathJax 3 from a CDN by default; on a machine without network (a lab, a
train, a USB stick) every equation then shows as raw TeX. This extension

- takes a pinned MathJax (``MATHJAX_VERSION``) from npm's registry once, with
  ``npm pack mathjax@3.2.2`` into ``.venv/mathjax`` (``make book`` does this first; the
  ``MATHJAX_DIR`` environment variable names another folder, holding ``package/``);
- points ``mathjax_path`` at ``_static/mathjax/tex-mml-chtml.js``;
- copies MathJax's ``es5`` folder (the combined component the pages load, and the
  components, TeX extensions and fonts it loads on demand) into ``_static/mathjax`` of
  every HTML build (html, singlehtml, dirhtml).

Nothing else the pages load at start comes from another host: the theme's fonts and icons
are in its static files. Thebe (Live Code, only with ``repository.url``) loads its script
from a CDN when a reader presses the button, and needs Binder anyway.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

from sphinx.errors import ExtensionError
from sphinx.util import logging

MATHJAX_VERSION = "3.2.2"
ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = ROOT / ".venv" / "mathjax"
TARGET = "mathjax"  # under _static
ENTRY = "tex-mml-chtml.js"
# es5's other combined components (tex-svg.js, mml-chtml.js, ...) are alternatives to the
# one the pages load; only the folders are loaded on demand
KEEP_FOLDERS = ("a11y", "adaptors", "input", "output", "sre", "ui")

logger = logging.getLogger(__name__)


def mathjax_dir() -> Path:
    """The folder that holds (or will hold) MathJax's npm package as ``package/``."""
    return Path(os.environ.get("MATHJAX_DIR") or DEFAULT_DIR)


def fetch(base: Path) -> None:
    """``npm pack`` the pinned MathJax into ``base`` and unpack it there."""
    npm = shutil.which("npm")
    if npm is None:
        raise ExtensionError(
            f"MathJax {MATHJAX_VERSION} is not in {base} and npm is not installed: run "
            f"`npm pack mathjax@{MATHJAX_VERSION}` there and unpack it (or set MATHJAX_DIR)"
        )
    base.mkdir(parents=True, exist_ok=True)
    subprocess.run([npm, "pack", "--silent", f"mathjax@{MATHJAX_VERSION}"], cwd=base, check=True, capture_output=True)
    with tarfile.open(base / f"mathjax-{MATHJAX_VERSION}.tgz") as tar:
        tar.extractall(base, filter="data")


def es5_folder() -> Path:
    """MathJax's ``es5`` folder, of the pinned version (fetched if missing)."""
    base = mathjax_dir()
    package = base / "package"
    if not (package / "es5" / ENTRY).is_file():
        logger.info(f"fetching MathJax {MATHJAX_VERSION} with npm into {base}")
        fetch(base)
    version = json.loads((package / "package.json").read_text())["version"]
    if version != MATHJAX_VERSION:
        raise ExtensionError(f"{package} holds MathJax {version}, the book pins {MATHJAX_VERSION}: remove it")
    return package / "es5"


def _configure(app, config):
    config.mathjax_path = f"{TARGET}/{ENTRY}"


def _copy(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    es5 = es5_folder()
    target = Path(app.outdir) / "_static" / TARGET
    stamp = target / ".version"
    if stamp.is_file() and stamp.read_text() == MATHJAX_VERSION:
        return
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copy2(es5 / ENTRY, target / ENTRY)
    for folder in KEEP_FOLDERS:
        if (es5 / folder).is_dir():
            shutil.copytree(es5 / folder, target / folder)
    stamp.write_text(MATHJAX_VERSION)


def _check(app):
    if app.builder.format == "html":
        es5_folder()  # fail early, before reading, when MathJax cannot be had


def setup(app):
    app.connect("config-inited", _configure)
    app.connect("builder-inited", _check)
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
