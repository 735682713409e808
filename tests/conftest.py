"""Test session wiring: a private runtime folder, a fresh warehouse database, and Airflow pointed at both.

Before anything imports Airflow, the session gets its own OBSERVATOIRE_HOME (a temporary folder), a real
PostgreSQL (the embedded server started there, or the server of WAREHOUSE_URL when it is set), and a new
database on it created for this session and dropped at the end, so tests never see `make demo`'s state.
WAREHOUSE_URL and the Airflow variables (AIRFLOW_HOME, AIRFLOW_CONN_WAREHOUSE, ...) then point there.
With pytest-xdist (`make test` runs `-n auto`), each worker is such a session of its own; the controller, which
runs no test, sets up nothing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

_SESSION: dict = {}


def _admin_exec(url: str, sql: str) -> None:
    from etl.warehouse import admin_execute

    admin_execute(url, sql)


def _xdist_controller(config) -> bool:
    return bool(getattr(config.option, "numprocesses", None)) and not hasattr(config, "workerinput")


def pytest_configure(config):
    if _xdist_controller(config):
        return
    from etl.config import Home
    from etl.orchestration.environment import airflow_environment
    from etl.warehouse import embedded
    from etl.warehouse.urls import with_database

    home = Path(tempfile.mkdtemp(prefix="obsqpv-"))
    configured = os.environ.get("WAREHOUSE_URL")
    server_url = configured or embedded.start(home / "pg").url("postgres")
    database = f"obs_test_{uuid.uuid4().hex[:10]}"
    _admin_exec(server_url, f'CREATE DATABASE "{database}"')
    test_url = with_database(server_url, database)
    _SESSION.update(home=home, server_url=server_url, database=database, embedded=not configured)

    os.environ["OBSERVATOIRE_HOME"] = str(home)
    os.environ["WAREHOUSE_URL"] = test_url
    os.environ.update(airflow_environment(Home(home), test_url))


def pytest_unconfigure(config):
    if not _SESSION:
        return
    from etl.warehouse import embedded

    try:
        _admin_exec(_SESSION["server_url"], f'DROP DATABASE IF EXISTS "{_SESSION["database"]}" WITH (FORCE)')
    finally:
        if _SESSION["embedded"]:
            embedded.stop(_SESSION["home"] / "pg")
        shutil.rmtree(_SESSION["home"], ignore_errors=True)


@pytest.fixture(scope="session")
def warehouse_url() -> str:
    """libpq URL of this session's fresh warehouse database."""
    return os.environ["WAREHOUSE_URL"]


@pytest.fixture(scope="session")
def server_url() -> str:
    """URL of the server's maintenance database, for creating more throw-away databases."""
    return _SESSION["server_url"]


