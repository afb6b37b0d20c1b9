"""Run every chapter of the table of contents under nbval.

nbval collects ``.ipynb`` files only; the chapters are MyST Markdown notebooks. This hook
converts each ``.md`` page listed in ``_toc.yml`` with jupytext into ``_build/nbval/``
during collection and hands it to nbval, so a new chapter is tested as soon as it is in
the toc, with no edit to the tests. It also times each chapter (kernel start included)
and fails the session if one takes longer than ``CHAPTER_BUDGET_S``.

Each chapter is executed once per ``make test``: when every cell of a chapter has passed,
its outputs (as nbval received them from the kernel) go into the book build's
jupyter-cache, keyed like the build keys it (the code cells and the kernelspec), so the
strict build that follows renders the chapter from the cache instead of running it again.
"""

from __future__ import annotations

import fcntl
import os
import re
import tempfile
import uuid
import warnings
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
NOTEBOOKS = ROOT / "_build" / "nbval"
CHAPTER_BUDGET_S = 60.0
# A kernel can die while it starts, before it runs any of the chapter's code (seen once in
# CI: "Kernel died before replying to kernel_info", with nbval's TCP ports). The kernels run
# on Unix sockets (see LoggedKernel), and a start that dies anyway is retried; the kernel's
# stderr is kept and reported as a warning, so a retry shows in the test summary. A chapter
# whose code fails is never retried: only the start is.
KERNEL_START_ATTEMPTS = 3
# Chapters run small tensors: one thread per kernel avoids oversubscribing the CPU when
# several kernels (nbval workers, the book build) run at once. Inherited by the kernels.
os.environ.setdefault("OMP_NUM_THREADS", "1")
_chapter_seconds: dict[str, float] = defaultdict(float)
# The book build's execution cache (Jupyter Book's default for `execute_notebooks: cache`).
EXECUTION_CACHE = ROOT / "_build" / ".jupyter_cache"
BUILD_LOCK = ROOT / "_build" / ".build.lock"  # held (exclusive) by a book build of the tests
WRITER_LOCK = ROOT / "_build" / ".jupyter_cache.lock"
_failed_chapters: set[str] = set()


def toc_docnames() -> list[str]:
    return re.findall(r"(?:file|root):\s*(\S+)", (ROOT / "_toc.yml").read_text())


