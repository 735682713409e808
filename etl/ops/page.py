"""The "Observatoire" page of the Airflow UI: a small FastAPI app (mounted by plugins/observatoire.py) serving one
HTML page, its data as JSON (`api/sources`, `api/campaigns`, `api/editions`, `api/alerts`), read from the
warehouse, and the Great Expectations Data Docs of `$OBSERVATOIRE_HOME/datadocs/` (`datadocs/...`, linked from the
page).

Every route requires an Airflow user allowed to view the Airflow UI (etl/ops/access.py): Airflow mounts a plugin's
app without its own authentication. `create_app(engine_factory, home)` takes the function giving the warehouse
engine (in the api-server, the `warehouse` connection Airflow has in its environment, AIRFLOW_CONN_WAREHOUSE; tests
pass their own warehouse) and the runtime folder holding the Data Docs (default: OBSERVATOIRE_HOME). The page has no
script: late sources, rejected files, overdue campaigns and editions gate 3 refused are flagged in red.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Callable
from datetime import date, datetime

from etl.config import Home
from etl.ops import observatory
from etl.ops.access import airflow_guarded


def api_server_warehouse_engine():
    """The warehouse as the api-server sees it: the `warehouse` connection of Airflow's environment, else the URL
    of this project's settings."""
    from etl import warehouse
    from etl.warehouse.urls import from_airflow_connection

    conn = os.environ.get("AIRFLOW_CONN_WAREHOUSE")
    return warehouse.engine(from_airflow_connection(conn) if conn else warehouse.url())


