"""Binder's path, followed as repo2docker follows it, on this machine.

repo2docker builds a Binder image from the repository in three steps that matter here:
``pip install -r requirements.txt`` in a fresh environment, ``postBuild``, then
``jupyter lab``. This test does the same: a fresh virtual environment from
``requirements.txt`` alone (pip may use its cache and this machine's wheel index, as the
Makefile's install does, but no other requirement file), ``postBuild`` with that
environment's ``python`` first on ``PATH``, and ``jupyter lab`` on localhost (a free port,
a token, its own config, data and runtime folders). Headless Chromium (Debian's) then opens
a chapter's ``.md`` as a reader would and checks that

- it opens as a notebook (cells, not a text editor): jupytext's viewer, set by postBuild;
- MyST renders in its markdown cells (jupyterlab-myst): an admonition is drawn as one, and
  the maths is typeset, not shown as ``:::{note}`` or ``$...$`` text;
- "Run All Cells" from the Run menu runs every cell with no error output, and the figures
  are there.

Slow (a few minutes: the environment is installed from scratch), so ``make test-paths``
runs it, not ``make test``.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# a stable chapter with figures, admonitions, maths and proofs
CHAPTER = "book/classification/hinge.md"

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(command: list[str], env: dict, log: Path, timeout: float) -> None:
    with open(log, "a") as handle:
        handle.write(f"\n$ {' '.join(command)}\n")
        handle.flush()
        proc = subprocess.run(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(command)} failed:\n{log.read_text()[-4000:]}"


def binder_environment(folder: Path) -> tuple[Path, dict]:
    """A fresh venv with requirements.txt installed and postBuild run, as repo2docker does."""
    venv = folder / "venv"
    log = folder / "install.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH", "JUPYTER"))}
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    # repo2docker's environment variable for the environment's prefix, read by postBuild
    env["NB_PYTHON_PREFIX"] = str(venv)
    python = str(venv / "bin" / "python")
    _run([python, "-m", "pip", "install", "--quiet", "-r", "requirements.txt"], env, log, timeout=1800)
    _run(["bash", "postBuild"], env, log, timeout=600)
    return venv, env


# the reader's JupyterLab settings of this run: no autosave (the chapter is run, never
# written back), no news pop-up over the notebook, and every cell in the page (JupyterLab 4
# renders only the cells near the viewport by default, and the test reads them all)
USER_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": '{"windowingMode": "none"}',
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": '{"autosave": false}',
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": (
        '{"fetchNews": "false", "checkForUpdates": false}'
    ),
}


def start_lab(venv: Path, env: dict, folder: Path):
    """``jupyter lab`` on a free localhost port with a token; returns (process, base URL, token, log).

    The server's root is a copy of the chapter in ``folder`` (the same path under it as in
    the repository), so that nothing the browser does can write to the repository, where
    other work may be going on.
    """
    port, token = _free_port(), secrets.token_hex(16)
    root = folder / "repository"
    (root / CHAPTER).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / CHAPTER, root / CHAPTER)
    for name, text in USER_SETTINGS.items():
        (folder / "lab-user-settings" / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / "lab-user-settings" / name).write_text(text)
    lab_env = dict(env)
    for name, sub in (
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("JUPYTERLAB_SETTINGS_DIR", "lab-user-settings"),
        ("JUPYTERLAB_WORKSPACES_DIR", "lab-workspaces"),
        ("IPYTHONDIR", "ipython"),
    ):
        (folder / sub).mkdir(parents=True, exist_ok=True)
        lab_env[name] = str(folder / sub)
    lab_env["OMP_NUM_THREADS"] = "1"
    log = open(folder / "lab.log", "w")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(
        [
            str(venv / "bin" / "jupyter"),
            "lab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            *(["--allow-root"] if os.geteuid() == 0 else []),  # Binder's user is not root; a CI container may be
        ],
        cwd=root,
        env=lab_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, (folder / "lab.log").read_text()[-4000:]
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        process.terminate()
        raise AssertionError("jupyter lab did not start:\n" + (folder / "lab.log").read_text()[-4000:])
    return process, base, token, log


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    folder = tmp_path_factory.mktemp("binder")
    started = time.monotonic()
    venv, env = binder_environment(folder)
    installed = time.monotonic()
    process, base, token, log = start_lab(venv, env, folder)
    print(f"binder environment: install {installed - started:.0f} s, lab start {time.monotonic() - installed:.0f} s")
    yield base, token, folder
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: apt-get install chromium"
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def code_cells_of_the_chapter() -> int:
    return len(re.findall(r"^```\{code-cell\}", (ROOT / CHAPTER).read_text(), re.M))


def open_chapter(browser, base: str, token: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/lab/tree/{CHAPTER}?token={token}", wait_until="load", timeout=120_000)
    # the notebook's cells are rendered in batches: wait until the code cells are there
    page.wait_for_function(
        f"() => document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell').length >= {code_cells_of_the_chapter()}"
        " || document.querySelector('.jp-FileEditor')",
        timeout=120_000,
    )
    return context, page, errors


def run_all_cells(page, timeout_s: float = 300) -> None:
    """Run > Run All Cells, then wait until every code cell has an execution count."""
    # the kernel must be up before the cells are sent: the status bar says "Idle"
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-StatusBar-TextItem')].some(t => /Idle/.test(t.textContent))",
        timeout=120_000,
    )
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    page.wait_for_function(
        """() => {
          const prompts = [...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputPrompt')];
          return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
        }""",
        timeout=timeout_s * 1000,
    )


def test_chapter_opens_as_a_notebook_with_myst_rendered_and_runs(lab, browser):
    base, token, folder = lab
    context, page, errors = open_chapter(browser, base, token)
    try:
        assert page.locator(".jp-NotebookPanel").count() == 1, "the chapter did not open as a notebook"
        assert page.locator(".jp-FileEditor").count() == 0, "the chapter opened in the text editor"
        cells = page.locator(".jp-NotebookPanel .jp-Cell")
        code_cells = page.locator(".jp-NotebookPanel .jp-CodeCell")
        assert code_cells.count() == code_cells_of_the_chapter(), "not every code cell is in the notebook"
        assert page.locator(".jp-NotebookPanel .jp-MarkdownCell").count() > 3
        print(f"{cells.count()} cells, {code_cells.count()} code cells")

        # jupyterlab-myst draws MyST directives; the notebook is not rendered as plain markdown
        page.wait_for_selector(".jp-NotebookPanel .jp-MarkdownCell .myst-admonition", timeout=60_000)
        text = "\n".join(page.locator(".jp-NotebookPanel .jp-MarkdownCell").all_inner_texts())
        assert ":::{" not in text and "{prf:" not in text, "a MyST directive shows as text"
        assert page.locator(".jp-NotebookPanel .jp-MarkdownCell .katex").count() > 10, "maths not typeset"

        started = time.monotonic()
        run_all_cells(page)
        print(f"Run All Cells: {time.monotonic() - started:.0f} s")
        errors_out = page.locator(
            ".jp-NotebookPanel .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'], "
            ".jp-NotebookPanel .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']"
        )
        assert errors_out.count() == 0, "error output:\n" + "\n".join(errors_out.all_inner_texts())[:3000]
        figures = page.locator(".jp-NotebookPanel .jp-OutputArea-output img, .jp-NotebookPanel .jp-RenderedImage img")
        assert figures.count() >= 3, f"{figures.count()} figures in the outputs"
        page.screenshot(path=str(folder / "lab.png"))
        assert not errors, errors[:5]
    finally:
        context.close()