def _write_if_changed(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, and only if the file holds something else.

    Every xdist worker collects every chapter, so two processes convert the same chapter
    at the same time. A plain write truncates the file first, and the other worker can read
    it empty (seen in CI: ``NotJSONError: Notebook does not appear to be JSON: ''``). Writing
    a private temporary file and renaming it over ``path`` means a reader sees either the
    old notebook or the new one, never a partial one.
    """
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _notebook_file_class():
    """nbval's notebook collector, reading a MyST chapter converted by jupytext.

    The node's path stays the ``.md`` chapter (so ``pytest book/x/y.md`` works and reports
    name the chapter); nbval reads the notebook from ``fspath``, the converted copy.
    """
    import jupytext
    import nbformat
    from _pytest.compat import legacy_path
    from jupyter_client.manager import KernelManager
    from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager, RunningKernel
    from nbval.plugin import IPyNbFile

    class LoggedKernel(RunningKernel):
        """nbval's kernel, on Unix sockets, with its stderr written to ``log``.

        nbval's own kernel uses TCP ports that jupyter_client picks by binding port 0 and
        letting go; until the kernel binds them, any other connection on the machine (the
        browser test opens hundreds) may take one, and the kernel then dies on start. Unix
        sockets under a fresh name cannot collide.
        """

        def __init__(self, kernel_name, cwd, startup_timeout, log):
            socket_prefix = os.path.join(tempfile.gettempdir(), f"nbval-{uuid.uuid4().hex[:12]}")
            self.km = KernelManager(
                kernel_name=kernel_name,
                kernel_spec_manager=NbvalKernelspecManager(),
                transport="ipc",
                ip=socket_prefix,
            )
            self.km.start_kernel(stderr=log, cwd=cwd)
            self.kc = self.km.client()
            self.kc.start_channels()
            try:
                self.kc.wait_for_ready(timeout=startup_timeout)
                self._ensure_iopub_up()
            except RuntimeError:
                self.stop()
                raise

    class MystNotebookFile(IPyNbFile):
        @property
        def fspath(self):
            docname = self.path.relative_to(ROOT).with_suffix("").as_posix()
            out = NOTEBOOKS / f"{docname}.ipynb"
            if not getattr(self, "_converted", False):
                _write_if_changed(out, nbformat.writes(jupytext.read(self.path)))
                self._converted = True
            return legacy_path(out)

        def setup(self):
            """Start the kernel as nbval does, retrying a start that dies (see above).

            The kernel is the Python running the tests (the venv's), whatever ``python3``
            kernelspec the user may have installed elsewhere, unless ``--nbval-kernel-name``
            names another.
            """
            kernel_name = self.config.option.nbval_kernel_name or CURRENT_ENV_KERNEL_NAME
            log_path = Path(str(self.fspath)).with_suffix(".kernel.log")
            for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
                with open(log_path, "w") as log:
                    try:
                        self.kernel = LoggedKernel(
                            kernel_name,
                            cwd=str(self.fspath.dirname),
                            startup_timeout=self.config.option.nbval_kernel_startup_timeout,
                            log=log,
                        )
                        break
                    except RuntimeError as error:
                        stderr = log_path.read_text()[-2000:]
                        if attempt == KERNEL_START_ATTEMPTS:
                            raise RuntimeError(f"{error}; kernel stderr:\n{stderr}") from error
                        warnings.warn(
                            f"{self.path.name}: kernel start {attempt}/{KERNEL_START_ATTEMPTS} failed "
                            f"({error}), retrying; kernel stderr:\n{stderr}",
                            stacklevel=1,
                        )
            self.setup_sanitize_files()

    return MystNotebookFile


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    """A chapter's cells share one kernel, so they must stay on one xdist worker.

    ``pytest -n N`` alone spreads single tests over the workers ("load"); switch that to
    "loadfile", which keeps every file (every chapter) on one worker.
    """
    config.addinivalue_line(
        "markers", "slow: a reader's path end to end (Binder/JupyterLab, student edition, PDF); `make test-paths`"
    )
    if getattr(config.option, "dist", "no") == "load":
        config.option.dist = "loadfile"
    if getattr(config.option, "dist", "no") == "loadfile":
        # Hand out files in collection order (see below), not largest-first.
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(config, items):
    """Collect the book's build-and-browser tests first.

    The strict build executes every chapter one after another and is the longest single
    file; started first, it runs on one worker while the other takes the unit tests and
    the chapters, instead of starting last and leaving a worker idle.
    """
    items.sort(key=lambda item: item.nodeid.split("::")[0] != "tests/test_book.py")


def pytest_collect_file(file_path: Path, parent):
    if file_path.suffix != ".md" or not file_path.is_relative_to(ROOT / "book"):
        return None
    docname = file_path.relative_to(ROOT).with_suffix("").as_posix()
    if docname not in toc_docnames():
        return None
    return _notebook_file_class().from_parent(parent, path=file_path)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """After the last cell of a chapter whose cells all passed, cache the executed chapter."""
    outcome = yield
    report = outcome.get_result()
    outputs = getattr(item, "test_outputs", None)
    if report.when not in ("setup", "call") or not hasattr(item, "cell_num"):
        return
    chapter = str(item.parent.path)
    if report.failed or report.skipped or (report.when == "call" and outputs is None):
        _failed_chapters.add(chapter)
        return
    if report.when != "call":
        return
    if _ends_with_semicolon(item.cell.source):
        # nbval runs cells without storing history, and IPython then misses the ";" that
        # hides a cell's value (as the build's own execution would): drop it here
        outputs = [o for o in outputs if o.get("output_type") != "execute_result"]
    item.cell.outputs = outputs
    for output in outputs:
        if output.get("output_type") == "execute_result":
            item.cell.execution_count = output.get("execution_count")
    code_cells = sum(cell.cell_type == "code" for cell in item.parent.nb.cells)
    if item.cell_num == code_cells - 1 and chapter not in _failed_chapters:
        _cache_executed_chapter(item.parent.nb, item.parent.path)


def _ends_with_semicolon(source: str) -> bool:
    """IPython's rule for a quiet cell: its last line of code (comments aside) ends in ";"."""
    import io
    import tokenize

    try:
        tokens = [
            t
            for t in tokenize.generate_tokens(io.StringIO(source).readline)
            if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.ENDMARKER, tokenize.INDENT)
            and t.type != tokenize.DEDENT
        ]
    except (tokenize.TokenError, SyntaxError):
        return False
    return bool(tokens) and tokens[-1].string == ";"


def _cache_executed_chapter(notebook, path: Path) -> None:
    """Put an executed chapter into the build's jupyter-cache: one writer at a time (the
    xdist workers share the cache's database), and none while a book build holds
    ``BUILD_LOCK`` (a plain ``pytest`` runs the build beside nbval; the build then executes
    what it does not find, and the chapter is simply not cached)."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    EXECUTION_CACHE.parent.mkdir(parents=True, exist_ok=True)
    with open(BUILD_LOCK, "a") as build, open(WRITER_LOCK, "a") as writer:
        try:
            fcntl.flock(build, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return
        fcntl.flock(writer, fcntl.LOCK_EX)
        bundle = CacheBundleIn(nb=notebook, uri=str(path), data={"executed_by": "nbval"})
        get_cache(str(EXECUTION_CACHE)).cache_notebook_bundle(bundle, check_validity=False, overwrite=True)


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
