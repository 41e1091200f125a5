# Everything bootstraps its own virtual environment in .venv: no global installs needed.
# `make` alone lists the targets (from their `##` comments).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Two stamps: the demo needs the package with JupyterLab, Notebook 7 and Voila (`.[lab]`); the
# contributors' tools (pyproject.toml's [dependency-groups], pip >= 25.1) come with `make test`.
LAB_STAMP := $(VENV)/.installed-lab
DEV_STAMP := $(VENV)/.installed-dev
# JupyterLab refuses to run as root unless told; these machines run as root (Voila does not ask).
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
PORT ?= 8888
# `make sandbox` keeps its own default port (8765) unless PORT= is given.
SANDBOX_PORT := $(if $(filter command line environment,$(origin PORT)),$(PORT),8765)
FORM := notebooks/02_campaign_form.ipynb
APP  := $(or $(wildcard notebooks/app.ipynb),$(FORM))
SOURCES := alsona_nb tests benchmarks constraints hatch_build.py
# Jupyter serves this directory, so a printed path is the notebook's path in the repository.
# Saving keeps the form's placeholder output, not a widget view that another session cannot show.
SERVE := --ServerApp.root_dir=. --ServerApp.ip=127.0.0.1 --port=$(PORT) --ServerApp.port_retries=0 \
	--ContentsManager.pre_save_hook=alsona_nb.form.placeholder_outputs
# Voila (`make app`, and Binder's jupyter_server) shuts down a kernel left idle this many seconds
# with no page connected (every closed page left one running); an open page's kernel stays.
# binder/jupyter_server_config.json says the same (tests/test_binder.py checks they agree).
CULL_IDLE     ?= 600
CULL_INTERVAL ?= 60
CULL := --MappingKernelManager.cull_idle_timeout=$(CULL_IDLE) \
	--MappingKernelManager.cull_interval=$(CULL_INTERVAL) --MappingKernelManager.cull_connected=False

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
.PHONY: help demo notebook app test test-fast lint format floors pythons bench sandbox badge dist clean

