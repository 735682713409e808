"""The observatory page behind Airflow's authentication, on a real api-server (the project's plugins folder, the
session's warehouse and Airflow metadata database, loopback only).

With `simple_auth_manager_all_admins` off (as docker-compose runs the stack), three SimpleAuthManager users: `admin`
(ADMIN), `lecteur` (VIEWER, may view the UI) and `sans_droit` (no role: may log in, may not view the UI). Every route
of the plugin's app, enumerated from the app itself (a route added later is tried too), is refused to an anonymous
caller (401; a browser asking for the page is sent to Airflow's login), opened with a token from `POST /auth/token`
(200) and refused to `sans_droit` (403). In Chromium, an admin logs in through Airflow's own login page and sees the
page inside the Airflow UI, then opens the Data Docs it links to: styled, and nothing requested from another host.
With `simple_auth_manager_all_admins` on (the local default of `make airflow`) the page opens without a login, as the
rest of the UI does. Every process started is stopped (process group, SIGTERM then SIGKILL), even on failure.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from etl.config import Home
from etl.ops.access import route_samples
from etl.orchestration import runner
from etl.orchestration.environment import airflow_environment

from .test_deadline_alert import _free_port, _stop, _tails
from .test_observatory_page import observatoire_plugin

pytestmark = [pytest.mark.airflow, pytest.mark.warehouse]

USERS = "admin:admin,lecteur:viewer,sans_droit:"
HEADING = "Observatoire QPV : état des sources, campagnes et éditions"


def _plugin_app():
    """The app plugins/observatoire.py mounts, built by the same code as in the api-server."""
    [entry] = observatoire_plugin().fastapi_apps
    return entry["url_prefix"], entry["app"]


class ApiServer:
    """`airflow api-server` on a free loopback port, one worker, the project's plugins, the given auth settings."""

    def __init__(self, folder: Path, warehouse_url: str, *, all_admins: bool):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.folder = folder
        self.passwords = {name: secrets.token_urlsafe(12) for name in ("admin", "lecteur", "sans_droit")}
        (folder / "passwords.json").write_text(json.dumps(self.passwords))
        home = Home(folder / "home").ensure()
        from etl.quality import gates

        gates.build_data_docs(home)  # the (empty) Data Docs site the page links to, with its local scripts and styles
        self.env = {
            **os.environ,
            **airflow_environment(home, warehouse_url),
            "AIRFLOW_HOME": os.environ["AIRFLOW_HOME"],  # the session's metadata database, already migrated
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"],
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": str(all_admins),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": USERS,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(folder / "passwords.json"),
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__BASE_URL": self.base,
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(48),
        }
        self.log = folder / "api-server.log"
        self.proc: subprocess.Popen | None = None

    def __enter__(self):
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "airflow", "api-server"], env=self.env, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "the api-server stopped\n" + _tails(self.folder)
            if self.request("GET", "/api/v2/monitor/health")[0] == 200:
                return self
            time.sleep(0.5)
        raise AssertionError("the api-server did not answer within 180 s\n" + _tails(self.folder))

    def __exit__(self, *exc):
        _stop([self.proc])

    def request(self, method: str, path: str, *, token: str | None = None, accept: str = "*/*", body=None):
        """(status, headers, text) of one request; redirects are not followed."""
        headers = {"Accept": accept}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(urllib.request.Request(self.base + path, data, headers, method=method), timeout=30) as r:
                return r.status, r.headers, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode("utf-8", "replace")
        except OSError:
            return 0, {}, ""

    def token(self, user: str) -> str:
        status, _, text = self.request("POST", "/auth/token", body={"username": user, "password": self.passwords[user]})
        assert status == 201, (status, text)
        return json.loads(text)["access_token"]


@pytest.fixture(scope="module")
def metadata_db(tmp_path_factory):
    """The session's Airflow metadata database, migrated (the api-servers share it)."""
    runner.prepare_metadata_db(tmp_path_factory.mktemp("airflow-logs"))


@pytest.fixture(scope="module")
def secured(tmp_path_factory, warehouse_url, engine, metadata_db):
    """The api-server with authentication on (`simple_auth_manager_all_admins` False)."""
    with ApiServer(tmp_path_factory.mktemp("secured"), warehouse_url, all_admins=False) as server:
        yield server


def test_every_route_of_the_plugin_is_refused_anonymously_and_opened_with_a_token(secured):
    prefix, app = _plugin_app()
    samples = route_samples(app)
    assert ("GET", "/") in samples and ("GET", "/datadocs/index.html") in samples  # the enumeration sees the app
    # Airflow's own API refuses the anonymous caller too: the baseline the plugin must match
    assert secured.request("GET", "/api/v2/dags")[0] == 401

    admin, viewer, no_right = (secured.token(user) for user in ("admin", "lecteur", "sans_droit"))
    for method, path in samples:
        url = prefix + path
        anonymous, _, text = secured.request(method, url)
        assert anonymous == 401, f"{method} {url}: anonymous got {anonymous} {text[:200]}"
        assert secured.request(method, url, token=admin)[0] == 200, f"{method} {url} as admin"
        assert secured.request(method, url, token=viewer)[0] == 200, f"{method} {url} as a viewer"
        refused, _, text = secured.request(method, url, token=no_right)
        assert refused == 403, f"{method} {url}: a user without the right got {refused} {text[:200]}"

    # a browser asking for the page without a session is sent to Airflow's login, the page as `next`
    status, headers, _ = secured.request("GET", prefix + "/", accept="text/html,application/xhtml+xml")
    assert status == 303 and headers["location"].startswith("/auth/login?next="), (status, dict(headers))
    assert "observatoire" in urllib.parse.unquote(headers["location"])
    # a forged token is refused, whoever it claims to be
    forged = admin[: admin.rindex(".") + 1] + secrets.token_urlsafe(32)
    assert secured.request("GET", prefix + "/api/sources", token=forged)[0] == 403


def test_an_admin_logs_in_and_sees_the_page_in_the_airflow_ui_then_the_data_docs(secured, browser):
    context = browser.new_context()
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    try:
        page.goto(f"{secured.base}/plugin/observatoire", wait_until="networkidle")
        page.get_by_label("Username").fill("admin")
        page.get_by_label("Password").fill(secured.passwords["admin"])
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/plugin/observatoire", timeout=60_000)
        frame = page.frame_locator("iframe").first
        assert frame.get_by_role("heading", level=1).inner_text(timeout=60_000) == HEADING
        link = frame.get_by_role("link", name="Data Docs", exact=False)
        assert link.get_attribute("href") == "datadocs/index.html"

        docs = context.new_page()  # the link opens a new tab; the session cookie goes with it
        docs.goto(f"{secured.base}/observatoire/datadocs/index.html", wait_until="networkidle")
        assert docs.evaluate("typeof window.jQuery === 'function' && typeof jQuery.fn.bootstrapTable === 'function'")
        docs.close()
    finally:
        context.close()
    local = (secured.base, f"blob:{secured.base}", "data:")  # blob: and data: URLs are the page's own memory
    elsewhere = [url for url in requests if not url.startswith(local)]
    assert elsewhere == [], f"requests left the machine: {elsewhere}"


def test_with_all_admins_the_page_opens_without_a_login(tmp_path, warehouse_url, engine, metadata_db):
    with ApiServer(tmp_path, warehouse_url, all_admins=True) as server:
        status, _, text = server.request("GET", "/observatoire/api/sources")
        assert status == 200 and json.loads(text), text[:200]
        status, _, text = server.request("GET", "/observatoire/", accept="text/html")
        assert status == 200 and HEADING in text
