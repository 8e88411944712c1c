# Every target creates .venv on first use, so a fresh clone needs only python3 and make.
# Dependencies come from the hashed lock files (make lock); uv installs them in seconds, plain
# pip is the fallback when uv cannot be installed.
# Both write bytecode at install time (uv does not by default): where PYTHONDONTWRITEBYTECODE
# is set (CI images, containers) every plan and test worker would otherwise recompile ~1,800
# SDK modules, ~4.5 s of CPU each time. Compiling costs ~30 s of CPU once per install
# (docs/verification.md, "make bench").
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
STACK  ?= dev
LOCK   := requirements-dev.lock
# Resolve for every platform (CI runners, laptops) from the oldest Python the project supports.
COMPILE = $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 \
          --generate-hashes --quiet --custom-compile-command "make lock"

.PHONY: plan plan-json test bench lint docs schema lock mutate clean

$(STAMP): $(LOCK) requirements-uv.lock pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	@if $(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements-uv.lock; then \
	  $(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode --require-hashes -r $(LOCK) && \
	  $(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e . ; \
	else \
	  echo "uv could not be installed: installing the lock with pip (about a minute)"; \
	  $(BIN)/pip install --quiet --disable-pip-version-check --compile --require-hashes -r $(LOCK) && \
	  $(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e . ; \
	fi
	touch $(STAMP)

## make plan STACK=dev   — what `pulumi up` would create, offline, under the mock engine
## make plan STACK=prod FROM=1.34 — also the Kubernetes upgrade from the running 1.34, step by step
plan: $(STAMP)
	$(BIN)/python -m infra.offline.plan $(STACK) $(if $(FROM),--from $(FROM))

## make plan-json STACK=dev — every resource as JSON, for tooling
plan-json: $(STAMP)
	$(BIN)/python -m infra.offline.plan $(STACK) --json

## make test — unit, component, whole-stack, policy and validator tests
test: $(STAMP)
	$(BIN)/python -m pytest

## make bench — plan vs import floor, 1/10/40 services, critical path vs MSK, test wall time
## (ratios measured in one run; how to read them: docs/verification.md)
bench: $(STAMP)
	$(BIN)/python -m infra.offline.bench $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check components infra policy tests examples
	$(BIN)/ruff format --check components infra policy tests examples

## make docs — regenerate the sizing table in docs/sizing.md from the profiles
docs: $(STAMP)
	$(BIN)/python -m infra.offline.sizing

## make schema — regenerate the stack files' JSON Schema (infra/config/stack.schema.json)
schema: $(STAMP)
	$(BIN)/python -m infra.config.schema

## make lock — re-resolve pyproject.toml's ranges into the hashed lock files (commit them)
lock: $(STAMP)
	$(COMPILE) -o requirements.lock
	$(COMPILE) --extra dev -o $(LOCK)
	sed -n 's/^\(uv==[^ ]*\).*/\1/p' $(LOCK) | $(BIN)/uv pip compile - --universal \
	  --python-version 3.11 --generate-hashes --quiet --custom-compile-command "make lock" \
	  -o requirements-uv.lock

## make mutate — mutation testing of the modules that refuse things (floors, guardrails, config
## rules, the release state machine, IAM policy builders) against their targeted tests only
## ([tool.mutmut] in pyproject.toml); minutes, not part of `make test` or CI. Prints the kill
## rate per module and every survivor (`.venv/bin/mutmut show <name>` for its diff).
mutate: $(STAMP)
	rm -rf mutants
	$(BIN)/mutmut run
	$(BIN)/python -m tests.mutation_report

clean:
	rm -rf $(VENV) build *.egg-info mutants
