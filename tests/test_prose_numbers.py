"""The prose-number rule: a number the prose states comes from a computation.

In the prose of every chapter of ``_toc.yml`` (outside math, code cells, inline code and MyST
roles) a decimal literal (``0.853``), a number in scientific notation (``3e-4``) or a
percentage (``12.5 %``) may appear only through a ``{glue:text}`` role, so that a changed
result changes the sentence instead of leaving it wrong. Two exceptions:

- a hyper-parameter the chapter sets is written as math (``$\\gamma = 2$``), which this test
  does not read;
- a number a cited paper reports may stay in a paragraph (a list item, a table row) that
  carries the ``{cite}`` role of that paper.

Integers in prose (counts, years, "3 seeds") are fine. The test strips the front matter,
fenced blocks (code cells with their metadata, ``math``/``code``/``eval-rst`` directives),
display math, directive option lines (``:class:``, ``:name:``, ...), and, inside a line,
inline math, inline code, roles (``{glue:text}`...```, ``{eq}`...```), link targets and URLs;
it then reports each remaining number as ``file:line: text``.

Run it on its own with ``python tests/test_prose_numbers.py [chapter.md ...]``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# ----------------------------------------------------------------------------- what is flagged

# 0.853, .5, 1,234.5 (with thousands separators), 3e-4, 1.5e3, 2×10^-3 (the decimal part),
# 12 %, 12.5%, 12 percent, 1.6× / 1.6x
NUMBER = re.compile(
    r"""(?<![\w.])(?:
        \d[\d,]*\.\d+(?:[eE][-+]?\d+)?        # a decimal literal, optionally with an exponent
      | \.\d+                                  # a leading-dot decimal
      | \d+[eE][-+]?\d+                        # scientific notation without a decimal point
      | \d+\s?(?:%|percent\b|per\s+cent\b)     # an integer percentage
    )(?:\s?(?:%|percent\b|per\s+cent\b))?""",
    re.X,
)
# Decimals that are not results: versions, section/figure/equation numbers, identifiers.
NOT_A_RESULT = re.compile(
    r"""(?:
        \b(?:version|v|Python|PyTorch|torch|NumPy|numpy|SciPy|CUDA|Sphinx|MyST|MathJax|Book|open_clip|
            Section|Sections|section|sections|Sec\.|§|Chapter|chapter|Table|table|Figure|figure|Fig\.|
            Eq\.|Equation|equation|eq\.|Theorem|Lemma|Proposition|Algorithm|Appendix|appendix)\s*\(?
      | arXiv:\s*|doi:\s*|\b10\.\d{4,9}/
    )$""",
    re.X,
)

# ----------------------------------------------------------------------------- what is stripped

FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,}|:{3,})\s*(?:\{(?P<name>[\w:-]+)\})?")
# Colon/backtick directives whose body is not prose.
NOT_PROSE = {"code-cell", "code", "code-block", "math", "raw", "eval-rst", "bibliography", "glue:figure", "glue:math"}
OPTION = re.compile(r"^\s*:[\w-]+:(?:\s|$)")
DISPLAY_MATH_OPEN = re.compile(r"^\s*\$\$")
ENV_OPEN = re.compile(r"^\s*\\begin\{(\w+\*?)\}")
LABEL_LINE = re.compile(r"^\s*\([\w:.-]+\)=\s*$")
COMMENT_LINE = re.compile(r"^\s*%")

INLINE = [
    re.compile(r"<!--.*?-->", re.S),
    re.compile(r"\{[\w:.-]+\}(`+).*?\1", re.S),  # roles, glue roles included: {glue:text}`k:.3f`
    re.compile(r"(`+).+?\1", re.S),  # inline code
    re.compile(r"\$\$.+?\$\$", re.S),
    re.compile(r"(?<![\\$])\$(?!\s)(?:\\\$|[^$])+?(?<!\\)\$(?!\d)", re.S),  # inline math $...$
    re.compile(r"\]\([^)]*\)"),  # link targets [text](target)
    re.compile(r"<https?://[^>]*>|https?://\S+"),  # URLs
    re.compile(r"\\\(.+?\\\)", re.S),  # \( ... \) math
]
CITE = re.compile(r"\{cite(?::\w+)?\}`")
# In the text with math stripped, a list item or a table row starts a new block for the cite rule.
BLOCK_START = re.compile(r"^\s*(?:[-*+]\s|\d+[.)]\s|\|.*\|\s*$)")


def blank(match: re.Match) -> str:
    """The match replaced by spaces, its newlines kept, so offsets still map to lines."""
    return "".join("\n" if ch == "\n" else " " for ch in match.group(0))


def prose_blocks(text: str):
    """Yield (first line number, [lines]) for each block of prose: paragraph, list item, table row."""
    lines = text.split("\n")
    offset = 0
    if m := FRONT_MATTER.match(text):
        offset = m.group(0).count("\n")
    fences: list[tuple[str, bool]] = []  # open fences: (fence string, body is prose)
    math_end: re.Pattern | None = None
    block: list[str] = []
    start = 0
    after_directive = False  # directive option lines follow the opening line

    def flush():
        nonlocal block
        if block:
            yield start, block
        block = []

    for i in range(offset, len(lines)):
        line, number = lines[i], i + 1
        skipping = any(not prose for _, prose in fences)
        if fences:
            fence = fences[-1][0]
            stripped = line.strip()
            if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                fences.pop()
                yield from flush()
                after_directive = False
                continue
        if skipping:
            # inside a code cell or math block: only track nested fences of the same kind
            continue
        if math_end is not None:
            if math_end.search(line):
                math_end = None
            continue
        if (m := FENCE.match(line)) and (m.group("name") or m.group("fence")[0] != ":"):
            yield from flush()
            name = m.group("name")
            fence = m.group("fence")
            prose = name is not None and name not in NOT_PROSE  # a bare ``` fence is code
            fences.append((fence, prose))
            after_directive = prose
            continue
        if after_directive:
            if OPTION.match(line):
                continue
            if line.strip() == "---":  # a YAML options block
                j = i + 1
                while j < len(lines) and lines[j].strip() != "---":
                    j += 1
                lines[i : j + 1] = [""] * (j + 1 - i)
                continue
            after_directive = False
        if DISPLAY_MATH_OPEN.match(line):
            yield from flush()
            rest = line.strip()[2:]
            if "$$" not in rest:
                math_end = re.compile(r"\$\$")
            continue
        if m := ENV_OPEN.match(line):
            yield from flush()
            env = re.escape(m.group(1))
            if not re.search(rf"\\end\{{{env}\}}", line):
                math_end = re.compile(rf"\\end\{{{env}\}}")
            continue
        if not line.strip() or LABEL_LINE.match(line) or COMMENT_LINE.match(line):
            yield from flush()
            continue
        if not block:
            start = number
        block.append(line)
    yield from flush()


def offenders(path: Path) -> list[str]:
    """``file:line: text`` for every number in the prose of one chapter that breaks the rule."""
    found = []
    rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    for start, block in prose_blocks(path.read_text(encoding="utf-8")):
        text = "\n".join(block)
        for pattern in INLINE:
            text = pattern.sub(blank, text)
        stripped = text.split("\n")
        # sub-blocks (list items, table rows) of the paragraph, each exempt if it cites
        item, cited = [], {}
        for k, line in enumerate(stripped):
            if BLOCK_START.match(line) and item:
                item = []
            item.append(k)
            exempt = any(CITE.search(block[j]) for j in item)
            for j in item:
                cited[j] = exempt
        for k, line in enumerate(stripped):
            if cited[k]:
                continue
            for m in NUMBER.finditer(line):
                if NOT_A_RESULT.search(line[: m.start()]):
                    continue
                found.append(f"{rel}:{start + k}: {m.group(0).strip()!r} in: {block[k].strip()[:100]}")
    return found


def chapters() -> list[Path]:
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    names = re.findall(r"^\s*(?:-\s*)?(?:file|root):\s*(\S+)", toc, re.M)
    return [ROOT / f"{name}.md" for name in names if (ROOT / f"{name}.md").exists()]


def test_no_number_in_prose_without_glue():
    problems = [problem for chapter in chapters() for problem in offenders(chapter)]
    if problems:
        print("\n".join(problems))
    assert not problems, (
        f"{len(problems)} number(s) in prose not produced by a computation: glue them "
        "({glue:text}`key:.3f`), write a hyper-parameter as math, or cite the paper that reports it:\n"
        + "\n".join(problems)
    )


def test_the_rule_catches_and_spares():
    """The rule on a small synthetic chapter: what is flagged and what is not."""
    import tempfile

    page = "\n".join(
        [
            "---",
            "jupytext: {}",
            "---",
            "(demo)=",
            "# Demo 2.5",
            "",
            "The accuracy is 0.853 and the gap 12 %, with rate 3e-4.",
            "The glued value {glue:text}`demo-acc:.3f` and the math $p = 0.5$ and `lr=1e-3` are fine.",
            "",
            "The paper reports 76.5 % top-1 {cite:p}`he2016deep`.",
            "",
            ":::{admonition} Seed erratum: x",
            ":class: warning seed-erratum substance seed-000",
            ":name: erratum-demo-x",
            "Seed 000 writes 0.25 where",
            "the value is $0.75$.",
            ":::",
            "",
            "```{code-cell} ipython3",
            "---",
            "mystnb:",
            "  figure:",
            "    caption: A loss of 0.5.",
            "---",
            "x = 0.125",
            "```",
            "",
            "$$",
            "a = 0.5",
            "$$ (demo-eq)",
            "",
            "- a list item with 1.5× speed-up",
            "- a cited item 2.5 {cite:t}`he2016deep`",
            "| 0.1 | row |",
            "Python 3.11 and Section 4.2 and arXiv:1205.2618 and 3 seeds in 2019.",
        ]
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo.md"
        path.write_text(page, encoding="utf-8")
        got = [(int(p.split(":")[1]), p.split("'")[1]) for p in offenders(path)]
    assert got == [(5, "2.5"), (7, "0.853"), (7, "12 %"), (7, "3e-4"), (15, "0.25"), (32, "1.5"), (34, "0.1")], got


if __name__ == "__main__":
    paths = [Path(arg).resolve() for arg in sys.argv[1:]] or chapters()
    problems = [problem for path in paths for problem in offenders(path)]
    print("\n".join(problems) or "no offender")
    print(f"{len(problems)} offender(s) in {len({p.split(':')[0] for p in problems})} file(s)")
    sys.exit(1 if problems else 0)
