"""Static checks of the production-shaped stack: `docker-compose.yml` and the `Dockerfile` it builds.

No Docker engine runs here, so the stack is validated by reading the files: the services Airflow 3 needs
are present, every image is pinned (and the Airflow base image matches the apache-airflow pin of
pyproject.toml and requirements.lock), the warehouse connection, WAREHOUSE_URL and the warehouse server
agree, volumes and dependencies resolve, long-running services have health checks, and the Airflow
components share one environment. `${VAR:-default}` is resolved the way Compose does, both with the
defaults and with every variable set, so a check also fails when two places read different variables.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from packaging.specifiers import SpecifierSet
from sqlalchemy.engine import make_url

from etl.orchestration.environment import CELERY_EXTRA_CONFIG

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

# The components of an Airflow 3 deployment with the CeleryExecutor, and the stack's own backing services.
AIRFLOW_SERVICES = {
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
}
REQUIRED_SERVICES = AIRFLOW_SERVICES | {"postgres", "redis", "warehouse"}
AIRFLOW_COMMANDS = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
}
DEPENDS_ON_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}

Env = Callable[[str], str | None]
ENVIRONMENTS: dict[str, Env] = {
    "defaults": lambda name: None,  # nothing exported, no .env file: the dev defaults apply
    "overridden": lambda name: f"set-{name.lower()}",  # production: every variable set
}
_INTERPOLATION = re.compile(r"\$\$|\$\{(?P<name>\w+)(?:(?P<op>:?-)(?P<default>[^}]*))?\}|\$(?P<bare>[A-Za-z_]\w*)")


def interpolate(text: str, env: Env) -> str:
    """Compose's variable substitution: `$$` escapes, `${VAR:-default}`, `${VAR-default}`, `${VAR}`."""

    def substitute(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("name") or match.group("bare")
        value, op = env(name), match.group("op")
        if value is not None and (value or op != ":-"):
            return value
        if op is None:
            raise AssertionError(f"${{{name}}} has no default: the stack would not start without it")
        return match.group("default")

    return _INTERPOLATION.sub(substitute, text)


def resolve(node, env: Env):
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, dict):
        return {key: resolve(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(item, env) for item in node]
    return node


@pytest.fixture(scope="module")
def raw_compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module", params=sorted(ENVIRONMENTS))
def compose(request, raw_compose) -> dict:
    return resolve(raw_compose, ENVIRONMENTS[request.param])


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def environment(block: dict) -> dict[str, str]:
    env = block.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def depends_on(service: dict) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def named_volumes(service: dict) -> dict[str, str]:
    """Named volume -> mount target (bind mounts and anonymous volumes are left out)."""
    mounts = {}
    for entry in service.get("volumes") or []:
        if isinstance(entry, dict):
            if entry.get("type", "volume") == "volume" and entry.get("source"):
                mounts[entry["source"]] = entry["target"]
            continue
        source, _, rest = entry.partition(":")
        if rest and not source.startswith(("/", ".", "~", "$")):
            mounts[source] = rest.split(":")[0]
    return mounts


def container_ports(service: dict) -> set[int]:
    ports = set()
    for entry in [*(service.get("ports") or []), *(service.get("expose") or [])]:
        target = entry.get("target") if isinstance(entry, dict) else str(entry).rsplit(":", 1)[-1]
        ports.add(int(str(target).split("/")[0]))
    return ports


def command_text(service: dict) -> str:
    command = service.get("command") or ""
    return " ".join(command) if isinstance(command, list) else command


def one_shot_services(services: dict) -> set[str]:
    """Services that others wait to *complete*: they exit, so they need no health check."""
    return {
        target
        for service in services.values()
        for target, condition in depends_on(service).items()
        if condition == "service_completed_successfully"
    }


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    logical, pending = [], ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):  # Docker drops comments, even inside a continuation
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in logical]


def dockerfile_env() -> dict[str, str]:
    env = {}
    for instruction, args in dockerfile_instructions():
        if instruction == "ENV":
            env.update(item.split("=", 1) for item in shlex.split(args))
    return env


def pinned_version(requirements: list[str], name: str) -> str | None:
    for requirement in requirements:
        match = re.fullmatch(rf"\s*{re.escape(name)}\s*==\s*([\w.]+)\s*(?:;.*)?", requirement)
        if match:
            return match.group(1)
    return None


# --------------------------------------------------------------------------------------------- tests


def test_compose_file_parses_as_a_compose_spec_file(raw_compose):
    assert isinstance(raw_compose, dict) and isinstance(raw_compose.get("services"), dict)
    assert "version" not in raw_compose, "the Compose specification has no `version:` key (obsolete)"
    assert all(isinstance(service, dict) for service in raw_compose["services"].values())


def test_the_stack_resolves_without_any_environment(raw_compose):
    resolve(raw_compose, ENVIRONMENTS["defaults"])  # raises on a `${VAR}` that has no default


def test_every_service_airflow_3_needs_is_present(raw_compose):
    missing = REQUIRED_SERVICES - set(raw_compose["services"])
    assert not missing, f"missing services: {sorted(missing)}"


