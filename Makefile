# Every target creates .venv on first use, so a fresh clone needs only python3 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
STACK  ?= dev

.PHONY: plan plan-json test lint docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## make plan STACK=dev   — what `pulumi up` would create, offline, under the mock engine
plan: $(STAMP)
	$(BIN)/python -m infra.plan $(STACK)

## make plan-json STACK=dev — every resource as JSON, for tooling
plan-json: $(STAMP)
	$(BIN)/python -m infra.plan $(STACK) --json

## make test — unit, component, whole-stack and validator tests
test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check components infra tests
	$(BIN)/ruff format --check components infra tests

## make docs — regenerate the sizing table in docs/sizing.md from the profiles
docs: $(STAMP)
	$(BIN)/python -m infra.sizing

clean:
	rm -rf $(VENV) build *.egg-info
