"""The regional portal (etl/portal/) on a real warehouse: accounts, sessions, CSRF, no user enumeration, locks, the
upload limit, hostile workbooks, authorisation, row-level security, the journal, the template's bytes, deposits
landed for the intake, and the fingerprint left alone.

The app runs in this process (Starlette's TestClient) on a reference warehouse of the module's own (régions,
départements, catalogue, periods); the clock is 1 June 2025, so the campaign in progress is 2024.
"""

from __future__ import annotations

import re
import secrets
import statistics
import time
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from etl.portal import accounts, store
from etl.portal.app import LOGIN_CSRF_COOKIE, SESSION_COOKIE, create_app, max_body_bytes
from etl.samples.generators import submissions as gen

pytestmark = pytest.mark.warehouse

CLOCK = datetime(2025, 6, 1, 10, tzinfo=UTC)
PASSWORDS = {name: secrets.token_urlsafe(16) for name in ("r84", "r11", "admin", "d69")}
_ADDRESSES = iter(range(1, 250))


@pytest.fixture(scope="module")
def portal(reference_warehouse):
    """(warehouse, app) with the accounts r84 (région 84), r11 (région 11), d69 (département 69) and admin."""
    wh = reference_warehouse
    accounts.add(wh.engine, "r84", PASSWORDS["r84"], region="84")
    accounts.add(wh.engine, "r11", PASSWORDS["r11"], region="11")
    accounts.add(wh.engine, "d69", PASSWORDS["d69"], departement="69")
    accounts.add(wh.engine, "admin", PASSWORDS["admin"])
    settings = store.Settings(idle_minutes=30, lock_minutes=15, max_failures_per_login=3, max_failures_per_address=8)
    app = create_app(lambda: wh.engine, home=wh.home, settings=settings, clock=lambda: CLOCK)
    return wh, app


def client(app, *, https: bool = False, address: str | None = None) -> TestClient:
    """A browser of its own (cookies), from an address of its own (the locks count failures per address)."""
    where = address or f"192.0.2.{next(_ADDRESSES)}"
    base = "https://portail.test" if https else "http://portail.test"
    return TestClient(app, base_url=base, follow_redirects=False, client=(where, 50000))


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def log_in(browser: TestClient, login: str, password: str | None = None):
    form = browser.get("/connexion")
    answer = browser.post(
        "/connexion",
        data={"login": login, "password": PASSWORDS[login] if password is None else password,
              "csrf_token": csrf_of(form.text)},
    )  # fmt: skip
    return answer


def logged_in(app, login: str, **options) -> TestClient:
    browser = client(app, **options)
    assert log_in(browser, login).status_code == 303
    return browser


def deposit(browser: TestClient, content: bytes, name: str):
    token = csrf_of(browser.get("/").text)
    return browser.post(
        "/depots", data={"csrf_token": token}, files={"fichier": (name, content, "application/octet-stream")}
    )


def journal(engine, event: str, login: str) -> list:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT at, login, address, detail FROM portal.journal WHERE event = :e AND login = :l"),
            {"e": event, "l": login},
        ).all()


# --- accounts ------------------------------------------------------------------------------------------------------


def test_users_add_disable_list_through_the_command_with_argon2id_hashes(reference_warehouse, tmp_path, monkeypatch,
                                                                         capsys):  # fmt: skip
    from etl import cli

    wh = reference_warehouse
    monkeypatch.setenv("WAREHOUSE_URL", wh.url)
    password = secrets.token_urlsafe(18)
    (tmp_path / "mdp").write_text(password + "\n")
    assert cli.main(["users", "add", "r93", "--region", "93", "--password-file", str(tmp_path / "mdp")]) == 0
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(password + "\n"))
    assert cli.main(["users", "add", "chef", "--admin"]) == 0
    assert cli.main(["users", "add", "r93", "--region", "93", "--password-file", str(tmp_path / "mdp")]) == 1
    assert cli.main(["users", "add", "x", "--region", "99", "--password-file", str(tmp_path / "mdp")]) == 1
    (tmp_path / "court").write_text("court\n")
    assert cli.main(["users", "add", "r44", "--region", "44", "--password-file", str(tmp_path / "court")]) == 1
    with wh.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT password_hash FROM portal.account WHERE login = 'r93'")).scalar()
        dump = conn.execute(sa.text("SELECT string_agg(t::text, '|') FROM portal.account t")).scalar()
    assert stored.startswith("$argon2id$") and password not in dump
    assert accounts.authenticate(wh.engine, "r93", password).region_code == "93"
    capsys.readouterr()
    assert cli.main(["users", "list"]) == 0
    listed = capsys.readouterr().out
    assert "r93\trégion 93\tenabled" in listed and "chef\tadmin\tenabled" in listed and "$argon2" not in listed
    assert cli.main(["users", "disable", "r93"]) == 0
    assert accounts.authenticate(wh.engine, "r93", password) is None
    assert cli.main(["users", "list"]) == 0
    assert "r93\trégion 93\tdisabled" in capsys.readouterr().out


