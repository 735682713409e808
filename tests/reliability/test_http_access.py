"""Everything the project serves over HTTP refuses a caller its realm does not know (etl/ops/access.py).

In this process, with Airflow's own auth manager initialised as the api-server initialises it (`airflow_token` of
tests/conftest.py): every web app of the source tree must be declared in `SERVED_APPS` (a new one that is not fails
here), and every route of every declared app, mounts included, refuses an anonymous caller, an expired or forged
token and a user without the right to view the Airflow UI, and sends a browser without a session to Airflow's
login. An app of another realm (the regional portal, realm `portail`) must refuse an Airflow admin's token and send
a browser to its own login; its declared public routes (the login form) are the only ones open without an account
(the portal's own tests, tests/portal/, prove its sessions). The check
itself is shown to catch a route added without the guard, and a route added after the app was built gets the guard.
The same checks against a real api-server: tests/ops/test_observatory_access.py.
"""

from __future__ import annotations

import importlib.util
import re
import secrets

import pytest
from fastapi.testclient import TestClient

from etl.config import PROJECT_ROOT
from etl.ops.access import AIRFLOW, SERVED_APPS, route_samples

# What starts a web app or mounts one in Airflow: found in a file, that file must be declared.
WEB_APP = re.compile(
    r"\b(FastAPI|Starlette|Flask|APIRouter)\(|\buvicorn\.(run|Server)\b|\bHTTPServer\(|\bfastapi_apps\s*=|"
    r"\bairflow_guarded\(|\bflask_blueprints\s*=|\bapp\.mount\("
)
GUARD_MODULE = "etl/ops/access.py"


def _tree_files():
    for folder in ("etl", "plugins", "dags"):
        yield from sorted((PROJECT_ROOT / folder).rglob("*.py"))


def _plugins():
    for path in sorted((PROJECT_ROOT / "plugins").glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"plugin_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield from (
            value for value in vars(module).values() if isinstance(value, type) and getattr(value, "fastapi_apps", None)
        )


def anonymous_answers(app) -> list[str]:
    """The requests to `app` (one per route or mount) that an anonymous caller gets an answer to."""
    client = TestClient(app, follow_redirects=False)
    return [f"{method} {path}" for method, path in route_samples(app) if client.request(method, path).status_code < 400]


def test_every_web_app_of_the_tree_is_declared():
    declared = {served.module for served in SERVED_APPS.values()} | {GUARD_MODULE}
    serving = {str(path.relative_to(PROJECT_ROOT)) for path in _tree_files() if WEB_APP.search(path.read_text())}
    plugins = {path for path in serving if path.startswith("plugins/")}
    assert serving - plugins <= declared, f"web apps not declared in etl/ops/access.py: {serving - plugins - declared}"
    # a plugin mounts declared apps only, each under its declared prefix
    prefixes = {served.prefix for served in SERVED_APPS.values()}
    mounted = [entry["url_prefix"] for plugin in _plugins() for entry in plugin.fastapi_apps]
    assert mounted and set(mounted) <= prefixes, mounted
    assert not any(getattr(plugin, "flask_blueprints", None) for plugin in _plugins())


@pytest.mark.parametrize("name", sorted(SERVED_APPS))
def test_every_route_of_a_served_app_refuses_whoever_its_realm_does_not_know(name, airflow_token):
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    served = SERVED_APPS[name]
    app = served.create()
    samples = route_samples(app)
    assert samples, "no route found: the enumeration sees nothing"
    client = TestClient(app, follow_redirects=False)
    admin = airflow_token()
    expired = get_auth_manager().generate_jwt(
        SimpleAuthManagerUser(username="admin", role="ADMIN"), expiration_time_in_seconds=-60
    )
    forged = admin[: admin.rindex(".") + 1] + secrets.token_urlsafe(32)
    assert served.public <= set(samples), f"{name}: a public route that the app does not have"
    for method, path in samples:
        where = f"{name}: {method} {path}"
        if (method, path) in served.public:  # the login form: open to anyone by design, declared in SERVED_APPS
            continue
        assert client.request(method, path).status_code == 401, where
        if served.realm == AIRFLOW:
            assert client.request(method, path, headers={"Authorization": f"Bearer {expired}"}).status_code == 401
            assert client.request(method, path, headers={"Authorization": f"Bearer {forged}"}).status_code == 403
            no_right = {"Authorization": f"Bearer {airflow_token(role='', username='sans_droit')}"}
            assert client.request(method, path, headers=no_right).status_code == 403, where
        else:  # another realm's app never takes an Airflow token, even an admin's
            for token in (admin, expired, forged):
                answer = client.request(method, path, headers={"Authorization": f"Bearer {token}"})
                assert answer.status_code in (401, 403), where
        if method == "GET":  # a browser without a session: to its realm's login (Airflow's, and back)
            login = get_auth_manager().get_url_login() if served.realm == AIRFLOW else served.login
            cookies = ({}, {"_token": forged}) if served.realm == AIRFLOW else ({}, {"_token": admin})
            for jar in cookies:
                client.cookies.clear()
                client.cookies.update(jar)
                page = client.get(path, headers={"Accept": "text/html"})
                assert page.status_code == 303, where
                assert page.headers["location"].startswith(login), where
            client.cookies.clear()


def test_the_check_finds_a_route_or_a_mount_added_without_the_guard(tmp_path, airflow_token):
    from fastapi.staticfiles import StaticFiles
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    app = SERVED_APPS["observatoire"].create()
    assert anonymous_answers(app) == []

    @app.get("/api/later")  # a route added after the app was built gets the app's guard
    def later():
        return {"secret": 1}

    assert anonymous_answers(app) == []
    app.router.routes.append(Route("/leak", lambda request: PlainTextResponse("data")))  # past FastAPI's dependencies
    (tmp_path / "index.html").write_text("data")
    app.mount("/static", StaticFiles(directory=tmp_path))  # a mount never sees the app's dependencies
    assert anonymous_answers(app) == ["GET /leak", "GET /static/index.html"]


def test_the_observatory_opens_the_data_docs_only_inside_their_folder(tmp_path, airflow_token):
    from etl.config import Home

    home = Home(tmp_path / "home").ensure()
    (home.folder("datadocs") / "index.html").write_text("<p>index</p>")
    (home.folder("datadocs") / "static").mkdir()
    (home.folder("datadocs") / "static" / "style.css").write_text("p {}")
    (tmp_path / "home" / "secret.txt").write_text("secret")
    (home.folder("datadocs") / "out").symlink_to(tmp_path / "home" / "secret.txt")
    app = SERVED_APPS["observatoire"].create(home=home)
    client = TestClient(app, headers={"Authorization": f"Bearer {airflow_token()}"})
    assert client.get("/datadocs/").text == "<p>index</p>"
    assert client.get("/datadocs/index.html").text == "<p>index</p>"
    css = client.get("/datadocs/static/style.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    for escape in ("/datadocs/../secret.txt", "/datadocs/%2e%2e/secret.txt", "/datadocs/out", "/datadocs/static"):
        assert client.get(escape).status_code == 404, escape