def test_every_image_is_pinned_to_an_explicit_tag(raw_compose):
    for name, service in raw_compose["services"].items():
        image = service.get("image")
        assert image, f"{name}: no image (a built service needs an explicit image name and tag too)"
        reference = image.split("@", 1)[0]
        repository, _, tag = reference.rpartition(":")
        assert repository and "/" not in tag, f"{name}: image {image!r} has no tag"
        assert tag != "latest", f"{name}: image {image!r} uses the moving `latest` tag"
        if "build" not in service:
            assert re.match(r"\d+\.\d+", tag), f"{name}: {image!r} is not pinned to at least major.minor"


def test_dockerfile_base_image_is_the_pinned_airflow_version(pyproject):
    bases = [args for instruction, args in dockerfile_instructions() if instruction == "FROM"]
    assert len(bases) == 1, f"expected one FROM, found {bases}"
    image = next(word for word in bases[0].split() if not word.startswith("--"))
    repository, _, tag = image.partition(":")
    assert repository == "apache/airflow", image
    match = re.fullmatch(r"(\d+\.\d+\.\d+)-python(3\.\d+)", tag)
    assert match, f"{image!r}: tag must be an exact Airflow release and Python version"
    image_airflow, image_python = match.groups()

    project_airflow = pinned_version(pyproject["project"]["dependencies"], "apache-airflow")
    assert project_airflow, "pyproject.toml does not pin apache-airflow=="
    assert image_airflow.split(".")[:2] == project_airflow.split(".")[:2]
    # Exactly equal, even: the image installs requirements.lock, which would otherwise move Airflow.
    assert image_airflow == project_airflow, f"FROM {image} but pyproject.toml pins {project_airflow}"
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines()
    assert pinned_version([line.rstrip(" \\") for line in lock], "apache-airflow") == project_airflow
    assert SpecifierSet(pyproject["project"]["requires-python"]).contains(image_python)


def test_observatoire_home_is_the_data_volume_everywhere(raw_compose):
    common = raw_compose["x-airflow-common"]
    image_home = dockerfile_env().get("OBSERVATOIRE_HOME")
    assert image_home, "the Dockerfile does not set OBSERVATOIRE_HOME"
    assert environment(common).get("OBSERVATOIRE_HOME") == image_home
    assert named_volumes(common).get("observatoire-data") == image_home


def test_warehouse_connection_url_and_server_agree(compose):
    services, common = compose["services"], environment(compose["x-airflow-common"])
    conn = json.loads(common["AIRFLOW_CONN_WAREHOUSE"])
    assert conn["conn_type"] == "postgres"
    assert conn["host"] in services, f"connection host {conn['host']!r} is not a service"
    assert conn["host"] == "warehouse", "the warehouse connection must target the warehouse server"
    server = environment(services["warehouse"])
    assert conn["login"] == server["POSTGRES_USER"]
    assert conn["password"] == server["POSTGRES_PASSWORD"]
    assert conn["schema"] == server["POSTGRES_DB"]
    assert int(conn["port"]) == int(server.get("PGPORT", 5432))

    url = make_url(common["WAREHOUSE_URL"])
    assert url.get_backend_name() == "postgresql"
    assert (url.host, url.port or 5432) == (conn["host"], int(conn["port"]))
    assert (url.username, url.password, url.database) == (conn["login"], conn["password"], conn["schema"])


