"""Print the single-page build of the book to one PDF with Debian's Chromium (``make pdf``).

    python book/_ext/print_pdf.py <singlehtml folder> <out.pdf> [<toc.yml>]

There is no TeX Live on the build machines, so the PDF is the book as the browser shows it:
the single-page HTML build (``--builder singlehtml``, from the main build's execution
cache) served on localhost, every request to another host blocked, printed by Chromium
through Playwright once MathJax has typeset every formula. Then, with pypdf:

- a title page and a table of contents (Parts, chapters and the page each starts on) are
  printed and put in front; the body's pages carry their numbers in the footer, and the
  PDF's page labels (i, ii, ... then 1, 2, ...) match them;
- the PDF's bookmarks are the chapters and their sections (Chromium's document outline).

Every Part starts on a new page with its title, every chapter on a new page. Collapsed
solutions are printed open; hidden code inputs stay hidden, as on the site.
"""

from __future__ import annotations

import functools
import html
import http.server
import re
import shutil
import sys
import tempfile
import threading
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PAGE = {"format": "A4", "margin": {"top": "16mm", "bottom": "18mm", "left": "15mm", "right": "15mm"}}
FOOTER = '<div style="font-size:8px;width:100%;text-align:center;color:#555;"><span class="pageNumber"></span></div>'

PRINT_CSS = """
@media print {
  .bd-header, .bd-sidebar-primary, .bd-sidebar-secondary, .header-article, .bd-header-article,
  .prev-next-area, .bd-footer, .bd-footer-content, footer, .headerlink, .toggle-button,
  .copybtn, .bd-search, #pst-back-to-top, .skip-link, .search-button-field { display: none !important; }
  .bd-main, .bd-content, .bd-article-container, .bd-page-width, .bd-container, .bd-article {
    max-width: 100% !important; width: 100% !important; margin: 0 !important; padding: 0 !important; }
  .print-part { break-before: page; break-after: page; text-align: center; font-size: 2.4em;
    padding-top: 35vh; border: none; }
  .print-chapter { break-before: page; }
  .toggle-hidden { visibility: visible !important; opacity: 1 !important; height: auto !important; }
  figure, img, .cell_output, mjx-container[display="true"] { break-inside: avoid; }
  pre { white-space: pre-wrap !important; overflow-wrap: anywhere; overflow: visible !important; }
  h1, h2, h3, h4 { break-after: avoid; }
}
"""

PREPARE_JS = """(parts) => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const wrappers = [...article.querySelectorAll('.toctree-wrapper')];
  if (wrappers.length !== parts.length) {
    throw new Error(`${wrappers.length} toctrees in the page, ${parts.length} Parts in _toc.yml`);
  }
  wrappers.forEach((w, i) => {
    const h = document.createElement('h1');
    h.className = 'print-part';
    h.textContent = parts[i];
    w.parentNode.insertBefore(h, w);
  });
  const chapters = [];
  article.querySelectorAll('span[id^="document-"] + section').forEach(section => {
    section.classList.add('print-chapter');
    const heading = section.querySelector('h1, h2');
    chapters.push({doc: section.previousElementSibling.id.slice('document-'.length),
                   title: heading ? heading.innerText.trim() : ''});
  });
  // solutions are dropdowns on the site: open them (sphinx-togglebutton hides their body)
  document.querySelectorAll('.toggle-hidden').forEach(el => el.classList.remove('toggle-hidden'));
  document.querySelectorAll('details.dropdown, .admonition details').forEach(d => d.open = true);
  return chapters;
}"""


TOC = ROOT / "_toc.yml"


def toc_parts() -> list[tuple[str, list[str]]]:
    import yaml

    toc = yaml.safe_load(TOC.read_text())
    return [(part["caption"], [c["file"] for c in part.get("chapters", [])]) for part in toc["parts"]]


def _serve(folder: Path):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def _master_page(folder: Path) -> Path:
    """The single page (Jupyter Book's index.html only redirects to it)."""
    index = (folder / "index.html").read_text()
    target = re.search(r'url=([^"\']+)', index)
    return folder / (target.group(1) if target else "index.html")


def _outline(reader):
    """[(level, title, page index)] of the PDF's bookmarks, in order."""
    items: list[tuple[int, str, int]] = []

    def walk(nodes, level):
        for node in nodes:
            if isinstance(node, list):
                walk(node, level + 1)
            else:
                items.append((level, str(node.title).strip(), reader.get_destination_page_number(node)))

    walk(reader.outline, 0)
    return items


