"""Links a reader follows: the repository and launch buttons, and the bibliography.

- Every entry of ``book/references.bib`` carries an identifier the bibliography links (a DOI,
  an arXiv id, or an https URL of the publisher or author; an ISBN only in addition), each
  well-formed; every key the book cites is defined and every entry is cited.
- The repository, issues and launch (Binder, Live Code) buttons follow ``repository.url`` of
  ``_config.yml`` (``book/_ext/repository_buttons.py``): with a URL they point to it, without
  one there are none. A small build (three pages, execution off, into a temporary folder, a
  few seconds) checks a URL, and the case without one when ``_config.yml`` sets a URL;
  ``tests/test_book.py`` checks the pages of the main build against the setting it was built
  with (in the repository: no URL, no buttons).
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from pybtex.database import parse_file

ROOT = Path(__file__).resolve().parents[1]
BIB = ROOT / "book" / "references.bib"
TEST_REPOSITORY = "https://github.com/example-owner/example-book"

DOI = re.compile(r"10\.\d{4,9}/\S+")
ARXIV_ID = re.compile(r"\d{4}\.\d{4,5}(v\d+)?|[a-z-]+(\.[A-Z]{2})?/\d{7}(v\d+)?")
# MyST roles in the chapters ({cite:p}`a,b`), reST roles in losslib's docstrings (the API
# appendix renders them), and the catalogue's cite="key" (the intro's table renders it)
MYST_CITE = re.compile(r"\{cite(?::\w+)?\}`([^`]*)`")
REST_CITE = re.compile(r":cite(?::\w+)?:`([^`]*)`")
CATALOGUE_CITE = re.compile(r"""\bcite\s*=\s*["']([^"']+)["']""")


# --------------------------------------------------------------------------- bibliography


def bibliography():
    return parse_file(str(BIB), bib_format="bibtex").entries


ENTRIES = bibliography()


def identifier_problems(key: str, fields) -> list[str]:
    """What is wrong with the identifiers of one entry (nothing: an empty list)."""
    problems = []
    doi, eprint, url, isbn = (fields.get(name, "").strip() for name in ("doi", "eprint", "url", "isbn"))
    if not (doi or eprint or url):
        problems.append("no doi, eprint (arXiv) or url: the bibliography cannot link it")
    if doi and not DOI.fullmatch(doi):
        problems.append(f"doi {doi!r} is not of the form 10.NNNN/suffix (no https://doi.org/ prefix)")
    if eprint:
        if not ARXIV_ID.fullmatch(eprint):
            problems.append(f"eprint {eprint!r} is not an arXiv id (2101.01234, or archive/0101001)")
        if fields.get("archiveprefix", "").lower() != "arxiv":
            problems.append("eprint without archiveprefix = {arXiv} (the style links every eprint to arXiv)")
    if url:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.netloc or re.search(r"\s", url):
            problems.append(f"url {url!r} is not an https:// address")
    if isbn and not _isbn_ok(isbn):
        problems.append(f"isbn {isbn!r} has a wrong length or check digit")
    return [f"{key}: {p}" for p in problems]


def _isbn_ok(isbn: str) -> bool:
    digits = isbn.replace("-", "").replace(" ", "").upper()
    if re.fullmatch(r"\d{13}", digits):
        return sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10 == 0
    if re.fullmatch(r"\d{9}[\dX]", digits):
        return sum((10 - i) * (10 if d == "X" else int(d)) for i, d in enumerate(digits)) % 11 == 0
    return False


def expected_links(fields) -> set[str]:
    """The addresses sphinxcontrib-bibtex's plain style makes of an entry's identifiers."""
    links = set()
    if fields.get("doi"):
        links.add("https://doi.org/" + fields["doi"])
    if fields.get("eprint"):
        links.add("https://arxiv.org/abs/" + fields["eprint"])
    if fields.get("url"):
        links.add(fields["url"])
    return links


def cited_keys() -> dict[str, set[str]]:
    """Every key cited in the book's pages and in losslib (docstrings, catalogue), by file."""
    cited: dict[str, set[str]] = {}
    sources = [*sorted((ROOT / "book").rglob("*.md")), *sorted((ROOT / "losslib").glob("*.py"))]
    for path in sources:
        text = path.read_text(encoding="utf-8")
        groups = MYST_CITE.findall(text) + REST_CITE.findall(text) + CATALOGUE_CITE.findall(text)
        for group in groups:
            for key in group.split(","):
                if key.strip():
                    cited.setdefault(key.strip(), set()).add(path.relative_to(ROOT).as_posix())
    return cited