# --- sessions, CSRF, enumeration, locks ------------------------------------------------------------------------------


def test_the_session_cookie_is_httponly_samesite_and_secure_over_https(portal):
    _, app = portal
    for https in (False, True):
        browser = client(app, https=https)
        answer = log_in(browser, "r84")
        assert answer.status_code == 303 and answer.headers["location"] == "/"
        cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "="))
        flags = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert "httponly" in flags and "samesite=strict" in flags, cookie
        assert ("secure" in flags) == https, cookie
        login_form = browser.get("/connexion").headers.get("set-cookie", "")
        assert "httponly" in login_form.lower() or not login_form
        home = browser.get("/")
        assert home.status_code == 200
        assert "script-src" not in home.headers["content-security-policy"]  # default-src 'none': no script at all
        assert "frame-ancestors 'none'" in home.headers["content-security-policy"]
        assert home.headers["x-content-type-options"] == "nosniff" and home.headers["cache-control"] == "no-store"


def test_a_session_expires_after_inactivity_and_at_logout(portal):
    wh, app = portal
    browser = logged_in(app, "r84")
    assert browser.get("/").status_code == 200
    with wh.engine.begin() as conn:  # 31 minutes without a request
        conn.execute(sa.text("UPDATE portal.session SET last_seen_at = now() - interval '31 minutes' "
                             "WHERE login = 'r84'"))  # fmt: skip
    assert browser.get("/").status_code == 401
    assert browser.get("/", headers={"Accept": "text/html"}).headers["location"] == "/connexion"
    browser = logged_in(app, "r84")
    token = csrf_of(browser.get("/").text)
    cookie = browser.cookies[SESSION_COOKIE]
    assert browser.post("/deconnexion", data={"csrf_token": token}).status_code == 303
    browser.cookies.set(SESSION_COOKIE, cookie)  # the old cookie, replayed
    assert browser.get("/").status_code == 401
    assert journal(wh.engine, "deconnexion", "r84")


def test_every_form_carries_a_csrf_token_and_a_post_without_it_is_refused(portal):
    wh, app = portal
    anonymous = client(app)
    form = anonymous.get("/connexion")
    assert 'name="csrf_token"' in form.text and form.cookies.get(LOGIN_CSRF_COOKIE)
    refused = anonymous.post("/connexion", data={"login": "r84", "password": PASSWORDS["r84"]})
    assert refused.status_code == 403 and SESSION_COOKIE not in refused.cookies
    wrong = anonymous.post("/connexion", data={"login": "r84", "password": PASSWORDS["r84"], "csrf_token": "x"})
    assert wrong.status_code == 403
    browser = logged_in(app, "r84")
    home = browser.get("/").text
    assert home.count("<form") == home.count('name="csrf_token"') == 2  # the deposit and the logout
    content = gen.filled_workbook("84", 2024, seed=1).content
    no_token = browser.post("/depots", files={"fichier": ("classeur.xlsx", content, "application/octet-stream")})
    assert no_token.status_code == 403
    other_session = csrf_of(logged_in(app, "r84").get("/").text)
    assert browser.post("/deconnexion", data={"csrf_token": other_session}).status_code == 403
    assert browser.post("/deconnexion").status_code == 403
    assert browser.get("/").status_code == 200  # still logged in: the refused logout did nothing
    admin = logged_in(app, "admin")
    assert 'name="csrf_token"' in admin.get("/suivi").text


