# Everything bootstraps its own virtual environment in .venv: no global installs needed.
# `make` alone lists the targets (from their `##` comments).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# JupyterLab refuses to run as root unless told; these machines run as root (Voila does not ask).
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
PORT ?= 8888
APP  := $(or $(wildcard notebooks/app.ipynb),notebooks/02_campaign_form.ipynb)
SOURCES := alsona_nb tests benchmarks constraints

# The floors step: the lowest versions pyproject.toml allows, on the oldest Python the project
# supports when this machine has one (pyenv keeps them under ~/.pyenv), else on $(PYTHON).
FLOORS_VENV   ?= .venv-floors
FLOORS_STAMP  := $(FLOORS_VENV)/.installed
FLOORS_PYTHON ?= $(or $(lastword $(sort $(wildcard $(HOME)/.pyenv/versions/3.10.*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10))),$(shell command -v $(PYTHON)))
# One test process per core, each test file kept in one process (its servers are shared there).
PARALLEL      := -n auto --dist loadfile
# Fast tests only: no browser, no notebooks, nothing marked slow (the Binder build is slow).
FAST_TESTS    := -m "not browser and not slow" tests
# uv never downloads a Python of its own here: the floors use an interpreter on this machine.
export UV_PYTHON_DOWNLOADS := never

# mypy checks tests too, a little less strictly than the package: test functions need no
# annotations, and a pandas cell read in an assertion is a wide union in pandas-stubs.
MYPY_TESTS := --allow-untyped-defs --allow-incomplete-defs --allow-untyped-calls \
	--disable-error-code=union-attr --disable-error-code=operator \
	--disable-error-code=comparison-overlap --no-warn-unused-ignores

# The GitHub owner/name the badges and project URLs point at: from the git remote, or given.
REPO_SLUG ?= $(shell git remote get-url origin 2>/dev/null | sed -E 's#\.git$$##; s#/$$##; s#^.*github\.com[:/]##')

.DEFAULT_GOAL := help
.PHONY: help demo app test lint format floors pythons bench sandbox badge dist clean

help: ## this list
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z_-]*:.*## / {printf "  make %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,lab]'
	touch $(STAMP)

demo: $(STAMP) ## JupyterLab on the campaign form (the local sandbox when ALSONA_API_KEY is unset)
	@TOKEN=$$($(BIN)/python -c "import secrets; print(secrets.token_hex(16))"); \
	echo "Open the form: http://127.0.0.1:$(PORT)/lab/tree/notebooks/02_campaign_form.ipynb?token=$$TOKEN"; \
	$(BIN)/jupyter lab notebooks/02_campaign_form.ipynb --ServerApp.ip=127.0.0.1 --port=$(PORT) \
		--ServerApp.port_retries=0 --IdentityProvider.token=$$TOKEN $(ROOT_FLAG)

app: $(STAMP) ## the form as a standalone app (Voila: no code shown)
	$(BIN)/voila $(APP) --port=$(PORT)

test: $(STAMP) lint floors ## lint, the floors step, then every test: unit, notebooks (strict nbval), browser, Binder
	$(BIN)/pytest $(PARALLEL) --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg tests notebooks

lint: $(STAMP) ## ruff check, ruff format --check, mypy (package strict, tests a little less)
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/mypy
	$(BIN)/mypy $(MYPY_TESTS) tests

format: $(STAMP) ## ruff format and ruff's safe fixes over the sources
	$(BIN)/ruff format $(SOURCES)
	$(BIN)/ruff check --fix $(SOURCES)

$(FLOORS_STAMP): $(STAMP) pyproject.toml constraints/test-tools.txt
	rm -rf $(FLOORS_VENV)
	$(BIN)/uv venv -q --python $(FLOORS_PYTHON) $(FLOORS_VENV)
	$(BIN)/uv pip install -q --python $(FLOORS_VENV)/bin/python --resolution lowest-direct \
		-e . -r constraints/test-tools.txt
	touch $(FLOORS_STAMP)

floors: $(FLOORS_STAMP) ## the fast tests on the lowest allowed dependency versions (.venv-floors)
	$(FLOORS_VENV)/bin/python constraints/check_floors.py
	PYTHONTZPATH= $(FLOORS_VENV)/bin/python -m pytest -q -p no:cacheprovider $(PARALLEL) $(FAST_TESTS)

pythons: $(STAMP) ## the fast tests on every Python 3.10-3.13 this machine has (newest dependencies)
	@for py in $(sort $(wildcard $(HOME)/.pyenv/versions/3.1[0-3].*/bin/python3.1[0-3])); do \
		v=$$(basename $$py); echo "== $$v"; rm -rf .venv-$$v; \
		$(BIN)/uv venv -q --python $$py .venv-$$v && \
		$(BIN)/uv pip install -q --python .venv-$$v/bin/python -e '.[test]' && \
		PYTHONTZPATH= .venv-$$v/bin/python -m pytest -q -p no:cacheprovider $(PARALLEL) $(FAST_TESTS) \
			|| exit 1; \
	done

bench: $(STAMP) ## benchmarks against raw requests, measured in the same run
	$(BIN)/python -m benchmarks

sandbox: $(STAMP) ## a sandbox server in this shell, for curl or another process
	$(BIN)/python -m alsona_nb.sandbox --port 8765

badge: ## point the badges and project URLs at REPO_SLUG (default: from `git remote get-url origin`)
	@test -n "$(REPO_SLUG)" || { echo "no git remote 'origin': run make badge REPO_SLUG=owner/name"; exit 1; }
	sed -i -E 's#(mybinder\.org/v2/gh/|raw\.githubusercontent\.com/|github\.com/)[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/(HEAD|issues|blob|commits|tree)#\1$(REPO_SLUG)/\2#g; s#(github\.com/)[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(["\#)])#\1$(REPO_SLUG)\2#g' README.md pyproject.toml
	@grep -n "$(REPO_SLUG)" README.md pyproject.toml

dist: $(STAMP) ## wheel and sdist in dist/ (refused while the badges still say OWNER)
	@! grep -n "OWNER/" README.md pyproject.toml || { echo "run make badge first"; exit 1; }
	rm -rf dist
	$(BIN)/python -m build

clean: ## remove the venvs, caches and build output
	rm -rf $(VENV) $(FLOORS_VENV) .venv-python3.1* .pytest_cache .mypy_cache .ruff_cache .hypothesis test-artifacts build dist
