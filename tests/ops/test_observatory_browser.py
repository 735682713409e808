"""The "Observatoire" page once in a real browser: the app (etl/ops/page.py) on a real warehouse with data, mounted
under /observatoire/ as Airflow's api-server mounts the plugin's app, served by uvicorn on a free loopback port in a
thread, and loaded in headless Chromium (Playwright, the `browser` fixture) as an Airflow admin holding the UI's
session cookie (`_token`, a JWT of Airflow's auth manager); the rendered DOM shows the sources with the late one
flagged, the regional campaign and the edition, and the page logs nothing to the console (it has no script of its
own)."""

from __future__ import annotations

import urllib.request
from html.parser import HTMLParser

import pytest

from tests.served import served

pytestmark = [pytest.mark.warehouse, pytest.mark.browser]


@pytest.fixture(scope="module")
def page_url(observatory_app):
    """http://127.0.0.1:<free port>/observatoire/ served by uvicorn in a thread; stopped after the module."""
    from fastapi import FastAPI

    root = FastAPI()
    root.mount("/observatoire", observatory_app)  # what airflow.api_fastapi.app.init_plugins does with url_prefix
    with served(root) as url:
        yield f"{url}/observatoire/"


class RenderedPage(HTMLParser):
    """The rendered DOM's table rows (class, cell texts), headings, and whether any <script> is left in it."""

    def __init__(self, dom: str) -> None:
        super().__init__()
        self.rows: list[tuple[str, list[str]]] = []
        self.headings: list[str] = []
        self.scripts = 0
        self._cell: list[str] | None = None
        self._heading: list[str] | None = None
        self.feed(dom)

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append((dict(attrs).get("class") or "", []))
        elif tag in ("td", "th"):
            self._cell = []
        elif tag in ("h1", "h2", "h3"):
            self._heading = []
        elif tag == "script":
            self.scripts += 1

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1][1].append("".join(self._cell).strip())
            self._cell = None
        elif tag in ("h1", "h2", "h3") and self._heading is not None:
            self.headings.append("".join(self._heading).strip())
            self._heading = None

    def handle_data(self, data):
        for part in (self._cell, self._heading):
            if part is not None:
                part.append(data)

    def row(self, first_cell: str) -> tuple[str, list[str]]:
        [found] = [(cls, cells) for cls, cells in self.rows if cells and cells[0] == first_cell]
        return found


def test_the_page_renders_in_chromium_with_sources_late_flag_campaign_and_edition(page_url, browser, airflow_token):
    from etl.sources.registry import all_sources

    token = airflow_token()
    request = urllib.request.Request(page_url, headers={"Authorization": f"Bearer {token}"})
    served = urllib.request.urlopen(request, timeout=30).read().decode("utf-8")
    assert "<script" not in served  # no script of its own: nothing may run, so nothing may log

    context = browser.new_context()
    context.add_cookies([{"name": "_token", "value": token, "url": page_url}])
    console: list[str] = []
    tab = context.new_page()
    tab.on(  # the browser's own request for /favicon.ico (not the page's: the test's server has none) is no message
        "console", lambda m: None if m.location.get("url", "").endswith("/favicon.ico") else console.append(m.text)
    )
    tab.on("pageerror", lambda error: console.append(str(error)))
    try:
        assert tab.goto(page_url).status == 200
        dom = tab.content()
    finally:
        context.close()
    assert console == [], f"console messages: {console}"
    page = RenderedPage(dom)
    assert page.scripts == 0
    assert "Observatoire QPV : état des sources, campagnes et éditions" in page.headings

    # every declared source has its row; France Travail sent nothing and is flagged late; the reference file is not
    declared = set(all_sources()[0])
    listed = {cells[0] for _, cells in page.rows if cells and cells[0] in declared}
    assert listed == declared
    late_class, late_cells = page.row("france_travail_defm")
    assert late_class == "alerte" and "en retard" in late_cells[-1]
    header = next(cells for _, cells in page.rows if cells[:2] == ["Source", "Dernier fichier"])
    assert "Format détecté" in header
    ok_class, ok_cells = page.row("cog_regions")
    assert ok_class == "" and ok_cells[-1] == "" and ok_cells[header.index("État")] == "loaded"
    assert "fichier rejeté" in page.row("regional")[1][-1]

    # the regional campaign: its heading, and the régions' states
    assert any(h.startswith("Campagne 2024 (date limite") for h in page.headings)
    states = {cells[0][:2]: (cls, cells[1]) for cls, cells in page.rows if len(cells) == 4 and cells[0][:2].isdigit()}
    assert len(states) == 18
    assert states["84"] == ("", "acceptée") and states["11"] == ("alerte", "rejetée")
    assert states["93"] == ("alerte", "non reçue")

    # the released edition, gate 3 passed
    [(edition_class, edition_cells)] = [
        (c, cells) for c, cells in page.rows if cells[:1] == ["annuelle-2024-20250601T000000Z"]
    ]
    assert edition_class == "" and edition_cells[1:3] == ["annuelle", "2024"] and edition_cells[-1].startswith("réussi")
