"""The "Observatoire" page (etl/ops/page.py) through FastAPI's test client, on a real warehouse holding a loaded
reference file, an accepted and a rejected regional workbook and a released annual edition."""

from __future__ import annotations

import importlib.util

import pytest
from fastapi.testclient import TestClient

from etl.config import PROJECT_ROOT

pytestmark = pytest.mark.warehouse


@pytest.fixture(scope="module")
def client(observatory_app, airflow_token):
    """The page's app (the `observatory_app` fixture of tests/conftest.py) through FastAPI's test client, as an
    Airflow admin (a bearer token of Airflow's auth manager)."""
    return TestClient(observatory_app, headers={"Authorization": f"Bearer {airflow_token()}"})


def test_every_declared_source_is_listed_with_its_state(client):
    from etl.sources.registry import all_sources

    sources = {s["source_id"]: s for s in client.get("/api/sources").json()}
    assert set(sources) == set(all_sources()[0])
    assert sources["cog_regions"]["last_status"] == "loaded" and not sources["cog_regions"]["late"]
    assert sources["france_travail_defm"]["last_file"] is None and sources["france_travail_defm"]["late"]
    assert sources["regional"]["failed"]  # the last workbook received was rejected
    assert sources["regional"]["last_blocking_failures"] > 0


def test_campaigns_and_editions(client):
    [campaign] = client.get("/api/campaigns").json()
    states = {r["region_code"]: r["state"] for r in campaign["regions"]}
    assert campaign["campaign"] == 2024 and len(states) == 18
    assert (states["84"], states["11"], states["93"]) == ("acceptée", "rejetée", "non reçue")
    [edition] = client.get("/api/editions").json()
    assert edition["kind"] == "annuelle" and edition["period_code"] == "2024" and edition["gate3_passed"] is True


def test_the_page_flags_what_needs_attention(client):
    response = client.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "france_travail_defm" in page and "en retard" in page and "fichier rejeté" in page
    assert "Campagne 2024" in page and "annuelle-2024" in page and "réussi" in page
    assert "<script" not in page


def observatoire_plugin():
    """The plugin class of plugins/observatoire.py, loaded from its file as Airflow's plugins manager does."""
    spec = importlib.util.spec_from_file_location("observatoire_plugin", PROJECT_ROOT / "plugins" / "observatoire.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ObservatoirePlugin


def test_the_plugin_mounts_the_app_and_adds_a_navigation_entry():
    plugin = observatoire_plugin()
    [app] = plugin.fastapi_apps
    assert app["url_prefix"] == "/observatoire"
    assert {route.path for route in app["app"].routes} >= {
        "/",
        "/api/sources",
        "/api/campaigns",
        "/api/editions",
        "/api/alerts",
        "/datadocs/{path:path}",
    }
    [view] = plugin.external_views
    assert view["href"] == "observatoire/" and not view["href"].startswith("/")


def test_the_alerts_mailed_are_listed_newest_first_and_escaped(client, reference_warehouse):
    from etl.ops import alerts

    for n in (1, 2):
        alert = alerts.task_alert(dag_id="publication_annuelle", run_id=f"manual__{n}", task_id="release",
                                  try_number=1, period="2024", error="x", log_url=None)  # fmt: skip
        alert.subject += f" <script>n{n}</script>"
        assert alerts.claim(reference_warehouse.engine, alert, ["astreinte@observatoire.test"])
    listed = client.get("/api/alerts").json()
    assert [a["subject"].rsplit(" ", 1)[-1] for a in listed[:2]] == ["<script>n2</script>", "<script>n1</script>"]
    assert listed[0]["kind"] == "task" and listed[0]["recipients"] == "astreinte@observatoire.test"
    page = client.get("/").text
    assert "&lt;script&gt;n2&lt;/script&gt;" in page and "<script" not in page


def test_the_page_links_the_data_docs_served_behind_the_same_guard(client, observatory_app):
    assert '<a href="datadocs/index.html"' in client.get("/").text
    docs = client.get("/datadocs/index.html")  # the Data Docs of the intake's validations
    assert docs.status_code == 200 and docs.headers["content-type"].startswith("text/html")
    assert "Great Expectations" in docs.text and "regional_submission" in docs.text
    assert TestClient(observatory_app).get("/datadocs/index.html").status_code == 401


def test_the_page_shows_the_layout_detected_for_the_last_file(client, reference_warehouse):
    from etl import pipeline
    from etl.sources.registry import source

    wh = reference_warehouse
    inbox = wh.home.folder("inbox") / "anct_qpv"
    inbox.mkdir(parents=True, exist_ok=True)
    header = "code_qp;lib_qp;insee_reg;lib_reg;insee_dep;lib_dep;insee_com;lib_com;siren_epci;lib_epci" + ";" * 13
    row = 'QN00101M;Les Vergers;84;ARA;1;Ain;"=""01053""";Bourg;200071751;CA' + ";" * 13
    (inbox / "listeqp2024-cog2024.csv").write_bytes(f"\ufeff{header}\n{row}\n".encode())
    [batch] = pipeline.ingest(wh.engine, source("anct_qpv"), home=wh.home, run_id="test").batches
    assert batch.layout == "anct_liste_qp"  # recorded even though the one-row list fails its gates
    sources = {s["source_id"]: s for s in client.get("/api/sources").json()}
    assert sources["anct_qpv"]["last_layout"] == "anct_liste_qp"
    page = client.get("/").text
    assert "<th>Format détecté</th>" in page and "<td>anct_liste_qp</td>" in page