def test_the_bibliography_has_entries():
    assert len(ENTRIES) >= 50


@pytest.mark.parametrize("key", list(ENTRIES), ids=list(ENTRIES))
def test_entry_has_a_well_formed_identifier(key):
    problems = identifier_problems(key, ENTRIES[key].fields)
    assert not problems, "\n".join(problems)


def test_identifier_checks_reject_malformed_ones():
    bad = {
        "doi": "https://doi.org/10.1000/x",
        "eprint": "arXiv:1706.03762",
        "url": "http://example.org/paper",
        "isbn": "978-0-471-03003-5",
    }
    assert len(identifier_problems("bad", bad)) == 5  # four malformed fields, eprint without prefix
    assert identifier_problems("none", {"title": "A paper"}) == [
        "none: no doi, eprint (arXiv) or url: the bibliography cannot link it"
    ]
    good = {
        "doi": "10.1175/1520-0493(1950)078<0001:VOFEIT>2.0.CO;2",
        "eprint": "hep-th/9901001",
        "archiveprefix": "arXiv",
        "url": "https://example.org/a",
        "isbn": "978-0-471-03003-4",
    }
    assert identifier_problems("good", good) == []


def test_no_two_entries_share_an_identifier():
    owners: dict[str, list[str]] = {}
    for key, entry in ENTRIES.items():
        for link in expected_links(entry.fields):
            owners.setdefault(link.lower().rstrip("/"), []).append(key)
    shared = {link: keys for link, keys in owners.items() if len(keys) > 1}
    assert not shared, f"one identifier on several entries (a copy-paste slip?): {shared}"


def test_every_cited_key_is_defined():
    undefined = {key: sorted(files) for key, files in cited_keys().items() if key not in ENTRIES}
    assert not undefined, f"cited but not in book/references.bib: {undefined}"


def test_every_entry_is_cited():
    uncited = sorted(set(ENTRIES) - set(cited_keys()))
    assert not uncited, f"in book/references.bib but cited nowhere in book/ or losslib/: {uncited}"


# --------------------------------------------------------------------------- small builds


def _small_build(out: Path, url: str) -> Path:
    """Build the intro, the first chapter and the bibliography, execution off, into ``out``."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["repository"]["url"] = url
    config["execute"]["execute_notebooks"] = "off"
    # local extensions are found relative to the config file, which lives in `out`
    extensions = config["sphinx"]["local_extensions"]
    config["sphinx"]["local_extensions"] = {name: str(ROOT / path) for name, path in extensions.items()}
    out.mkdir(parents=True, exist_ok=True)
    (out / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    docs = toc_docnames()
    chapter = next(doc for doc in docs[1:] if "/appendix/" not in doc)
    (out / "_toc.yml").write_text(
        f"format: jb-book\nroot: {docs[0]}\nchapters:\n  - file: {chapter}\n  - file: book/appendix/bibliography\n"
    )
    jb = Path(sys.executable).with_name("jupyter-book")
    command = [str(jb), "build", str(ROOT), "--config", str(out / "_config.yml"), "--toc", str(out / "_toc.yml")]
    proc = subprocess.run([*command, "--path-output", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return out / "_build" / "html"


def toc_docnames() -> list[str]:
    return re.findall(r"(?:file|root):\s*(\S+)", (ROOT / "_toc.yml").read_text())


@pytest.fixture(scope="module")
def small_site(tmp_path_factory):
    """``small_site(url)``: the HTML folder of the small build with that repository.url."""
    built: dict[str, Path] = {}

    def build(url: str) -> Path:
        if url not in built:
            built[url] = _small_build(tmp_path_factory.mktemp("with-url" if url else "without-url"), url)
        return built[url]

    return build


class _Buttons(HTMLParser):
    """The page's buttons (elements whose class has "btn"), and its thebe configuration."""

    def __init__(self):
        super().__init__()
        self.buttons: list[dict[str, str]] = []
        self.hrefs: list[str] = []
        self._in_thebe = False
        self.thebe = ""

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(html.unescape(attrs["href"]))
        if tag in ("a", "button") and "btn" in attrs.get("class", "").split():
            self.buttons.append({"tag": tag, "class": attrs.get("class", ""), "href": attrs.get("href", "")})
        self._in_thebe = tag == "script" and attrs.get("type") == "text/x-thebe-config"

    def handle_data(self, data):
        if self._in_thebe:
            self.thebe += data

    def handle_endtag(self, tag):
        self._in_thebe = False


