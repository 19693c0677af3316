# Two commands do all set-up on a fresh machine (see README.md):
#   make demo   - the main job on the embedded default (local sandboxes, SQLite)
#   make test   - ruff and the whole test suite
# Both create .venv/ at the repository root from requirements.lock and install this project into it.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean soak

$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	# the build leaves a .egg-info here; with the repository root on sys.path (pytest, PYTHONPATH)
	# Airflow would then see the provider and the plugin entry points twice
	rm -rf *.egg-info
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m scripts.demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: lint
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m bench.run

# the model-based test and the bad-input campaign, 2,000 histories from a fresh seed (RELIABILITY.md)
soak: $(STAMP)
	MODEL_HISTORIES=$${MODEL_HISTORIES:-2000} MODEL_SEED=$${MODEL_SEED:-random} $(PY) -m tests.model.campaign --section soak

clean:
	rm -rf $(VENV) var airflow_home
