# The two commands of the README: `make book` and `make test`. Each sets up what it needs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
JB_FLAGS := -W -n --keep-going
# open_clip's loss.py is the CLIP / SigLIP reference; its dependencies (torchvision) are not wanted
OPEN_CLIP := open-clip-torch==3.3.0

.PHONY: lab book test lint unit notebooks build-check browser bench chromium clean help

help:
	@echo "make book   build the site into _build/html (executes changed chapters only)"
	@echo "make test   ruff, unit tests, nbval over every chapter, strict build, browser check"
	@echo "make bench  time losslib against its reference implementations (and the pairwise losses on one list of 2,000 items: time, peak memory)"

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

book: $(STAMP) $(LOSSLIB_STAMP)
	$(BIN)/jupyter-book build . $(JB_FLAGS)

MATHJAX := $(VENV)/mathjax/package/es5/tex-mml-chtml.js

# A pinned MathJax 3 for the browser test, which serves it in place of the CDN copy the
# site links to (this machine has no network but the package registries).
$(MATHJAX):
	mkdir -p $(VENV)/mathjax
	cd $(VENV)/mathjax && npm pack --silent mathjax@3.2.2 >/dev/null && tar xzf mathjax-3.2.2.tgz

test: $(STAMP) $(LOSSLIB_STAMP) chromium $(MATHJAX)
	$(BIN)/ruff check losslib tests benchmarks book/_ext conftest.py
	$(BIN)/ruff format --check losslib tests benchmarks book/_ext conftest.py
	$(BIN)/python -m pytest -n 2 --dist loadfile

lab: $(STAMP)
	$(BIN)/jupyter lab book/intro.md

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py
	$(BIN)/python benchmarks/pairwise_memory.py

# Strict build into another folder (its own cache), e.g. while someone else builds _build.
OUT ?= /tmp/jb-check
check-build: $(STAMP)
	$(BIN)/jupyter-book build . --path-output $(OUT) -W -n --keep-going

clean:
	rm -rf _build tests/.notebooks
