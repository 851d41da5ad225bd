# rta-platform: the two commands a fresh machine needs are `make preview` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STACK  ?= dev

.PHONY: setup preview preview-all lint typecheck pytest test bench clean

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
	nice -n 10 $(BIN)/mypy

## The whole pytest suite over the machine's cores (pytest-xdist).
pytest: setup
	$(BIN)/python -m pytest -n auto

## The test command: lint, type-check and the pytest suite side by side (the Spark tests leave a core
## idle while they wait on the JVM; the type check runs niced, so it takes those idle cycles instead of
## slowing the suite, which is the longest of the three); each target's output is printed whole; any
## failure fails the command.
test: setup
	$(MAKE) --no-print-directory --jobs=3 --output-sync=target lint typecheck pytest

bench: setup
	$(BIN)/python benchmarks/bench_preview.py

clean:
	rm -rf $(VENV) node_modules out .mypy_cache .ruff_cache .pytest_cache
