"""Who may call what the project serves over HTTP.

Every web app of the project is declared in `SERVED_APPS` with the *realm* whose accounts open it. Today there is one
realm, Airflow's: the "Observatoire" page and its JSON (etl/ops/page.py, mounted in Airflow's api-server by
plugins/observatoire.py). Airflow mounts a plugin's FastAPI app with `app.mount()`, so the core API's authentication
never reaches it: `airflow_guarded` gives such an app, at its creation, an app-wide dependency made of Airflow's own
FastAPI security helpers (`airflow_ui_user`), so that every route, including routes added later, requires

- an authenticated Airflow user: the JWT the Airflow UI holds (cookie `_token`) or a bearer token from
  `POST /auth/token`, verified by the configured auth manager (`airflow.api_fastapi.core_api.security.get_user`);
- and the right to view the Airflow UI (`requires_access_view(AccessView.WEBSITE)`): a user the auth manager does not
  let see the UI does not see the page either (403).

An anonymous or expired request gets 401 (JSON) or, when a browser asks for a page, a redirect to Airflow's login
with the page as `next`. With `[core] simple_auth_manager_all_admins` (the local default of `make airflow`) Airflow's
own middleware makes every request an admin's, so the page opens without a login, as the rest of the UI does.

A realm's tokens open that realm's apps only: an app of another realm (the regional portal, realm `portail`, with
accounts and sessions of its own, etl/portal/app.py) must refuse an Airflow token, and Airflow refuses the portal's
(it only trusts JWTs signed with its own secret).
`route_samples` lists one request per route of an app (mounts included) for the tests that prove all this
(tests/ops/test_observatory_access.py against a real api-server, tests/reliability/test_http_access.py for every
declared app).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import import_module

from starlette.requests import Request

AIRFLOW = "airflow"
PORTAL = "portail"


@dataclass(frozen=True)
class ServedApp:
    """A web app of the project: `factory` ("module:function") builds it, `realm` says whose accounts open it,
    `prefix` is where it is served, `module` the source file that builds it (checked by the tests); `public` the
    (method, path) pairs open without an account (a login form), `login` where a browser without a session is sent
    (for an app of a realm other than Airflow's)."""

    factory: str
    realm: str
    prefix: str
    module: str
    public: frozenset[tuple[str, str]] = frozenset()
    login: str | None = None

    def create(self, *args, **kwargs):
        module_name, function = self.factory.split(":")
        return getattr(import_module(module_name), function)(*args, **kwargs)


SERVED_APPS: dict[str, ServedApp] = {
    "observatoire": ServedApp("etl.ops.page:create_app", AIRFLOW, "/observatoire", "etl/ops/page.py"),
    # the regional portal (etl/portal/): accounts of its own, served apart by `observatoire portal`
    "portail": ServedApp(
        "etl.portal.app:create_app",
        PORTAL,
        "/",
        "etl/portal/app.py",
        public=frozenset({("GET", "/connexion"), ("POST", "/connexion")}),
        login="/connexion",
    ),
}


def airflow_guarded(**fastapi_kwargs):
    """A FastAPI app whose every route requires an Airflow user allowed to view the Airflow UI (see the module's
    docstring); an anonymous browser asking for a page is redirected to Airflow's login."""
    from fastapi import Depends, FastAPI
    from fastapi.exception_handlers import http_exception_handler
    from fastapi.responses import RedirectResponse
    from starlette.exceptions import HTTPException

    app = FastAPI(dependencies=[Depends(airflow_ui_user)], **fastapi_kwargs)

    @app.exception_handler(HTTPException)
    async def login_or_refuse(request, exc):
        if _browser_asks_for_a_page(request) and _no_valid_session(exc):
            from airflow.api_fastapi.app import get_auth_manager

            return RedirectResponse(get_auth_manager().get_url_login(next_url=str(request.url)), status_code=303)
        return await http_exception_handler(request, exc)

    return app


async def airflow_ui_user(request: Request):
    """The request's Airflow user, if the auth manager lets them view the Airflow UI: Airflow's own `get_user` (bearer
    token, else the UI's cookie) and `requires_access_view(AccessView.WEBSITE)`, which raise 401/403. Imported at the
    first request, not when the plugin is loaded (Airflow's API security module costs 0.5 s to import, and plugins
    are loaded by every Airflow process)."""
    from airflow.api_fastapi.auth.managers.models.resource_details import AccessView
    from airflow.api_fastapi.core_api.security import bearer_scheme, get_user, requires_access_view

    user = await get_user(request, None, await bearer_scheme(request))
    requires_access_view(AccessView.WEBSITE)(request, user)
    return user


def _no_valid_session(exc) -> bool:
    """No token, an expired one (401) or one Airflow cannot verify (403 "Invalid JWT token", as its security helpers
    word it): the browser is sent to log in again. A user without the right (403 "Forbidden") is not."""
    return exc.status_code == 401 or (exc.status_code == 403 and exc.detail == "Invalid JWT token")


def _browser_asks_for_a_page(request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


_PARAM = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")


def route_samples(app, sample: str = "index.html") -> list[tuple[str, str]]:
    """One (method, path) per route of `app`, path parameters filled with `sample`; a mount (static files, a
    sub-application) gives a request under its path: every way into the app, for the tests to try anonymously."""
    from starlette.routing import Mount

    samples: list[tuple[str, str]] = []
    for route in app.routes:
        path = _PARAM.sub(sample, route.path)
        if isinstance(route, Mount):
            samples.append(("GET", f"{path.rstrip('/')}/{sample}"))
            continue
        for method in sorted(getattr(route, "methods", None) or {"GET"}):
            if method != "HEAD":
                samples.append((method, path))
    return samples
