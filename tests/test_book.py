"""The book as a whole: toc and files agree, the strict build has zero warnings, and a real
headless Chromium finds every page of the built site sound."""

from __future__ import annotations

import fcntl
import functools
import http.server
import re
import shutil
import subprocess
import sys
import threading
import warnings
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
# the page photographed in light and dark mode for a person to look at
SCREENSHOT_PAGE = "book/classification/hinge"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def toc_docnames() -> list[str]:
    return re.findall(r"(?:file|root):\s*(\S+)", (ROOT / "_toc.yml").read_text())


def test_every_toc_entry_has_a_file_and_every_page_is_in_the_toc():
    docs = toc_docnames()
    assert len(docs) == len(set(docs)), "a page is listed twice"
    for doc in docs:
        assert (ROOT / f"{doc}.md").is_file(), f"{doc} is in _toc.yml but {doc}.md does not exist"
    pages = {
        p.relative_to(ROOT).with_suffix("").as_posix()
        for p in (ROOT / "book").rglob("*.md")
        if ".ipynb_checkpoints" not in p.parts  # JupyterLab's copies (make lab) are no pages
    }
    assert pages == set(docs), f"pages not in the toc: {sorted(pages - set(docs))}"


def test_no_chapter_is_a_placeholder():
    for doc in toc_docnames():
        assert "PLACEHOLDER-CHAPTER" not in (ROOT / f"{doc}.md").read_text(), doc


# A kernel that dies while it starts (seen once, under nbval) is the machine's fault, not the
# chapter's: then the build runs once more, from scratch but for the execution cache, so the
# log that the tests read is a complete build and a chapter that fails for real fails twice.
KERNEL_DIED = re.compile(r"DeadKernelError|Kernel died")