def _json_default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _e(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return html.escape(value.strftime("%d/%m/%Y %H:%M"))
    if isinstance(value, date):
        return html.escape(value.strftime("%d/%m/%Y"))
    return html.escape(str(value))


STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; margin-bottom: 2em; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; }
th { background: #eef; }
tr.alerte td { background: #fde2e2; }
.flag { color: #b00020; font-weight: bold; }
"""


def render(engine, now: datetime | None = None) -> str:
    """The page; `now` (default: the current time) is the moment the sources' lateness is judged at."""
    rows_sources = observatory.sources(engine, now)
    rows_campaigns = observatory.campaigns(engine)
    rows_editions = observatory.editions(engine)
    rows_alerts = observatory.alerts(engine)
    parts = [
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Observatoire QPV</title>',
        f"<style>{STYLE}</style></head><body><h1>Observatoire QPV : état des sources, campagnes et éditions</h1>",
        '<p><a href="datadocs/index.html" target="_blank" rel="noopener">Data Docs : le détail des contrôles de '
        "qualité (Great Expectations) de chaque fichier reçu</a></p>",
        "<h2>Sources</h2><table><tr><th>Source</th><th>Dernier fichier</th><th>Format détecté</th><th>Reçu le</th>"
        "<th>État</th>"
        "<th>Contrôles bloquants en échec</th><th>Avertissements</th><th>Dernier chargement</th><th>Millésime</th>"
        "<th>Prochain fichier attendu</th><th>Alerte</th></tr>",
    ]
    for s in rows_sources:
        flags = [label for key, label in (("late", "en retard"), ("failed", "fichier rejeté")) if s[key]]
        parts.append(
            f'<tr class="{"alerte" if flags else ""}"><td>{_e(s["source_id"])}</td><td>{_e(s["last_file"])}</td>'
            f"<td>{_e(s['last_layout'])}</td><td>{_e(s['last_received_at'])}</td><td>{_e(s['last_status'])}</td>"
            f"<td>{_e(s['last_blocking_failures'])}</td><td>{_e(s['last_warnings'])}</td>"
            f"<td>{_e(s['last_loaded_at'])}</td><td>{_e(s['vintage'])}</td><td>{_e(s['expected_next'])}</td>"
            f'<td class="flag">{_e(", ".join(flags))}</td></tr>'
        )
    parts.append("</table><h2>Campagnes régionales</h2>")
    for c in rows_campaigns:
        counts = ", ".join(f"{n} {state}" for state, n in sorted(c["states"].items()))
        overdue = ' <span class="flag">date limite dépassée, régions manquantes</span>' if c["overdue"] else ""
        parts.append(f"<h3>Campagne {_e(c['campaign'])} (date limite {_e(c['deadline'])}) : {_e(counts)}{overdue}</h3>")
        parts.append("<table><tr><th>Région</th><th>État</th><th>Erreurs</th><th>Version acceptée</th></tr>")
        for r in c["regions"]:
            alert = "alerte" if r["state"] != "acceptée" else ""
            parts.append(
                f'<tr class="{alert}"><td>{_e(r["region_code"])} {_e(r["region_name"])}</td><td>{_e(r["state"])}</td>'
                f"<td>{_e(r['latest_errors'] if r['state'] == 'rejetée' else '')}</td>"
                f"<td>{_e(r['accepted_version'])}</td></tr>"
            )
        parts.append("</table>")
    parts.append(
        "<h2>Éditions</h2><table><tr><th>Édition</th><th>Type</th><th>Période</th><th>Publiée le</th>"
        "<th>Délai depuis la dernière donnée (jours)</th><th>Cases masquées</th>"
        "<th>Contrôle du secret (gate 3)</th></tr>"
    )
    for e in rows_editions:
        latency = "" if e["latency_seconds"] is None else f"{e['latency_seconds'] / 86400:.1f}"
        gate = {True: "réussi", False: "échec", None: "non renseigné"}[e["gate3_passed"]]
        parts.append(
            f'<tr class="{"alerte" if e["gate3_passed"] is False else ""}"><td>{_e(e["edition_id"])}</td>'
            f"<td>{_e(e['kind'])}</td><td>{_e(e['period_code'])}</td><td>{_e(e['released_at'])}</td>"
            f"<td>{_e(latency)}</td><td>{_e(json.dumps(e['masked'], ensure_ascii=False))}</td>"
            f"<td>{_e(gate)} ({_e(e['gate3_checks'])} contrôles)</td></tr>"
        )
    parts.append(
        "</table><h2>Dernières alertes envoyées</h2><table><tr><th>Envoyée le</th><th>Type</th><th>Objet</th>"
        "<th>DAG</th><th>Tâche</th><th>Lot</th><th>Destinataires</th></tr>"
    )
    for a in rows_alerts:
        parts.append(
            f"<tr><td>{_e(a['sent_at'])}</td><td>{_e(a['kind'])}</td><td>{_e(a['subject'])}</td>"
            f"<td>{_e(a['dag_id'])}</td><td>{_e(a['task_id'])}</td><td>{_e(a['batch_id'])}</td>"
            f"<td>{_e(a['recipients'])}</td></tr>"
        )
    parts.append("</table></body></html>")
    return "\n".join(parts)


def create_app(
    engine_factory: Callable = api_server_warehouse_engine,
    home: Home | None = None,
    clock: Callable[[], datetime] | None = None,
):
    """The page's app; `clock` gives the moment the sources' lateness is judged at (default: the current time)."""
    from fastapi import HTTPException
    from fastapi.responses import FileResponse, HTMLResponse, Response

    app = airflow_guarded(title="Observatoire QPV", docs_url=None, redoc_url=None, openapi_url=None)
    state: dict = {}

    def engine():
        if "engine" not in state:
            state["engine"] = engine_factory()
        return state["engine"]

    def as_json(payload) -> Response:
        return Response(json.dumps(payload, default=_json_default, ensure_ascii=False), media_type="application/json")

    @app.get("/", response_class=HTMLResponse)
    def page() -> str:
        return render(engine(), clock() if clock else None)

    @app.get("/api/sources")
    def api_sources() -> Response:
        return as_json(observatory.sources(engine(), clock() if clock else None))

    @app.get("/api/campaigns")
    def api_campaigns() -> Response:
        return as_json(observatory.campaigns(engine()))

    @app.get("/api/editions")
    def api_editions() -> Response:
        return as_json(observatory.editions(engine()))

    @app.get("/api/alerts")
    def api_alerts() -> Response:
        return as_json(observatory.alerts(engine()))

    @app.get("/datadocs/{path:path}")
    def datadocs(path: str) -> Response:
        """A file of the Data Docs site (its index for `datadocs/`), never one outside it (`..`, absolute paths,
        symbolic links leading out: 404)."""
        root = (home or Home.from_env()).folder("datadocs").resolve()
        target = (root / (path or "index.html")).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            raise HTTPException(404, "Not Found")
        return FileResponse(target)

    return app