def test_an_unknown_login_and_a_wrong_password_get_the_same_answer_in_the_same_time(portal):
    wh, app = portal
    for index in range(6):  # accounts of this test's own (a login fails 3 times at most before its lock)
        accounts.add(wh.engine, f"temps{index}", secrets.token_urlsafe(16), region="11")

    def attempt(login: str) -> tuple[float, int, str]:
        browser = client(app)
        started = time.perf_counter()
        answer = log_in(browser, login, "pas-le-bon-mot-de-passe")
        elapsed = time.perf_counter() - started
        return elapsed, answer.status_code, re.sub(r'value="[^"]*"', "", answer.text)

    attempt("temps5")  # warm up (the dummy hash is made once)
    unknown, wrong = [], []
    for index in range(5):  # interleaved, so that a burst of load on the machine hits both alike
        unknown.append(attempt(f"inconnu{index}"))
        wrong.append(attempt(f"temps{index}"))
    assert {status for _, status, _ in unknown + wrong} == {401}
    assert {text for _, _, text in unknown + wrong} == {unknown[0][2]}
    assert "Identifiant ou mot de passe incorrect." in unknown[0][2]
    fast, slow = sorted([statistics.median(t for t, _, _ in unknown), statistics.median(t for t, _, _ in wrong)])
    # both pay one Argon2 verification: without the dummy hash an unknown login answers 10 to 100 times faster
    assert slow / fast < 3, (fast, slow)


def test_repeated_failures_lock_a_login_and_an_address(portal):
    wh, app = portal
    for _ in range(3):  # three failures for r11, from three addresses
        assert log_in(client(app), "r11", "mauvais").status_code == 401
    locked = log_in(client(app), "r11")  # then even the right password is refused
    assert locked.status_code == 429 and "Trop de tentatives" in locked.text
    assert log_in(client(app), "r84").status_code == 303  # another login is not locked
    assert journal(wh.engine, "blocage", "r11")
    with wh.engine.begin() as conn:  # the lock lasts lock_minutes
        conn.execute(sa.text("UPDATE portal.journal SET at = at - interval '16 minutes' WHERE login = 'r11'"))
    assert log_in(client(app), "r11").status_code == 303
    # one address trying many logins: locked after 8 failures, whatever the login
    attacker = "198.51.100.7"
    for index in range(8):
        assert log_in(client(app, address=attacker), f"essai{index}", "mauvais").status_code == 401
    assert log_in(client(app, address=attacker), "d69").status_code == 429
    assert log_in(client(app), "d69").status_code == 303


# --- uploads ---------------------------------------------------------------------------------------------------------


def test_the_upload_limit_is_enforced_before_the_body_is_read_whole(portal):
    """At the ASGI level, as a server hands the body over in chunks: 64 MiB sent, refused after the limit's worth."""
    import asyncio

    _, app = portal
    pulled, sent = [], []

    async def receive():
        pulled.append(1)
        return {"type": "http.request", "body": b"\0" * (1 << 20), "more_body": len(pulled) < 64}

    async def send(message):
        sent.append(message)

    def scope(headers):
        return {"type": "http", "method": "POST", "path": "/depots", "raw_path": b"/depots", "root_path": "",
                "query_string": b"", "http_version": "1.1", "scheme": "http", "server": ("portail.test", 80),
                "client": ("192.0.2.250", 5000), "headers": headers}  # fmt: skip

    multipart = [(b"content-type", b"multipart/form-data; boundary=xyz")]
    asyncio.run(app(scope(multipart), receive, send))
    assert sent[0]["status"] == 413 and "trop volumineux" in sent[1]["body"].decode()
    assert len(pulled) <= max_body_bytes() // (1 << 20) + 1, len(pulled)
    pulled.clear(), sent.clear()
    declared = [*multipart, (b"content-length", str(64 << 20).encode())]
    asyncio.run(app(scope(declared), receive, send))
    assert sent[0]["status"] == 413 and pulled == []  # a declared length over the limit: nothing read at all
    browser = logged_in(app, "r84")  # and through HTTP
    answer = browser.post(
        "/depots", content=b"\0" * (max_body_bytes() + 1), headers={"Content-Type": "multipart/form-data; boundary=xyz"}
    )
    assert answer.status_code == 413