def _norm(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", unicodedata.normalize("NFKC", text).lower())


def _toc_html(title: str, author: str, entries: list[tuple[str, str, int | None]]) -> str:
    rows = []
    for kind, text, page in entries:
        number = "" if page is None else str(page)
        rows.append(
            f'<div class="{kind}"><span class="t">{html.escape(text)}</span>'
            f'<span class="dots"></span><span class="p">{number}</span></div>'
        )
    return f"""<!doctype html><html><head><meta charset="utf-8"><style>
body {{ font-family: "DejaVu Sans", sans-serif; font-size: 11pt; }}
.title {{ text-align: center; padding-top: 30vh; break-after: page; }}
.title h1 {{ font-size: 28pt; margin-bottom: 1em; }}
h2 {{ font-size: 18pt; }}
.part, .chapter {{ display: flex; align-items: baseline; margin: 0.2em 0; break-inside: avoid; }}
.part {{ font-weight: bold; margin-top: 0.9em; }}
.chapter {{ padding-left: 1.5em; }}
.dots {{ flex: 1; border-bottom: 1px dotted #888; margin: 0 0.4em; }}
</style></head><body>
<div class="title"><h1>{html.escape(title)}</h1><p>{html.escape(author)}</p></div>
<h2>Contents</h2>
{"".join(rows)}
</body></html>"""


def print_book(folder: Path, out: Path) -> dict:
    import yaml
    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader, PdfWriter

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    parts = toc_parts()
    master = _master_page(folder)
    # the single page links its assets relative to the build's root: print a copy from there
    page_copy = folder / "_print.html"
    page_copy.write_text(master.read_text(encoding="utf-8"), encoding="utf-8")
    work = Path(tempfile.mkdtemp(prefix="book-pdf-"))
    server, site = _serve(folder)
    problems: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            context = browser.new_context()
            page = context.new_page()
            page.on("pageerror", lambda exc: problems.append(f"JS error: {exc}"))

            def route(r):
                if r.request.url.startswith(site) or r.request.url.startswith("data:"):
                    return r.continue_()
                problems.append(f"request to another host: {r.request.url}")
                return r.abort()

            page.route("**/*", route)
            page.goto(site + page_copy.name, wait_until="load", timeout=120_000)
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=60_000)
            page.evaluate("() => MathJax.startup.promise")
            page.wait_for_load_state("networkidle")
            raw = page.evaluate(
                "() => [...document.querySelectorAll('.math')].filter(el => !el.querySelector('mjx-container')).length"
            )
            if raw:
                problems.append(f"{raw} formulas not typeset by MathJax")
            broken = page.evaluate("() => [...document.images].filter(i => !(i.complete && i.naturalWidth)).length")
            if broken:
                problems.append(f"{broken} images not loaded")
            page.add_style_tag(content=PRINT_CSS)
            chapters = page.evaluate(PREPARE_JS, [caption for caption, _ in parts])
            body = work / "body.pdf"
            page.pdf(
                path=str(body),
                print_background=True,
                display_header_footer=True,
                header_template="<span></span>",
                footer_template=FOOTER,
                outline=True,
                tagged=True,
                **PAGE,
            )
            reader = PdfReader(str(body))
            outline = _outline(reader)
            # the page each chapter starts on: its heading in the outline, in book order
            starts: dict[str, int] = {}
            position = 0
            for chapter in chapters:
                key = _norm(chapter["title"])
                for i in range(position, len(outline)):
                    if key and _norm(outline[i][1]) == key:
                        starts[chapter["doc"]] = outline[i][2]
                        position = i + 1
                        break
                else:
                    problems.append(f"chapter {chapter['doc']} ({chapter['title']!r}) not found in the outline")
            titles = {c["doc"]: c["title"] for c in chapters}
            entries: list[tuple[str, str, int | None]] = []
            root_doc = yaml.safe_load(TOC.read_text())["root"]
            entries.append(("chapter", titles.get(root_doc, config["title"]), 1))
            for caption, docs in parts:
                # the Part's title page is the one before its first chapter's
                first = [starts[d] for d in docs if d in starts]
                entries.append(("part", caption, min(first) if first else None))
                entries += [("chapter", titles.get(d, d), starts[d] + 1 if d in starts else None) for d in docs]
            toc_file = folder / "_print-toc.html"
            toc_file.write_text(_toc_html(config["title"], config.get("author", ""), entries), encoding="utf-8")
            page.goto(site + toc_file.name, wait_until="load")
            toc = work / "toc.pdf"
            page.pdf(path=str(toc), print_background=True, **PAGE)
            context.close()
            browser.close()
        front = len(PdfReader(str(toc)).pages)
        writer = PdfWriter()
        writer.append(str(toc), import_outline=False)
        writer.append(str(body), import_outline=True)
        writer.set_page_label(0, front - 1, style="/r")
        writer.set_page_label(front, len(writer.pages) - 1, style="/D", start=1)
        writer.add_metadata({"/Title": config["title"], "/Author": config.get("author", "")})
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "wb") as handle:
            writer.write(handle)
    finally:
        server.shutdown()
        page_copy.unlink(missing_ok=True)
        (folder / "_print-toc.html").unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    if problems:
        raise SystemExit("the PDF is not sound:\n" + "\n".join(problems[:40]))
    return {"pages": len(PdfReader(str(out)).pages), "front": front, "chapters": len(starts)}


def main(argv: list[str]) -> None:
    global TOC
    if len(argv) not in (2, 3):
        raise SystemExit(__doc__)
    folder, out = Path(argv[0]), Path(argv[1])
    if len(argv) == 3:
        TOC = Path(argv[2])
    if folder.is_file():  # the single page itself, or Jupyter Book's index.html, was given
        folder = folder.parent
    summary = print_book(folder, out)
    print(f"{out}: {summary['pages']} pages ({summary['front']} of title and contents), {summary['chapters']} chapters")


if __name__ == "__main__":
    main(sys.argv[1:])
