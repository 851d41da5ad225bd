# rta-platform: the two commands a fresh machine needs are `make preview` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STACK  ?= dev

.PHONY: setup preview preview-all lint typecheck test bench clean

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## Offline preview of a stack (no CLI, no cloud): resource tree, counts, outputs, policy verdicts.
preview: setup
	$(BIN)/python -m offline.preview --stack $(STACK)

preview-all: setup
	for s in $$(ls Pulumi.*.yaml | sed 's/Pulumi\.\(.*\)\.yaml/\1/'); do \
	  $(BIN)/python -m offline.preview --stack $$s --quiet || exit $$?; done

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

## The test command: lint, type-check, then the whole pytest suite, spread over the machine's cores (pytest-xdist).
test: lint typecheck
	$(BIN)/python -m pytest -n auto

bench: setup
	$(BIN)/python benchmarks/bench_preview.py

clean:
	rm -rf $(VENV) node_modules out .mypy_cache .ruff_cache .pytest_cache