def test_every_hostile_workbook_of_the_reliability_tests_is_refused_through_the_portal(portal):
    from ..reliability.test_hostile_inputs import TEN_MB, _excel_zip_bomb, _typed, _workbook

    wh, app = portal
    content, name, cell = _workbook("regional")
    stem = name.removesuffix(".xlsx")
    import codecs

    cases = {
        f"{stem}_bomb.xlsx": (_excel_zip_bomb(), "FICHIER-TAILLE"),
        f"{stem}_big.xlsx": (content + b"\0" * (5 << 20), None),  # over the upload limit: 413, never read
        f"{stem}_bom.xlsx": (codecs.BOM_UTF8 + content, "FICHIER-CORROMPU"),
        f"{stem}_csv.xlsx": (codecs.BOM_UTF8 + b'code;nom\r\n84;"=HYPERLINK(""x"")"\r\n', "FICHIER-TEXTE"),
        f"{stem}_nul.xlsx": (_typed(content, cell, b"avant\x00apres"), "FICHIER-CORROMPU"),
        f"{stem}_ten_mb.xlsx": (_typed(content, cell, b"A" * TEN_MB), None),
        f"{stem}_colonne.xlsx": (gen.filled_workbook("84", 2024, seed=1, mistakes=["colonne_supprimee"]).content, None),
        "../../etc/passwd.xlsx": (b"<html><script>alert(1)</script>", None),
    }
    with wh.engine.connect() as conn:
        batches = conn.execute(sa.text("SELECT count(*) FROM audit.batch")).scalar()
    browser = logged_in(app, "r84")
    for file_name, (data, rule) in cases.items():
        answer = deposit(browser, data, file_name)
        if len(data) > max_body_bytes():
            assert answer.status_code == 413, file_name
            continue
        assert answer.status_code == 200, file_name
        assert "rejetée" in answer.text and "acceptée" not in answer.text.split("<main")[1].split("</h1>")[0]
        assert "<script>alert" not in answer.text
        if rule:
            assert rule in answer.text, file_name
    with wh.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM audit.batch")).scalar() == batches  # nothing landed


# --- deposits, authorisation, row-level security ---------------------------------------------------------------------


def test_a_deposit_is_checked_at_once_landed_and_loaded_by_the_intake_and_other_territories_get_404(portal):
    from etl.ops import campaigns
    from etl.submissions import intake

    wh, app = portal
    r84 = logged_in(app, "r84")
    accepted = deposit(r84, gen.filled_workbook("84", 2024, seed=1).content, "classeur rempli.xlsx")
    assert accepted.status_code == 200 and "acceptée" in accepted.text
    assert "prochaine exécution planifiée" in accepted.text  # no Airflow configured here
    deposit_id = int(re.search(r"Dépôt n° (\d+)", accepted.text).group(1))
    with wh.engine.connect() as conn:
        batch = conn.execute(
            sa.text("SELECT b.status, f.archive_path FROM portal.deposit d JOIN audit.batch b USING (batch_id) "
                    "JOIN audit.file_registry f ON f.source_id = b.source_id AND f.sha256 = b.sha256 "
                    "WHERE d.deposit_id = :id"),
            {"id": deposit_id},
        ).one()  # fmt: skip
    assert batch.status == "received" and __import__("pathlib").Path(batch.archive_path).is_file()
    faulty = gen.filled_workbook("84", 2024, seed=1, mistakes=["part_superieure_100"])
    rejected = deposit(r84, faulty.content, "classeur faux.xlsx")
    assert rejected.status_code == 200 and "rejetée" in rejected.text
    sheet, coordinate = faulty.cells["part_superieure_100"].split("!")
    assert f"<td>{sheet}</td><td>{coordinate}</td>" in rejected.text  # the faulty cell, named in the report
    rejected_id = int(re.search(r"Dépôt n° (\d+)", rejected.text).group(1))

    intake.intake(wh.engine, home=wh.home, run_id="portail")  # the DAG's next run
    regions, _ = campaigns.campaign_status(wh.engine, 2024)
    assert regions.set_index("region_code").loc["84", "state"] == "acceptée"
    home = r84.get("/").text
    assert "accepté le" in home and f'href="/depots/{deposit_id}"' in home and f'href="/depots/{rejected_id}"' in home
    assert r84.get(f"/depots/{deposit_id}").status_code == 200

    r11 = logged_in(app, "r11")
    for other in (deposit_id, rejected_id, 999999, "abc"):
        assert r11.get(f"/depots/{other}").status_code == 404
    assert str(deposit_id) not in r11.get("/").text.split("Historique")[1]
    d69 = logged_in(app, "d69")  # same région's département account: its own deposits only
    assert d69.get(f"/depots/{deposit_id}").status_code == 404
    assert journal(wh.engine, "depot", "r84")


