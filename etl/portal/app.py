"""The portal's FastAPI app (`create_app`), served by `observatoire portal` (uvicorn) and declared in
etl/ops/access.py's SERVED_APPS with its own realm, `portail` (whose `public` routes it reads).

Every route goes through one app-wide guard (`_guard`), routes added later included: a route not in `PUBLIC` needs
a live session (else 401; a browser asking for a page is sent to /connexion), and every request that is not a GET
must carry the CSRF token of its form (`csrf_token`: the session's, or for the login form the one of the
`portail_csrf` cookie; else 403). Officers reach their own territory only (`/depots/<id>` of another is 404, as is
a deposit their région role cannot read), admins `/suivi` only (403 the other way). The body of a request is
refused past `max_body_bytes` before it is read whole (`BodyLimit`). Session cookies are HttpOnly, SameSite=Strict,
Secure when the request came over HTTPS (behind a proxy: X-Forwarded-Proto, see README).
"""

from __future__ import annotations

import hmac
import secrets
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from etl.config import Home
from etl.ops.access import PORTAL, SERVED_APPS
from etl.portal import accounts, deposits, pages, store

SESSION_COOKIE = "portail_session"
LOGIN_CSRF_COOKIE = "portail_csrf"
PUBLIC = SERVED_APPS[PORTAL].public  # the login form, the only way in without a session
LOGIN_FAILED = "Identifiant ou mot de passe incorrect."
LOCKED = "Trop de tentatives de connexion échouées : réessayez dans quelques minutes."
MULTIPART_MARGIN = 64 * 1024  # the form's boundaries and other fields around the file
# No script, no frame, no request elsewhere: the pages need their inline styles and nothing else.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def max_body_bytes() -> int:
    """The largest request body: the workbooks' own size limit (etl/xlsx.py) and the form around it."""
    from etl.xlsx import Limits

    return Limits().max_file_bytes + MULTIPART_MARGIN


