# Everything bootstraps its own virtual environment in .venv: no global installs needed.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# JupyterLab refuses to run as root unless told; these machines run as root (Voila does not ask).
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
PORT ?= 8888

.PHONY: demo app test lint bench sandbox clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,lab]'
	touch $(STAMP)

## JupyterLab on the campaign form (the local sandbox when ALSONA_API_KEY is unset)
demo: $(STAMP)
	$(BIN)/jupyter lab notebooks/02_campaign_form.ipynb --port=$(PORT) $(ROOT_FLAG)

## the form as a standalone app (Voila: no code shown)
app: $(STAMP)
	$(BIN)/voila notebooks/02_campaign_form.ipynb --port=$(PORT)

## ruff, mypy, and every test: unit, notebooks under strict nbval, browser, Binder env
test: $(STAMP) lint
	$(BIN)/pytest --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg tests notebooks

lint: $(STAMP)
	$(BIN)/ruff check alsona_nb tests benchmarks
	$(BIN)/mypy

## benchmarks against raw requests, measured in the same run
bench: $(STAMP)
	$(BIN)/python -m benchmarks

## a sandbox server in this shell, for curl or another process
sandbox: $(STAMP)
	$(BIN)/python -m alsona_nb.sandbox --port 8765

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis test-artifacts