def test_a_deposit_for_another_region_is_rejected_by_the_checker(portal):
    _, app = portal
    answer = deposit(logged_in(app, "r11"), gen.filled_workbook("84", 2024, seed=1).content, "autre.xlsx")
    assert answer.status_code == 200 and "rejetée" in answer.text


def test_routes_are_authorised_by_role(portal):
    _, app = portal
    officer, admin = logged_in(app, "r84"), logged_in(app, "admin")
    assert officer.get("/suivi").status_code == 403
    follow_up = admin.get("/suivi")
    assert follow_up.status_code == 200
    assert follow_up.text.count("<tr><td>") == 18 + 101  # every région and département, as submissions status
    assert admin.get("/").headers["location"] == "/suivi"
    assert admin.get("/modele").status_code == 403 and admin.get("/depots/1").status_code == 403
    anonymous = client(app)
    for path in ("/", "/modele", "/suivi", "/depots/1"):
        assert anonymous.get(path).status_code == 401
    forged = client(app)
    forged.cookies.set(SESSION_COOKIE, secrets.token_urlsafe(32))
    assert forged.get("/").status_code == 401


def test_officer_queries_run_under_the_region_role_so_row_level_security_holds(portal):
    wh, app = portal
    deposit(logged_in(app, "r84"), gen.filled_workbook("84", 2024, seed=2).content, "rls.xlsx")
    r11 = accounts.account(wh.engine, "r11")
    with store.as_territory(wh.engine, r11) as conn:  # a query that "forgets" the territory
        assert conn.execute(sa.text("SELECT current_user")).scalar() == "region_11"
        regions = conn.execute(sa.text("SELECT DISTINCT region_code FROM portal.deposit")).scalars().all()
        assert set(regions) <= {"11"}
        with pytest.raises(sa.exc.DBAPIError, match="row-level security|permission denied"):
            conn.execute(sa.text("INSERT INTO portal.deposit (login, kind, region_code, period, original_name, "
                                 "verdict, errors, warnings, report_html) VALUES ('r11', 'regional', '84', '2024', "
                                 "'x.xlsx', 'acceptée', 0, 0, '')"))  # fmt: skip
    with wh.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM portal.deposit WHERE region_code = '84'")).scalar() > 0
    r84 = accounts.account(wh.engine, "r84")
    with store.as_territory(wh.engine, r84) as conn, pytest.raises(sa.exc.DBAPIError, match="permission denied"):
        conn.execute(sa.text("SELECT count(*) FROM portal.journal"))


# --- the template, the journal, the fingerprint ---------------------------------------------------------------------