class BodyLimit:
    """ASGI middleware: a request whose Content-Length, or whose body as it streams in, exceeds `limit` gets 413
    before the rest is read; what was read (at most `limit` bytes) is handed to the app."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD"):
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await self._refuse(send)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self.limit:
                return await self._refuse(send)
        body = b"".join(chunks)
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)

    async def _refuse(self, send):
        text = pages.message_page(
            "Fichier trop volumineux", f"Le dépôt dépasse {self.limit // (1024 * 1024)} Mo : il n'a pas été lu."
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"text/html; charset=utf-8"), (b"connection", b"close")],
            }
        )
        await send({"type": "http.response.body", "body": text})


def create_app(
    engine: Callable | None = None,
    *,
    home: Home | None = None,
    settings: store.Settings | None = None,
    clock: Callable[[], datetime] | None = None,
):
    """The portal. `engine` returns the warehouse's engine (default: `etl.warehouse.engine`, opened at the first
    request); `clock` the current time (the campaign in progress follows it)."""
    settings = settings or store.Settings.from_env()
    clock = clock or (lambda: datetime.now(UTC))
    cache: dict = {}

    def db():
        if "engine" not in cache:
            if engine is not None:
                cache["engine"] = engine()
            else:
                from etl import warehouse

                cache["engine"] = warehouse.engine()
        return cache["engine"]

    def runtime() -> Home:
        return home or Home.from_env()

    async def _guard(request: Request):
        route = request.scope.get("route")
        key = (request.method, getattr(route, "path", request.url.path))
        reads_a_form = request.method not in ("GET", "HEAD")
        if key in PUBLIC:
            form = await request.form() if reads_a_form else None
            if form is not None and not _same(form.get("csrf_token"), request.cookies.get(LOGIN_CSRF_COOKIE)):
                raise HTTPException(403, "Jeton CSRF absent ou invalide : rechargez la page et recommencez.")
            return
        token = request.cookies.get(SESSION_COOKIE)
        found = await run_in_threadpool(store.session, db(), token, settings) if token else None
        if found is None:  # refused before the body is parsed
            raise HTTPException(401, "Connectez-vous pour accéder au portail.")
        request.state.account, request.state.csrf = found
        form = await request.form() if reads_a_form else None
        if form is not None and not _same(form.get("csrf_token"), request.state.csrf):
            raise HTTPException(403, "Jeton CSRF absent ou invalide : rechargez la page et recommencez.")

    app = FastAPI(
        title="Portail régional de l'Observatoire QPV",
        dependencies=[Depends(_guard)],
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.add_middleware(BodyLimit, limit=max_body_bytes())

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.exception_handler(StarletteHTTPException)  # FastAPI's and the router's own (an unknown path)
    async def refused(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 401 and request.method == "GET" and "text/html" in request.headers.get("accept", ""):
            return RedirectResponse("/connexion", status_code=303)
        titles = {401: "Connexion requise", 403: "Accès refusé", 404: "Page introuvable"}
        body = pages.message_page(titles.get(exc.status_code, "Erreur"), str(exc.detail))
        return HTMLResponse(body, status_code=exc.status_code)

    def address(request: Request) -> str | None:
        return request.client.host if request.client else None

    def officer(request: Request) -> accounts.Account:
        account = request.state.account
        if account.is_admin:
            raise HTTPException(403, "Cette page est celle des services territoriaux ; voir le suivi des dépôts.")
        return account

    def period_of(account) -> str:
        return deposits.current_period(account, clock().date())

    @app.get("/connexion", response_class=HTMLResponse)
    def login_form(request: Request):
        token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
        answer = HTMLResponse(pages.login_page(token))
        _cookie(request, answer, LOGIN_CSRF_COOKIE, token)
        return answer

    @app.post("/connexion", response_class=HTMLResponse)
    async def login(request: Request):
        form = await request.form()
        login, password = str(form.get("login") or "").strip(), str(form.get("password") or "")
        csrf = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        where = address(request)
        if await run_in_threadpool(store.locked, db(), login, where, settings):
            await run_in_threadpool(store.journal, db(), "blocage", login, where, None)
            return HTMLResponse(pages.login_page(csrf, LOCKED, login), status_code=429)
        account = await run_in_threadpool(accounts.authenticate, db(), login, password)
        if account is None:
            await run_in_threadpool(store.journal, db(), "echec", login, where, None)
            return HTMLResponse(pages.login_page(csrf, LOGIN_FAILED, login), status_code=401)
        await run_in_threadpool(store.journal, db(), "connexion", account.login, where, None)
        token = await run_in_threadpool(store.open_session, db(), account.login, where)
        answer = RedirectResponse("/suivi" if account.is_admin else "/", status_code=303)
        _cookie(request, answer, SESSION_COOKIE, token)
        answer.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
        return answer

    @app.post("/deconnexion")
    def logout(request: Request):
        store.close_session(db(), request.cookies[SESSION_COOKIE])
        store.journal(db(), "deconnexion", request.state.account.login, address(request))
        answer = RedirectResponse("/connexion", status_code=303)
        answer.delete_cookie(SESSION_COOKIE, path="/")
        return answer

    @app.get("/", response_class=HTMLResponse)
    def home_page(request: Request):
        if request.state.account.is_admin:
            return RedirectResponse("/suivi", status_code=303)
        account = officer(request)
        period = period_of(account)
        rows = store.deposits(db(), account)
        return pages.home_page(
            account, period, deposits.deadline(account, period), _state(account, period), rows, request.state.csrf
        )

    def _state(account, period: str) -> dict | None:
        """The account's own row of `submissions status` (read by the portal's login: the status view joins
        tables the région roles do not read; the row is picked by the session's territory)."""
        from etl.ops import campaigns

        if account.kind == "paqte":
            frame = campaigns.paqte_status(db(), period)
            frame = frame[frame["departement_code"] == account.departement_code] if not frame.empty else frame
        else:
            frame = campaigns.campaign_status(db(), int(period))[0]
            frame = frame[frame["region_code"] == account.region_code] if not frame.empty else frame
        return None if frame.empty else frame.to_dict("records")[0]

    @app.get("/modele")
    def template(request: Request):
        account = officer(request)
        name, content = deposits.template_bytes(db(), account, period_of(account))
        store.journal(db(), "telechargement", account.login, address(request), name)
        return Response(
            content,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @app.post("/depots", response_class=HTMLResponse)
    async def deposit(request: Request):
        account = officer(request)
        upload = (await request.form()).get("fichier")
        if upload is None or isinstance(upload, str) or not upload.filename:
            raise HTTPException(400, "Aucun fichier reçu : choisissez le classeur rempli, puis déposez-le.")
        content = await upload.read()
        with tempfile.TemporaryDirectory(prefix="portail-depot-") as folder:
            path = Path(folder) / "depot.xlsx"
            path.write_bytes(content)
            done = await run_in_threadpool(
                deposits.deposit, db(), runtime(), account, period_of(account), upload.filename, path,
                address=address(request),
            )  # fmt: skip
        row = store.deposit(db(), account, done.deposit_id)
        return pages.verdict_page(row, request.state.csrf, account.login, next_step=_next_step(done))

    @app.get("/depots/{deposit_id}", response_class=HTMLResponse)
    def deposit_page(request: Request, deposit_id: str):
        account = officer(request)
        row = store.deposit(db(), account, int(deposit_id)) if deposit_id.isdigit() else None
        if row is None:
            raise HTTPException(404, "Ce dépôt n'existe pas ou n'est pas le vôtre.")
        return pages.verdict_page(row, request.state.csrf, account.login)

    @app.get("/suivi", response_class=HTMLResponse)
    def follow_up(request: Request):
        from etl.ops import campaigns
        from etl.referentiels.periods import last_complete_semester

        if not request.state.account.is_admin:
            raise HTTPException(403, "Le suivi des dépôts est réservé à l'administration nationale.")
        today = clock().date()
        campaign, semester = str(today.year - 1), last_complete_semester(today)
        regions = campaigns.campaign_status(db(), int(campaign))[0]
        departements = campaigns.paqte_status(db(), semester)
        return pages.follow_up_page(regions, departements, campaign, semester, request.state.account.login,
                                    request.state.csrf)  # fmt: skip

    return app


def _next_step(done: deposits.Deposit) -> str | None:
    if done.triggered is None:
        return None
    if done.batch_id is None:
        return "Ce fichier avait déjà été reçu à l'identique : il n'est pas chargé une seconde fois."
    if done.triggered:
        return "Le chargement a été lancé : l'état de votre classeur sera mis à jour dans quelques minutes."
    return (
        "Le fichier est enregistré ; il sera chargé lors de la prochaine exécution planifiée du traitement des "
        "classeurs (les jours ouvrés à 7 h)."
    )


def _same(sent, expected) -> bool:
    return isinstance(sent, str) and bool(expected) and hmac.compare_digest(sent.encode(), str(expected).encode())


def _cookie(request, response, name: str, value: str) -> None:
    """A cookie the page's scripts cannot read (HttpOnly), never sent by another site's request (SameSite=Strict),
    only over HTTPS when the portal is served over HTTPS."""
    response.set_cookie(name, value, httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/")


def serve(host: str, port: int, *, forwarded_allow_ips: str | None = None) -> None:
    """Serve the portal with uvicorn until interrupted. Behind a reverse proxy terminating HTTPS, give its address
    in `forwarded_allow_ips` so that X-Forwarded-Proto/For set the scheme (Secure cookies) and the client address
    (journal, locks)."""
    import uvicorn

    uvicorn.run(
        create_app(),
        host=host,
        port=port,
        proxy_headers=forwarded_allow_ips is not None,
        forwarded_allow_ips=forwarded_allow_ips,
        server_header=False,
        log_level="info",
    )
