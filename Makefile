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
	# the editable build leaves a .egg-info in the repository root, which is on sys.path for the
	# sandboxes, tests and scripts: importlib.metadata would then list the distribution twice, and
	# Airflow would load the provider twice
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
	$(PY) -m bench.parse_time

# the model-based test and the bad-input campaign, 2,000 histories from a fresh seed (RELIABILITY.md)
soak: $(STAMP)
	MODEL_HISTORIES=$${MODEL_HISTORIES:-2000} MODEL_SEED=$${MODEL_SEED:-random} $(PY) -m tests.model.campaign --section soak

clean:
	rm -rf $(VENV) var airflow_home
