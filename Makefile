# Observatoire QPV: the few commands a newcomer needs. See README.md.
# Only python3 (>= 3.11) and make are required: the virtual environment is built from requirements.lock.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP  := $(VENV)/.installed

export OBSERVATOIRE_HOME ?= $(CURDIR)/var

.PHONY: demo test test-system test-celery lint airflow portal bench lock install clean-var

# The Data Docs' scripts, styles and fonts (etl/quality/datadocs_assets.json): npm tarballs, sha512-checked, into
# etl/quality/datadocs_assets/ (a no-op when they are in place), so that the docs need no CDN.
DATADOCS_ASSETS := $(BIN)/python -m etl.quality.datadocs install

$(STAMP): requirements.lock pyproject.toml Makefile etl/quality/datadocs_assets.json
	@$(PYTHON) scripts/check_python.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
		echo "python3 cannot create a virtual environment: install its venv module (Debian/Ubuntu: apt install python3-venv) and run make again." >&2; exit 1; }
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --quiet --python $(BIN)/python --require-hashes -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@$(DATADOCS_ASSETS)
	@# bytecode once, here: with PYTHONDONTWRITEBYTECODE set (as on these machines) every process would compile
	@# Airflow and GX again (13 s instead of 4 s to import them)
	@$(BIN)/python -m compileall -q -j 0 $(VENV)/lib >/dev/null
	@touch $(STAMP)

install: $(STAMP)
	@$(DATADOCS_ASSETS)

## Run the platform's main job end to end (embedded warehouse unless WAREHOUSE_URL is set).
demo: $(STAMP)
	@$(BIN)/observatoire demo

## The whole test suite against a real PostgreSQL (embedded unless WAREHOUSE_URL is set), on every core (up to 4):
## each pytest-xdist worker has its own database, home and Airflow; a test file stays on one worker.
test: $(STAMP)
	@$(BIN)/python -m pytest -q -n auto --maxprocesses=4 --dist loadfile --durations=15

## The warehouse's own tests again, on the system PostgreSQL 15 (CI machines have one): schema and migrations,
## loads (COPY, atomic swaps, faults), roles and row-level security, the microdata path. The rest of the suite reads
## the warehouse through the same code and runs on the embedded server in `make test`.
SYSTEM_TESTS := tests/warehouse tests/test_pipeline.py tests/test_landing.py tests/reliability/test_roles.py \
	tests/reliability/test_faults.py tests/sources/test_france_travail_individus.py
test-system: $(STAMP)
	@WAREHOUSE_URL=$${SYSTEM_WAREHOUSE_URL:-postgresql://postgres@127.0.0.1:5432/test} \
		$(BIN)/python -m pytest -q -m "(system_postgres or warehouse) and not airflow and not celery" $(SYSTEM_TESTS)

## Airflow on CeleryExecutor (api-server, scheduler, dag-processor, one worker) on the system Redis and PostgreSQL.
test-celery: $(STAMP)
	@$(BIN)/python -m pytest -q -m celery

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## The Airflow UI (airflow standalone) with the project's DAGs and the warehouse connection.
airflow: $(STAMP)
	@$(BIN)/observatoire airflow standalone

## The regional portal (etl/portal/) on http://$(PORTAL_HOST):$(PORTAL_PORT)/connexion; accounts: observatoire users add.
PORTAL_HOST ?= 127.0.0.1
PORTAL_PORT ?= 8090
portal: $(STAMP)
	@$(BIN)/observatoire portal --host $(PORTAL_HOST) --port $(PORTAL_PORT)

## Ingest speed vs the raw COPY rate on a generated France Travail file (BENCH_MONTHS=84 for the largest).
bench: $(STAMP)
	@$(BIN)/observatoire bench

## Re-resolve the lock file after editing pyproject.toml (needs the package index).
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 --generate-hashes -o requirements.lock

clean-var:
	@$(BIN)/observatoire warehouse stop || true
	rm -rf var
