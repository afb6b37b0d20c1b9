# The two commands of the README: `make book` and `make test`. Each sets up what it needs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
JB_FLAGS := -W -n --keep-going
# open_clip's loss.py is the CLIP / SigLIP reference; its dependencies (torchvision) are not wanted
OPEN_CLIP := open-clip-torch==3.3.0

.PHONY: lab book book-student pdf mathjax test test-paths lint unit notebooks build-check browser bench bench-scale chromium clean help

help:
	@echo "make book          build the site into _build/html (executes changed chapters only); works offline"
	@echo "make book-student  the site without any solution, into _build/student (no chapter runs again)"
	@echo "make pdf           the whole book as one PDF, _build/pdf/loss-functions-primer.pdf"
	@echo "make lab           the chapters as notebooks in JupyterLab (as on Binder)"
	@echo "make test          ruff, unit tests, nbval over every chapter, strict build, browser check"
	@echo "make test-paths    the reader's other paths: Binder/JupyterLab, student edition, PDF (slow)"
	@echo "make bench  time losslib against its reference implementations (and the pairwise losses on one list of 2,000 items: time, peak memory)"
	@echo "make bench-scale  the losses at scale: chunked vs dense memory and time at B = 32768 / N = 20000"

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml jupyterlab-overrides.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps $(OPEN_CLIP)
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp jupyterlab-overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	touch $(STAMP)

# Debian's Chromium for the browser test (never a tool's own browser download).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

# jupyter-cache keys a chapter on its code cells only: when losslib changes, executed
# outputs may be stale, so drop the cache then.
LOSSLIB_STAMP := _build/.losslib-stamp
$(LOSSLIB_STAMP): $(wildcard losslib/*.py)
	rm -rf _build/.jupyter_cache
	mkdir -p _build && touch $@

MATHJAX := $(VENV)/mathjax/package/es5/tex-mml-chtml.js

# A pinned MathJax 3, from npm's registry, which book/_ext/offline_assets.py copies into
# every build (_static/mathjax): the site loads nothing from a CDN and works offline.
$(MATHJAX):
	mkdir -p $(VENV)/mathjax
	cd $(VENV)/mathjax && npm pack --silent mathjax@3.2.2 >/dev/null && tar xzf mathjax-3.2.2.tgz
mathjax: $(MATHJAX)

book: $(STAMP) $(LOSSLIB_STAMP) $(MATHJAX)
	$(BIN)/jupyter-book build . $(JB_FLAGS)

# The other editions read the main build's jupyter-cache (book/_ext/editions.py): `make book`
# runs first and executes what changed, they execute nothing.
EDITION_ENV := LOSSBOOK_EXECUTION_CACHE=$(CURDIR)/_build/.jupyter_cache

# The student edition: every solution removed from the pages and the downloadable sources.
book-student: book
	@echo "== student edition =="
	$(EDITION_ENV) LOSSBOOK_EDITION=student $(BIN)/jupyter-book build . $(JB_FLAGS) --path-output _build/.student
	rm -rf _build/student && cp -a _build/.student/_build/html _build/student
	@echo "student edition: _build/student/index.html"

# The PDF: the single-page build printed by Debian's Chromium once MathJax has typeset it,
# with a table of contents (page numbers) and numbered pages (book/_ext/print_pdf.py).
PDF := _build/pdf/loss-functions-primer.pdf
pdf: book chromium
	@echo "== single-page edition for the PDF =="
	$(EDITION_ENV) $(BIN)/jupyter-book build . $(JB_FLAGS) --builder singlehtml --path-output _build/.pdf
	$(BIN)/python book/_ext/print_pdf.py _build/.pdf/_build/singlehtml/index.html $(PDF)

test: $(STAMP) $(LOSSLIB_STAMP) chromium $(MATHJAX)
	$(BIN)/ruff check losslib tests benchmarks book/_ext conftest.py
	$(BIN)/ruff format --check losslib tests benchmarks book/_ext conftest.py
	@# 1: the unit tests and nbval over every chapter, which puts each executed chapter into
	@#    the build's jupyter-cache (conftest.py); 2: the strict build, which then runs no
	@#    chapter again, the browser check over the site and the link builds.
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not slow and not book"
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "book and not slow"

# Slow: a fresh venv from requirements.txt + postBuild + JupyterLab in Chromium (as Binder
# runs the book), the student edition against the normal one, and the PDF.
test-paths: $(STAMP) chromium $(MATHJAX)
	$(BIN)/python -m pytest -p no:xdist -m slow tests/test_binder.py tests/test_student_edition.py tests/test_pdf.py

# The chapters as Binder shows them: JupyterLab with jupytext (the .md chapters open as
# notebooks, jupyterlab-overrides.json) and jupyterlab-myst (MyST rendered in the cells).
lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=$(CURDIR) $$( [ "$$(id -u)" = 0 ] && echo --allow-root ) book/intro.md

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py
	$(BIN)/python benchmarks/pairwise_memory.py

# Losses at scale (book Part VIII): InfoNCE at B = 32768 and the pairwise losses at
# N = 20000, chunked and dense; peak memory of fresh processes, times as ratios. Several
# minutes and up to 13 GiB (the dense loss); writes benchmarks/results/scale.json.
bench-scale: $(STAMP)
	$(BIN)/python benchmarks/scale.py

# Strict build into another folder (its own cache), e.g. while someone else builds _build.
OUT ?= /tmp/jb-check
check-build: $(STAMP)
	$(BIN)/jupyter-book build . --path-output $(OUT) -W -n --keep-going

clean:
	rm -rf _build tests/.notebooks
