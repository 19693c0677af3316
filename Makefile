# Two commands do all set-up on a fresh machine (see README.md):
#   make demo   - the main job on the embedded default (local sandboxes, SQLite)
#   make test   - ruff and the whole test suite
# Both create .venv/ at the repository root from requirements.lock and install this project into it.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium

.PHONY: demo test lint bench clean soak e2e-setup e2e-ui

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

# every test, the real-browser one included (e2e-setup installs Debian's Chromium when it is missing)
test: lint e2e-setup
	E2E_REQUIRED=1 E2E_CHROMIUM=$(CHROMIUM) $(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m bench.run
	$(PY) -m bench.parse_time

# the model-based test and the bad-input campaign, 2,000 histories from a fresh seed (RELIABILITY.md)
soak: $(STAMP)
	MODEL_HISTORIES=$${MODEL_HISTORIES:-2000} MODEL_SEED=$${MODEL_SEED:-random} $(PY) -m tests.model.campaign --section soak

# The real-browser UI test (tests/e2e/test_ui.py): Debian's headless Chromium and Playwright (the `e2e`
# extra, which drives that system browser: Playwright downloads no browser of its own here), then the test.
# Needs PostgreSQL on 127.0.0.1:5432 (trust auth), as `make test` does.
e2e-setup: $(STAMP)
	test -x $(CHROMIUM) && test -x /usr/bin/chromedriver || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }
	$(PY) -c 'import playwright' 2>/dev/null || $(PY) -m pip install --quiet --disable-pip-version-check -e '.[e2e]'
	rm -rf *.egg-info

e2e-ui: e2e-setup
	E2E_REQUIRED=1 E2E_CHROMIUM=$(CHROMIUM) $(PY) -m pytest -m e2e tests/e2e $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var airflow_home