def test_the_template_is_the_bytes_of_the_template_command_and_every_event_is_journaled(portal, tmp_path,
                                                                                        monkeypatch):  # fmt: skip
    from etl import cli
    from etl.warehouse.fingerprint import fingerprint

    wh, app = portal
    before = fingerprint(wh.engine)
    browser = client(app, address="203.0.113.9")
    assert log_in(browser, "r84", "mauvais").status_code == 401
    assert log_in(browser, "r84").status_code == 303
    download = browser.get("/modele")
    assert download.status_code == 200
    assert 'filename="indicateurs_locaux_R84_2024.xlsx"' in download.headers["content-disposition"]
    monkeypatch.setenv("WAREHOUSE_URL", wh.url)
    assert cli.main(["template", "--region", "84", "--campaign", "2024", "--out", str(tmp_path / "m.xlsx")]) == 0
    assert download.content == (tmp_path / "m.xlsx").read_bytes()
    assert fingerprint(wh.engine) == before  # the portal's sessions and journal are not warehouse state
    for event in ("echec", "connexion", "telechargement"):
        rows = [row for row in journal(wh.engine, event, "r84") if row.address == "203.0.113.9"]
        assert rows and rows[-1].at is not None, event
    paqte = logged_in(app, "d69").get("/modele")
    assert paqte.status_code == 200 and 'filename="paqte_D69_2024-S2.xlsx"' in paqte.headers["content-disposition"]


def test_an_accepted_deposit_asks_airflow_for_a_run_of_the_intake_dag_when_it_answers(portal, monkeypatch):
    """Against a loopback stand-in for the api-server's two endpoints (token, then the DAG run), recording what it
    is sent; once it is gone, the page says the file waits for the next scheduled run."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    _, app = portal
    received, issued = [], secrets.token_urlsafe(12)

    class AirflowApi(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append((self.path, self.headers.get("Authorization"), body))
            token_asked = self.path == "/auth/token"
            answer = json.dumps({"access_token": issued} if token_asked else {"state": "queued"})
            self.send_response(201 if token_asked else 200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(answer.encode())

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), AirflowApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("OBSERVATOIRE_PORTAL_AIRFLOW_URL", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("OBSERVATOIRE_PORTAL_AIRFLOW_USER", "portail")
    airflow_password = secrets.token_urlsafe(12)
    monkeypatch.setenv("OBSERVATOIRE_PORTAL_AIRFLOW_PASSWORD", airflow_password)
    browser = logged_in(app, "r84")
    try:
        answer = deposit(browser, gen.filled_workbook("84", 2024, seed=3).content, "declenche.xlsx")
    finally:
        server.shutdown()
        server.server_close()
    assert "acceptée" in answer.text and "Le chargement a été lancé" in answer.text
    token, run = received
    assert token[0] == "/auth/token" and token[2] == {"username": "portail", "password": airflow_password}
    assert run[0] == "/api/v2/dags/regional_submissions/dagRuns" and run[1] == f"Bearer {issued}"
    assert "logical_date" in run[2]
    answer = deposit(browser, gen.filled_workbook("84", 2024, seed=4).content, "sans_airflow.xlsx")
    assert "acceptée" in answer.text and "prochaine exécution planifiée" in answer.text


def test_a_departement_account_deposits_its_paqte_report_and_sees_only_its_own(portal):
    """A PAQTE officer (département 69, région 84) gets the semester in progress, deposits its report, checked by the
    PAQTE checker; the région's officer does not see it, nor does the département see the région's workbooks."""
    from etl.samples.generators import paqte as paqte_gen

    _, app = portal
    d69 = logged_in(app, "d69")
    home = d69.get("/").text
    assert "département Rhône (69)" in home and "2024-S2" in home and "31/01/2025" in home
    answer = deposit(d69, paqte_gen.filled_paqte("69", "2024-S2").content, paqte_gen.paqte_file_name("69", "2024-S2"))
    assert answer.status_code == 200 and "acceptée" in answer.text, re.findall(r"<td>[A-Z-]+</td>", answer.text)
    deposit_id = int(re.search(r"Dépôt n° (\d+)", answer.text).group(1))
    wrong = deposit(d69, paqte_gen.filled_paqte("38", "2024-S2").content, paqte_gen.paqte_file_name("38", "2024-S2"))
    assert "rejetée" in wrong.text  # another département's report, refused by the checker
    r84 = logged_in(app, "r84")
    assert r84.get(f"/depots/{deposit_id}").status_code == 404
    assert paqte_gen.paqte_file_name("69", "2024-S2") not in r84.get("/").text
    assert "classeur rempli.xlsx" not in d69.get("/").text  # r84's workbooks are not the département's