@pytest.fixture(scope="session")
def engine(warehouse_url):
    """Engine on the session database, migrated to head once."""
    from etl import warehouse
    from etl.warehouse import migrations

    eng = warehouse.engine(warehouse_url)
    migrations.migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def empty_database(server_url):
    """A brand-new, empty database on the same server (for migration tests); dropped afterwards."""
    from etl.warehouse.urls import with_database

    name = f"obs_empty_{uuid.uuid4().hex[:10]}"
    _admin_exec(server_url, f'CREATE DATABASE "{name}"')
    yield with_database(server_url, name)
    _admin_exec(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def observatoire_home() -> Path:
    return Path(os.environ["OBSERVATOIRE_HOME"])


@pytest.fixture
def isolated(server_url, tmp_path):
    """A warehouse of its own (new database, migrated) and a runtime folder of its own, for one test."""
    from etl import warehouse
    from etl.config import Home
    from etl.warehouse import migrations
    from etl.warehouse.urls import with_database

    name = f"obs_iso_{uuid.uuid4().hex[:10]}"
    _admin_exec(server_url, f'CREATE DATABASE "{name}"')
    eng = warehouse.engine(with_database(server_url, name))
    migrations.migrate(eng)
    home = Home(tmp_path / "home").ensure()
    yield SimpleNamespace(engine=eng, home=home, url=with_database(server_url, name))
    eng.dispose()
    _admin_exec(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _drop(home, source_id: str, name: str, content: bytes) -> None:
    inbox = home.folder("inbox") / source_id
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / name).write_bytes(content)


@pytest.fixture
def with_territories(isolated):
    """An isolated warehouse holding the régions and départements of catalogue/ (loaded through the pipeline)."""
    from etl import pipeline
    from etl.config import PROJECT_ROOT
    from etl.sources.registry import source

    for source_id, name in (("cog_regions", "regions.csv"), ("cog_departements", "departements.csv")):
        _drop(isolated.home, source_id, name, (PROJECT_ROOT / "catalogue" / name).read_bytes())
        report = pipeline.ingest(isolated.engine, source(source_id), home=isolated.home, run_id="test")
        assert [b.status for b in report.batches] == ["loaded"]
    return isolated


@pytest.fixture(scope="session")
def territories_dir(tmp_path_factory) -> Path:
    """The sample QPV referential files (ANCT format, both geographies), generated once for the session."""
    from etl.samples.generators.territories import generate

    folder = tmp_path_factory.mktemp("territories")
    generate(folder)
    return folder


# The repository's reference files a reference warehouse loads, in order (source id, file of catalogue/).
REFERENCE_FILES = (
    ("cog_regions", "regions.csv"),
    ("cog_departements", "departements.csv"),
    ("catalogue_indicateurs", "indicateurs_2014.csv"),
    ("catalogue_mesures", "mesures_2018.csv"),
    ("catalogue_mesure_indicateurs", "mesures_2018_indicateurs.csv"),
    ("catalogue_operateurs", "indicateurs_operateurs.csv"),
)


@pytest.fixture(scope="module")
def reference_warehouse(server_url, tmp_path_factory):
    """A warehouse of the test module's own (new database, migrated) holding the régions, départements, the 2014
    indicator catalogue, the 2018 measures, the operators' statistics (loaded through the pipeline) and the periods;
    and a runtime folder."""
    from etl import pipeline, warehouse
    from etl.config import PROJECT_ROOT, Home
    from etl.referentiels import periods
    from etl.sources.registry import source
    from etl.warehouse import migrations
    from etl.warehouse.urls import with_database

    name = f"obs_ref_{uuid.uuid4().hex[:10]}"
    _admin_exec(server_url, f'CREATE DATABASE "{name}"')
    eng = warehouse.engine(with_database(server_url, name))
    migrations.migrate(eng)
    home = Home(tmp_path_factory.mktemp("reference") / "home").ensure()
    for source_id, file_name in REFERENCE_FILES:
        _drop(home, source_id, file_name, (PROJECT_ROOT / "catalogue" / file_name).read_bytes())
        report = pipeline.ingest(eng, source(source_id), home=home, run_id="test")
        assert [b.status for b in report.batches] == ["loaded"]
    periods.load(eng)
    yield SimpleNamespace(engine=eng, home=home, url=with_database(server_url, name))
    eng.dispose()
    _admin_exec(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _chromium_binary() -> str:
    """Debian's chromium. Without it a browser test is skipped on a developer's machine, but fails in CI (`CI` set,
    as .ci/run runs): the browser tests prove guarantees of the README, so CI may not pass without them."""
    binary = shutil.which("chromium")
    if binary is None:
        message = "no chromium binary on PATH (Debian: apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}: the browser tests must run in CI")
        pytest.skip(message)
    return binary


@pytest.fixture
def chromium(tmp_path):
    """Open a page in headless Chromium (Debian's `chromium`; without it, see `_chromium_binary`): a
    function `open_page(url)` returning (exit code, the DOM after the page's scripts ran, console lines). Chromium
    logs every console message (console.log as console.error) as INFO:CONSOLE on stderr, and an uncaught exception
    as "Uncaught ...": a page meant to run cleanly shows neither. The profile lives in the test's tmp_path; a
    Chromium that does not finish in 90 s is killed, and its helper processes in any case."""
    import contextlib
    import signal
    import subprocess

    binary = _chromium_binary()
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--enable-logging=stderr",
        "--v=1",
        "--virtual-time-budget=2000",
        "--dump-dom",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ]

    def open_page(url: str) -> tuple[int, str, list[str]]:
        process = subprocess.Popen(
            [binary, *flags, url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        try:
            out, err = process.communicate(timeout=90)
        finally:  # a helper process left behind (or a Chromium that hung) goes with its process group
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        console = [line for line in err.splitlines() if "CONSOLE" in line or "Uncaught" in line]
        return process.returncode, out, console

    return open_page


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (its own browser downloads are never used: `executable_path` is the
    system binary; without it, see `_chromium_binary`), headless, with the flags these machines need
    (no background networking: nothing but the page's own requests leaves it). Closed after the session."""
    binary = _chromium_binary()
    from playwright.sync_api import sync_playwright

    flags = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run"]  # fmt: skip
    with sync_playwright() as playwright:
        chromium_browser = playwright.chromium.launch(executable_path=binary, args=flags, headless=True)
        try:
            yield chromium_browser
        finally:
            chromium_browser.close()


@pytest.fixture(scope="session")
def airflow_token(tmp_path_factory):
    """`token(role="ADMIN", username="admin")`: a JWT for a user of Airflow's SimpleAuthManager, minted by the auth
    manager of this process, initialised as the api-server initialises it (the session's Airflow settings; its
    metadata database migrated, where revoked tokens are looked up): what the web apps guarded by etl/ops/access.py
    verify. `role=""` is a user with no right at all."""
    from airflow.api_fastapi.app import init_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    from etl.orchestration import runner

    runner.prepare_metadata_db(tmp_path_factory.mktemp("airflow-logs"))
    manager = init_auth_manager()

    def token(role: str = "ADMIN", username: str = "admin") -> str:
        return manager.generate_jwt(SimpleAuthManagerUser(username=username, role=role))

    return token


@pytest.fixture(scope="module")
def observatory_app(reference_warehouse):
    """The "Observatoire" page's FastAPI app (etl/ops/page.py) on a reference warehouse of the test module's own that
    also holds an accepted (région 84) and a rejected (région 11) workbook of campaign 2024 and the released annual
    edition 2024; France Travail has sent nothing, so it is late: the page judges lateness on 20 June 2026, past
    the monthly due date and its tolerance whatever day the tests run. Its Data Docs are those of the module's
    runtime folder (the intake's validations). Every route requires an Airflow user: see `airflow_token`."""
    from datetime import UTC, datetime

    from etl.ops.page import create_app
    from etl.publication import publish
    from etl.samples.generators import submissions as gen
    from etl.submissions import intake

    wh = reference_warehouse
    inbox = wh.home.folder("inbox") / "regional"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / gen.submission_file_name("84", 2024)).write_bytes(gen.filled_workbook("84", 2024, seed=1).content)
    bad = gen.filled_workbook("11", 2024, seed=1, mistakes=["part_superieure_100"])
    (inbox / gen.submission_file_name("11", 2024)).write_bytes(bad.content)
    intake.intake(wh.engine, home=wh.home)
    publish.publish_annual(wh.engine, 2024, home=wh.home, now=datetime(2025, 6, 1, tzinfo=UTC))
    return create_app(lambda: wh.engine, home=wh.home, clock=lambda: datetime(2026, 6, 20, 12, tzinfo=UTC))