def page_buttons(path: Path) -> _Buttons:
    parser = _Buttons()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "mybinder.org")


def button_problems(page: Path, url: str, notebook: bool) -> list[str]:
    """How the page's repository, issues and launch buttons disagree with ``url`` ("" = none)."""
    parsed = page_buttons(page)
    by_class = {
        name: [b for b in parsed.buttons if name in b["class"].split()]
        for name in (
            "btn-source-repository-button",
            "btn-source-issues-button",
            "btn-source-edit-button",
            "btn-launch-thebe",
            "btn-download-notebook-button",
        )
    }
    binder = [b for b in parsed.buttons if "mybinder.org" in b["href"]]
    to_hosts = [b["href"] for b in parsed.buttons if urlsplit(b["href"]).netloc.endswith(HOSTS)]
    problems = []
    if notebook and not by_class["btn-download-notebook-button"]:
        problems.append("the download menu does not offer the notebook (.ipynb)")
    if not url:
        for name in (
            "btn-source-repository-button",
            "btn-source-issues-button",
            "btn-source-edit-button",
            "btn-launch-thebe",
        ):
            if by_class[name]:
                problems.append(f"a {name} without repository.url")
        problems += [f"a button links {href} without repository.url" for href in to_hosts]
        return problems
    owner_repo = urlsplit(url).path.strip("/")
    repository = by_class["btn-source-repository-button"]
    if [b["href"] for b in repository] != [url]:
        problems.append(f"repository button: {[b['href'] for b in repository]}, expected [{url!r}]")
    issues = by_class["btn-source-issues-button"]
    if len(issues) != 1 or not issues[0]["href"].startswith(url + "/issues"):
        problems.append(f"issues button: {[b['href'] for b in issues]}, expected {url}/issues...")
    if notebook:
        if len(binder) != 1 or not binder[0]["href"].startswith(f"https://mybinder.org/v2/gh/{owner_repo}/"):
            problems.append(f"Binder button: {[b['href'] for b in binder]}, expected one to {owner_repo}")
        if not by_class["btn-launch-thebe"]:
            problems.append("no Live Code (Thebe) button")
        if f'repo: "{owner_repo}"' not in parsed.thebe:
            problems.append(f"the Thebe configuration does not name {owner_repo}: {parsed.thebe.strip()[:200]}")
    problems += [f"a button links {href}, not {owner_repo}" for href in to_hosts if owner_repo not in href]
    return problems


def is_notebook(doc: str) -> bool:
    """Whether sphinx-book-theme treats the page as a notebook (launch buttons, .ipynb download)."""
    return "kernelspec:" in (ROOT / f"{doc}.md").read_text(encoding="utf-8")


def configured_url() -> str:
    """``repository.url`` of ``_config.yml`` ("" when it is not set)."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    return str((config.get("repository") or {}).get("url") or "").strip().rstrip("/")


# The main build of tests/test_book.py checks the configured setting ("" in the repository,
# so no buttons); the small builds check a URL and, when _config.yml has one, no URL.
SMALL_BUILD_URLS = [TEST_REPOSITORY] + ([""] if configured_url() else [])


@pytest.mark.book
@pytest.mark.parametrize("url", SMALL_BUILD_URLS, ids=["with-url" if u else "without-url" for u in SMALL_BUILD_URLS])
def test_buttons_follow_the_repository_setting(small_site, url):
    html_dir = small_site(url)
    pages = sorted(p.relative_to(html_dir).with_suffix("").as_posix() for p in (html_dir / "book").rglob("*.html"))
    assert len(pages) == 3, pages
    problems = []
    for doc in pages:
        problems += [f"{doc}: {p}" for p in button_problems(html_dir / f"{doc}.html", url, is_notebook(doc))]
    assert not problems, "\n".join(problems)


@pytest.mark.book
def test_rendered_bibliography_links_every_entry(small_site):
    html_dir = small_site(TEST_REPOSITORY)  # the bibliography does not depend on the setting
    hrefs = set(page_buttons(html_dir / "book" / "appendix" / "bibliography.html").hrefs)
    missing = {key: sorted(expected_links(e.fields) - hrefs) for key, e in ENTRIES.items()}
    missing = {key: links for key, links in missing.items() if links}
    assert not missing, f"identifiers the rendered bibliography does not link: {missing}"