def _strict_build() -> subprocess.CompletedProcess:
    """The strict build; while it runs it holds ``_build/.build.lock``, so that nbval (in a
    ``pytest`` that runs both) writes nothing into the execution cache it reads."""
    jb = Path(sys.executable).with_name("jupyter-book")
    (ROOT / "_build").mkdir(exist_ok=True)
    with open(ROOT / "_build" / ".build.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return subprocess.run(
            [str(jb), "build", str(ROOT), "-W", "-n", "--keep-going"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=1800,
        )


@pytest.fixture(scope="session")
def build_log() -> str:
    """Build the site once per session, strictly: -W -n --keep-going."""
    proc = _strict_build()
    log = proc.stdout + proc.stderr
    if proc.returncode != 0 and KERNEL_DIED.search(log):
        evidence = [line for line in log.splitlines() if KERNEL_DIED.search(line) or "notebook failed" in line]
        warnings.warn("a kernel died during the book build; building again:\n" + "\n".join(evidence[:10]), stacklevel=1)
        for stale in ("html", ".doctrees"):
            shutil.rmtree(ROOT / "_build" / stale, ignore_errors=True)
        proc = _strict_build()
        log = proc.stdout + proc.stderr
    (ROOT / "_build" / "last-build.log").write_text(log)
    assert proc.returncode == 0, log[-6000:]
    return log


@pytest.mark.book
def test_strict_build_has_zero_warnings(build_log):
    warnings = [line for line in build_log.splitlines() if re.search(r"(WARNING|ERROR|CRITICAL):", line)]
    assert not warnings, "\n".join(warnings[:40])
    for doc in toc_docnames():
        assert (HTML / f"{doc}.html").is_file()


@pytest.mark.book
def test_download_button_offers_the_notebook(build_log):
    page = (HTML / "book" / "foundations" / "likelihood.html").read_text()
    assert ".ipynb" in page, "the download menu should offer the .ipynb"


@pytest.mark.book
def test_buttons_of_the_build_follow_the_repository_setting(build_log):
    """The pages of this build have the repository and launch buttons of `repository.url`."""
    from test_links import button_problems, configured_url, is_notebook

    url = configured_url()
    docs = toc_docnames()
    problems = []
    for doc in docs:
        problems += [f"{doc}: {p}" for p in button_problems(HTML / f"{doc}.html", url, is_notebook(doc))]
    assert not problems, "\n".join(problems[:40])


# --------------------------------------------------------------------------- browser


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def site(build_log):
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: apt-get install chromium"
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


def _route(route, site: str, blocked: list[str]):
    """The site works offline: a request to any other host is blocked, and is a failure."""
    url = route.request.url
    if url.startswith(site) or url.startswith("data:"):
        return route.continue_()
    blocked.append(url)
    return route.abort()


def _check_page(browser, site: str, doc: str, screenshot: Path | None = None, **context_options):
    """Open one page; return (problems, internal links). Save a full-page screenshot if asked."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    errors: list[str] = []
    blocked: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"JS error: {exc}"))
    page.on(
        "console",
        lambda msg: errors.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None,
    )
    page.route("**/*", lambda route: _route(route, site, blocked))
    url = urljoin(site, f"{doc}.html")
    response = page.goto(url, wait_until="load")
    problems = [] if response and response.ok else [f"HTTP {response and response.status} for {url}"]
    if page.evaluate("() => !!document.querySelector('script[src*=\"mathjax\"]')"):
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20000)
        page.evaluate("() => MathJax.startup.promise")
    page.wait_for_load_state("networkidle", timeout=60_000)  # a loaded machine can be slow to serve
    # requests to other hosts are aborted and reported below; ignore their echoes
    problems += [e for e in errors if "net::ERR_FAILED" not in e]
    problems += [f"request to another host (the site must work offline): {url}" for url in blocked]
    raw = page.evaluate(
        """() => [...document.querySelectorAll('.math, span.math, div.math')]
                 .filter(el => !el.querySelector('mjx-container'))
                 .map(el => el.textContent.slice(0, 80))"""
    )
    problems += [f"math not rendered: {t!r}" for t in raw]
    prose = page.evaluate(
        """() => [...document.querySelectorAll('article p, article li, article td')]
                 .filter(el => !el.closest('pre, code, .cell_output, mjx-container'))
                 .map(el => el.innerText).join('\\n')"""
    )
    for pattern in (r"\$\$", r"\\begin\{", r"(?<![\w$])\$[^$\n]{1,80}\\[a-zA-Z]+[^$\n]*\$"):
        for match in re.findall(pattern, prose):
            problems.append(f"raw TeX left in the text: {match[:80]!r}")
    images = page.evaluate(
        """() => [...document.querySelectorAll('article img')].map(img => ({
                 src: img.getAttribute('src'), ok: img.complete && img.naturalWidth > 0,
                 alt: (img.getAttribute('alt') || '').trim(),
                 caption: !!img.closest('figure')?.querySelector('figcaption')}))"""
    )
    for img in images:
        if not img["ok"]:
            problems.append(f"image not loaded: {img['src']}")
        if not (img["alt"] or img["caption"]):
            problems.append(f"image without alt text or caption: {img['src']}")
    links = page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)")
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot), full_page=False)
        theme = page.evaluate("() => document.documentElement.dataset.theme")
        expected = context_options.get("color_scheme", "light")
        if theme != expected:
            problems.append(f"the page shows the {theme} theme, the browser asked for {expected}")
    context.close()
    return problems, [link for link in links if link.startswith(site)]


def _link_target_exists(site: str, link: str) -> bool:
    parts = urlsplit(link[len(site) - 1 :] if link.startswith(site) else link)
    path = HTML / unquote(parts.path).lstrip("/")
    if path.is_dir():
        path = path / "index.html"
    if not path.is_file():
        return False
    if parts.fragment and path.suffix == ".html":
        text = path.read_text(errors="ignore")
        return re.search(rf'id="{re.escape(unquote(parts.fragment))}"', text) is not None
    return True


@pytest.mark.book
def test_every_page_renders_in_chromium(browser, site):
    problems: dict[str, list[str]] = {}
    links: set[str] = set()
    for doc in toc_docnames():
        page_problems, page_links = _check_page(browser, site, doc)
        if page_problems:
            problems[doc] = page_problems
        links.update(page_links)
    broken = sorted(link for link in links if not _link_target_exists(site, link))
    if broken:
        problems["internal links"] = [f"broken: {link}" for link in broken]
    assert not problems, "\n".join(f"{doc}: {p}" for doc, ps in problems.items() for p in ps[:10])
    assert len(links) > 10


@pytest.mark.book
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshot_in_light_and_dark_mode(browser, site, scheme):
    """One page photographed in each theme (default_mode: auto follows the browser's scheme)."""
    shot = SCREENSHOTS / f"{SCREENSHOT_PAGE.rsplit('/', 1)[-1]}-{scheme}.png"
    shot.unlink(missing_ok=True)
    problems, _ = _check_page(
        browser, site, SCREENSHOT_PAGE, screenshot=shot, color_scheme=scheme, viewport={"width": 1280, "height": 1600}
    )
    assert not problems, "\n".join(problems[:10])
    assert shot.is_file() and shot.stat().st_size > 10_000


@pytest.mark.book
def test_no_page_loads_a_script_from_another_host(build_log):
    """The built pages load MathJax from the site, pinned (book/_ext/offline_assets.py)."""
    pinned = re.search(r'MATHJAX_VERSION = "([^"]+)"', (ROOT / "book" / "_ext" / "offline_assets.py").read_text())
    assert pinned and (HTML / "_static" / "mathjax" / ".version").read_text() == pinned.group(1)
    assert (HTML / "_static" / "mathjax" / "tex-mml-chtml.js").is_file()
    for doc in toc_docnames():
        page = (HTML / f"{doc}.html").read_text()
        assets = re.findall(r'<script[^>]*\ssrc="([^"]+)"', page)
        assets += [
            href
            for tag in re.findall(r"<link\b[^>]*>", page)
            if re.search(r'rel="(stylesheet|preload|modulepreload)"', tag)
            for href in re.findall(r'href="([^"]+)"', tag)
        ]
        remote = [src for src in assets if "://" in src or src.startswith("//")]
        assert not remote, f"{doc} loads {remote}"


def test_environment_is_offline_safe():
    """No chapter may download anything: no URLs fetched from code cells."""
    bad = re.compile(r"(urlopen|requests\.get|urlretrieve|torchvision\.datasets|load_dataset|hf_hub|download=True)")
    for doc in toc_docnames():
        text = (ROOT / f"{doc}.md").read_text()
        assert not bad.search(text), f"{doc} downloads data"
