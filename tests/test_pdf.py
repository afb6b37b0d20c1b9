"""The PDF of the whole book (``make pdf``): pages, every chapter, contents, no raw TeX.

``make pdf`` builds the single-page edition from the main build's execution cache and
prints it with Debian's Chromium once MathJax has typeset it (book/_ext/print_pdf.py, which
itself fails on any formula left untypeset, image not loaded or request to another host).
This test reads the PDF back with pypdf.

Slow, so ``make test-paths`` runs it, not ``make test``.
"""

from __future__ import annotations

import re
import subprocess
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PDF = ROOT / "_build" / "pdf" / "loss-functions-primer.pdf"
SINGLE_PAGE = ROOT / "_build" / ".pdf" / "_build" / "singlehtml"
# what MathJax would have replaced: Sphinx's maths delimiters and display environments,
# and common TeX commands; a hit inside a code listing (a docstring, a plot label) is code
RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{|\\end\{|\\frac\{|\\mathbf\{|\\operatorname\{")

pytestmark = pytest.mark.slow


def toc_docnames() -> list[str]:
    return re.findall(r"(?:file|root):\s*(\S+)", (ROOT / "_toc.yml").read_text())


def chapter_title(doc: str) -> str:
    return re.search(r"^# (.+)$", (ROOT / f"{doc}.md").read_text(), re.M).group(1).strip()


def _norm(text: str) -> str:
    """Letters and digits only (NFKC: the PDF's text has ligatures such as "fi")."""
    return re.sub(r"[^0-9a-z]+", "", unicodedata.normalize("NFKC", text).lower())


def _squash(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def code_listings() -> str:
    """The text of every code block of the printed page, without whitespace."""
    from bs4 import BeautifulSoup

    listings = []
    for page in SINGLE_PAGE.rglob("*.html"):
        if not page.name.startswith("_"):
            soup = BeautifulSoup(page.read_text(), "html.parser")
            listings += [_squash(pre.get_text()) for pre in soup.select("pre")]
    return "\n".join(listings)


@pytest.fixture(scope="module")
def build_log() -> str:
    proc = subprocess.run(["make", "-s", "pdf"], cwd=ROOT, capture_output=True, text=True, timeout=3600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-6000:]
    return log


@pytest.fixture(scope="module")
def reader(build_log):
    from pypdf import PdfReader

    assert PDF.is_file()
    return PdfReader(str(PDF))


@pytest.fixture(scope="module")
def pages_text(reader) -> list[str]:
    return [page.extract_text() or "" for page in reader.pages]


def test_page_count(reader):
    docs = toc_docnames()
    assert len(reader.pages) >= 5 * len(docs), f"{len(reader.pages)} pages for {len(docs)} pages of the site"


def test_every_chapter_title_is_in_the_pdf(pages_text):
    text = _norm(" ".join(pages_text))
    missing = [doc for doc in toc_docnames() if _norm(chapter_title(doc)) not in text]
    assert not missing, f"chapter titles not in the PDF: {missing}"


def test_contents_list_every_chapter_with_its_page(reader, pages_text):
    labels = reader.page_labels
    front = labels.index("1")
    assert front >= 1 and "Contents" in " ".join(pages_text[:front])
    contents = unicodedata.normalize("NFKC", " ".join(pages_text[:front]))
    for doc in toc_docnames():
        title = chapter_title(doc)
        entry = re.search(re.escape(title[:40]).replace(r"\ ", r"\s+") + r".*?\s(\d+)(?:\s|$)", contents, re.S)
        assert entry, f"{title!r} is not in the table of contents"
        page = int(entry.group(1))
        body = _norm(pages_text[front + page - 1])
        assert _norm(title)[:30] in body, f"the contents send {title!r} to page {page}, which does not hold it"


def test_pages_are_numbered(reader, pages_text):
    labels = reader.page_labels
    front = labels.index("1")
    for index in range(front, len(pages_text), max(1, (len(pages_text) - front) // 15)):
        number = labels[index]
        lines = [line.strip() for line in pages_text[index].splitlines() if line.strip()]
        assert number in lines[-3:] + lines[:1], f"page {index}: footer number {number} not found in {lines[-3:]}"


def test_bookmarks_hold_every_chapter(reader):
    titles: list[str] = []

    def walk(nodes):
        for node in nodes:
            walk(node) if isinstance(node, list) else titles.append(_norm(str(node.title)))

    walk(reader.outline)
    missing = [doc for doc in toc_docnames() if not any(_norm(chapter_title(doc)) in t for t in titles)]
    assert not missing, f"no bookmark for {missing}"


def test_no_raw_tex_in_the_text(pages_text):
    code = code_listings()
    assert code, "the single-page build the PDF was printed from is missing"
    hits = []
    for index, text in enumerate(pages_text):
        for line in text.splitlines():
            if RAW_TEX.search(line) and _squash(line) not in code:
                hits.append(f"page {index + 1}: {line.strip()[:100]}")
    assert not hits, "raw TeX in the PDF's text:\n" + "\n".join(hits[:20])