help: ## this list
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z_-]*:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(LAB_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade 'pip>=25.1'
	$(BIN)/python -m pip install -q -e '.[lab]'
	touch $@

$(DEV_STAMP): $(LAB_STAMP) pyproject.toml
	$(BIN)/python -m pip install -q --group dev
	touch $@

demo: $(LAB_STAMP) ## JupyterLab on the campaign form (PORT=8888; the local sandbox when ALSONA_API_KEY is unset)
	@TOKEN=$$($(BIN)/python -c "import secrets; print(secrets.token_hex(16))"); \
	echo "Open the form: http://127.0.0.1:$(PORT)/lab/tree/$(FORM)?token=$$TOKEN"; \
	$(BIN)/jupyter lab $(FORM) $(SERVE) --IdentityProvider.token=$$TOKEN $(ROOT_FLAG)

notebook: $(LAB_STAMP) ## the same in Notebook 7 (PORT=8888)
	@TOKEN=$$($(BIN)/python -c "import secrets; print(secrets.token_hex(16))"); \
	echo "Open the form: http://127.0.0.1:$(PORT)/notebooks/$(FORM)?token=$$TOKEN"; \
	$(BIN)/jupyter notebook $(FORM) $(SERVE) --IdentityProvider.token=$$TOKEN $(ROOT_FLAG)

app: $(LAB_STAMP) ## the form as a standalone app (Voila: no code shown; PORT=8888)
	@echo "Open the app: http://127.0.0.1:$(PORT)/"
	$(BIN)/voila $(APP) --Voila.ip=127.0.0.1 --port=$(PORT) --no-browser $(CULL)

test: $(DEV_STAMP) lint floors ## lint, the floors step, then every test: unit, notebooks (strict nbval), browser, Binder
	$(BIN)/pytest $(PARALLEL) --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg tests notebooks

test-fast: $(DEV_STAMP) ## the contributors' loop (about 30 s): no browser, no Binder, no notebooks
	$(BIN)/pytest -q -p no:cacheprovider $(PARALLEL) $(FAST_TESTS)

lint: $(DEV_STAMP) ## ruff check, ruff format --check, mypy (package strict, tests a little less)
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/mypy
	$(BIN)/mypy $(MYPY_TESTS) tests

format: $(DEV_STAMP) ## ruff format and ruff's safe fixes over the sources
	$(BIN)/ruff format $(SOURCES)
	$(BIN)/ruff check --fix $(SOURCES)

# The extras' floors too (excel); constraints/colab.txt holds the floors' neighbours that are
# not our direct dependencies (Colab's numpy beside its pandas).
$(FLOORS_STAMP): $(DEV_STAMP) pyproject.toml constraints/test-tools.txt constraints/colab.txt
	rm -rf $(FLOORS_VENV)
	$(BIN)/uv venv -q --python $(FLOORS_PYTHON) $(FLOORS_VENV)
	$(BIN)/uv pip install -q --python $(FLOORS_VENV)/bin/python --resolution lowest-direct \
		-e '.[excel]' -r constraints/test-tools.txt -c constraints/colab.txt
	touch $(FLOORS_STAMP)

floors: $(FLOORS_STAMP) ## the fast tests on the lowest allowed dependency versions (.venv-floors)
	$(FLOORS_VENV)/bin/python constraints/check_floors.py --extra excel
	PYTHONTZPATH= $(FLOORS_VENV)/bin/python -m pytest -q -p no:cacheprovider $(PARALLEL) $(FAST_TESTS)

pythons: $(DEV_STAMP) ## the fast tests on every Python 3.10-3.13 this machine has (newest dependencies)
	@for py in $(sort $(wildcard $(HOME)/.pyenv/versions/3.1[0-3].*/bin/python3.1[0-3])); do \
		v=$$(basename $$py); echo "== $$v"; rm -rf .venv-$$v; \
		$(BIN)/uv venv -q --python $$py .venv-$$v && \
		$(BIN)/uv pip install -q --python .venv-$$v/bin/python -e '.[excel]' --group test && \
		PYTHONTZPATH= .venv-$$v/bin/python -m pytest -q -p no:cacheprovider $(PARALLEL) $(FAST_TESTS) \
			|| exit 1; \
	done

bench: $(LAB_STAMP) ## benchmarks against raw requests, measured in the same run
	$(BIN)/python -m benchmarks

sandbox: $(LAB_STAMP) ## a sandbox server in this shell, for curl or another process (PORT=8765)
	$(BIN)/python -m alsona_nb.sandbox --port $(SANDBOX_PORT)

# Only a GitHub owner/name: the badges, the picture and the project URLs are GitHub, mybinder
# and raw.githubusercontent links. Whatever owner/name they carry now (OWNER, or an earlier
# slug) is replaced, so running it again with another slug repairs them.
SLUG_RE  := ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$$
SLUG_OLD := [A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+

badge: ## point the badges and project URLs at REPO_SLUG=owner/name (default: the GitHub origin)
	@test -n "$(REPO_SLUG)" || { echo "no git remote 'origin': run make badge REPO_SLUG=owner/name"; exit 1; }
	@printf '%s\n' '$(REPO_SLUG)' | grep -Eq '$(SLUG_RE)' || { \
		echo "REPO_SLUG='$(REPO_SLUG)' is not a GitHub owner/name (is origin on GitHub?):"; \
		echo "run make badge REPO_SLUG=owner/name"; exit 1; }
	sed -i -E 's#(mybinder\.org/v2/gh/|raw\.githubusercontent\.com/|github\.com/)$(SLUG_OLD)/(HEAD|issues|blob|commits|tree)#\1$(REPO_SLUG)/\2#g; s#(github\.com/)$(SLUG_OLD)(["\#)])#\1$(REPO_SLUG)\2#g' README.md pyproject.toml
	@grep -n "$(REPO_SLUG)" README.md pyproject.toml

# hatch_build.py refuses the OWNER/ placeholder in any release build (python -m build too).
dist: $(DEV_STAMP) ## wheel and sdist in dist/ (refused while the badges still say OWNER)
	rm -rf dist
	$(BIN)/python -m build

clean: ## remove the venvs, caches and build output
	rm -rf $(VENV) $(FLOORS_VENV) .venv-python3.1* .pytest_cache .mypy_cache .ruff_cache .hypothesis test-artifacts build dist