def test_metadata_database_and_broker_are_their_own_services(compose):
    services, common = compose["services"], environment(compose["x-airflow-common"])
    for key in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CELERY__RESULT_BACKEND"):
        url = make_url(common[key])
        assert url.host in services and url.host != "warehouse", f"{key}: host {url.host!r}"
        server = environment(services[url.host])
        assert (url.username, url.password, url.database) == (
            server["POSTGRES_USER"],
            server["POSTGRES_PASSWORD"],
            server["POSTGRES_DB"],
        ), key
    # the connection warehouse_maintenance's metadata purge runs through names that same database
    granted, metadata = (
        make_url(common["AIRFLOW_CONN_AIRFLOW_METADATA"]),
        make_url(common["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]),
    )
    assert (granted.host, granted.port, granted.username, granted.password, granted.database) == (
        metadata.host,
        metadata.port,
        metadata.username,
        metadata.password,
        metadata.database,
    )
    broker = urlsplit(common["AIRFLOW__CELERY__BROKER_URL"])
    assert broker.scheme == "redis" and broker.hostname in services
    assert services[broker.hostname]["image"].startswith("redis:")


def test_airflow_settings(raw_compose):
    common = environment(raw_compose["x-airflow-common"])
    assert common["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert common["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false"
    assert common["AIRFLOW__CORE__AUTH_MANAGER"].endswith(".SimpleAuthManager")
    assert common["AIRFLOW__API_AUTH__JWT_SECRET"], "components must share one JWT secret"
    # the workers preload what the tasks import, as the local environment has them do
    assert json.loads(common["AIRFLOW__CELERY__EXTRA_CELERY_CONFIG"]) == CELERY_EXTRA_CONFIG


def test_execution_api_url_reaches_the_api_server(raw_compose):
    services = raw_compose["services"]
    url = urlsplit(environment(raw_compose["x-airflow-common"])["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert url.hostname == "airflow-apiserver" and url.path == "/execution/"
    assert (url.port or 80) in container_ports(services["airflow-apiserver"])


def test_airflow_services_run_their_component(raw_compose):
    services = raw_compose["services"]
    for name, command in AIRFLOW_COMMANDS.items():
        assert command_text(services[name]).strip() == command, name
    apiserver_check = " ".join(services["airflow-apiserver"]["healthcheck"]["test"])
    assert "localhost:8080/api/v2/version" in apiserver_check


def test_init_migrates_airflow_then_the_warehouse(raw_compose, pyproject):
    service = raw_compose["services"]["airflow-init"]
    script = command_text(service)
    assert "airflow db migrate" in script and "observatoire migrate" in script
    assert script.index("airflow db migrate") < script.index("observatoire migrate")
    stops_on_error = re.search(r"(^|\s)-[a-z]*e[a-z]*\s|set -[a-z]*e", script) or "&&" in script
    assert stops_on_error, "a failed migration must fail airflow-init (bash -e or &&)"
    assert "observatoire" in pyproject["project"]["scripts"], "the init calls the `observatoire` script"


def test_named_volumes_are_declared_and_used(raw_compose):
    declared = set(raw_compose.get("volumes") or {})
    used = set()
    for name, service in raw_compose["services"].items():
        undeclared = set(named_volumes(service)) - declared
        assert not undeclared, f"{name}: volumes {sorted(undeclared)} are not declared at top level"
        used |= set(named_volumes(service))
    assert declared == used, f"declared but unused volumes: {sorted(declared - used)}"


def test_depends_on_targets_exist_with_valid_conditions(raw_compose):
    services = raw_compose["services"]
    for name, service in services.items():
        for target, condition in depends_on(service).items():
            assert target in services and target != name, f"{name} depends on unknown {target!r}"
            assert condition in DEPENDS_ON_CONDITIONS, f"{name} -> {target}: {condition!r}"
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target} to be healthy"
    for name in AIRFLOW_SERVICES - {"airflow-init"}:
        deps = depends_on(services[name])
        assert deps.get("airflow-init") == "service_completed_successfully", name
        for backing in ("postgres", "redis", "warehouse"):
            assert deps.get(backing) == "service_healthy", f"{name} must wait for a healthy {backing}"


def test_every_long_running_service_has_a_healthcheck(raw_compose):
    services = raw_compose["services"]
    one_shot = one_shot_services(services)
    assert one_shot == {"airflow-init"}, f"one-shot services: {sorted(one_shot)}"
    assert services["airflow-init"].get("restart", "no") == "no"
    for name in set(services) - one_shot:
        check = services[name].get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"
        assert check["test"] != ["NONE"], f"{name} disables its health check"
        assert services[name].get("restart") in {"always", "unless-stopped"}, f"{name} is not restarted"


def test_airflow_services_share_the_common_definition(raw_compose):
    common = raw_compose["x-airflow-common"]
    common_env = environment(common)
    assert common_env, "x-airflow-common has no environment"
    for name in AIRFLOW_SERVICES:
        service = raw_compose["services"][name]
        assert service.get("image") == common["image"] and service.get("build") == common["build"], name
        assert named_volumes(service) == named_volumes(common), name
        env = environment(service)
        differing = {key for key, value in common_env.items() if env.get(key) != value}
        assert not differing, f"{name} lacks or overrides the common environment: {sorted(differing)}"


def test_secrets_come_from_the_environment(raw_compose):
    """Resolved with every variable set, no password or secret may keep a value written in the file."""
    compose = resolve(raw_compose, ENVIRONMENTS["overridden"])
    blocks = {"x-airflow-common": compose["x-airflow-common"], **compose["services"]}
    for name, block in blocks.items():
        for key, value in environment(block).items():
            if re.search(r"(PASSWORD|SECRET|SECRET_KEY|FERNET_KEY)$", key):
                assert value.startswith("set-"), f"{name}: {key} is hard-coded"
            if value.startswith("{") and '"password"' in value:
                assert json.loads(value)["password"].startswith("set-"), f"{name}: {key} password"
            if "://" in value and "@" in value:
                password = make_url(value).password
                assert password is None or password.startswith("set-"), f"{name}: {key} password"


def test_the_portal_service_serves_the_portal_on_the_shared_data_and_warehouse(raw_compose):
    common, portal = raw_compose["x-airflow-common"], raw_compose["services"]["portal"]
    assert "observatoire portal --host 0.0.0.0 --port 8090" in " ".join(portal["command"])
    assert named_volumes(portal) == named_volumes(common)  # an accepted deposit is archived where the intake reads
    env = environment(portal)
    assert env["WAREHOUSE_URL"] == environment(common)["WAREHOUSE_URL"]
    assert env["OBSERVATOIRE_PORTAL_AIRFLOW_URL"] == "http://airflow-apiserver:8080"  # triggers the intake DAG
    assert any(str(port).endswith(":8090") for port in portal["ports"])
