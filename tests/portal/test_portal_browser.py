"""The regional portal in a real browser: headless Chromium (Playwright driving Debian's binary, the `browser`
fixture) on the portal served by uvicorn on a free loopback port, on a reference warehouse of the module's own.

An officer of région 84 logs in through the form, downloads the workbook, fills it with openpyxl (the sample
generator's figures copied into the downloaded file's input cells), deposits it and reads "acceptée"; deposits a
faulty one and sees the faulty cell named; an officer of région 11 typing the URL of r84's deposit gets 404. The
pages run no script: Chromium logs no console message.
"""

from __future__ import annotations

import io
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest

from etl.portal import accounts
from etl.portal.app import create_app
from etl.samples.generators import submissions as gen
from etl.submissions import template as tpl
from tests.served import served

pytestmark = [pytest.mark.warehouse, pytest.mark.browser]

PASSWORDS = {"r84": secrets.token_urlsafe(16), "r11": secrets.token_urlsafe(16)}


@pytest.fixture(scope="module")
def portal_url(reference_warehouse):
    """http://127.0.0.1:<free port> serving the portal (uvicorn in a thread; stopped after the module); the clock
    is 1 June 2025 (campaign 2024)."""
    wh = reference_warehouse
    for login, password in PASSWORDS.items():
        accounts.add(wh.engine, login, password, region=login[1:])
    app = create_app(lambda: wh.engine, home=wh.home, clock=lambda: datetime(2025, 6, 1, 10, tzinfo=UTC))
    with served(app) as url:
        yield url


def fill(downloaded: bytes, filled: bytes) -> bytes:
    """The downloaded workbook with the input cells (results and observations of both sheets) of `filled`."""
    book, source = openpyxl.load_workbook(io.BytesIO(downloaded)), openpyxl.load_workbook(io.BytesIO(filled))
    columns = {
        tpl.INDICATEURS_SHEET: (tpl.INDICATEURS_RESULT_COLUMN, tpl.INDICATEURS_OBSERVATIONS_COLUMN),
        tpl.DEPARTEMENTS_SHEET: (tpl.DEPARTEMENTS_VALUE_COLUMN, tpl.DEPARTEMENTS_OBSERVATIONS_COLUMN),
    }
    for sheet, letters in columns.items():
        for row in range(tpl.FIRST_DATA_ROW, source[sheet].max_row + 1):
            for letter in letters:
                book[sheet][f"{letter}{row}"].value = source[sheet][f"{letter}{row}"].value
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def log_in(page, url: str, login: str) -> None:
    page.goto(f"{url}/")  # sent to the login form
    assert page.url.endswith("/connexion")
    page.get_by_label("Identifiant").fill(login)
    page.get_by_label("Mot de passe").fill(PASSWORDS[login])
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{url}/")


def deposit(page, name: str, content: bytes) -> str:
    page.get_by_label("Classeur rempli").set_input_files(
        {"name": name, "mimeType": "application/octet-stream", "buffer": content}
    )
    page.get_by_role("button", name="Déposer et vérifier").click()
    page.wait_for_load_state()
    return page.inner_text("main")


def test_an_officer_downloads_fills_deposits_and_reads_the_verdict_and_another_region_gets_404(browser, portal_url):
    console: list[str] = []
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.on("console", lambda message: console.append(message.text))
    log_in(page, portal_url, "r84")
    home = page.inner_text("main")
    assert "région Auvergne-Rhône-Alpes (84)" in home
    assert "Campagne en cours : 2024" in home and "30/04/2025" in home and "non reçu" in home

    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Télécharger le classeur")).click()
    downloaded = download.value
    assert downloaded.suggested_filename == "indicateurs_locaux_R84_2024.xlsx"
    content = Path(downloaded.path()).read_bytes()

    good = fill(content, gen.filled_workbook("84", 2024, seed=1).content)
    verdict = deposit(page, "indicateurs_locaux_R84_2024.xlsx", good)
    assert "acceptée" in verdict and "rejetée" not in verdict.split("\n")[0]
    deposit_id = re.search(r"Dépôt n° (\d+)", verdict).group(1)

    page.goto(f"{portal_url}/")
    faulty = gen.filled_workbook("84", 2024, seed=1, mistakes=["part_superieure_100"])
    verdict = deposit(page, "classeur_corrige.xlsx", fill(content, faulty.content))
    sheet, cell = faulty.cells["part_superieure_100"].split("!")
    assert "rejetée" in verdict
    rows = page.locator("table tr", has_text=cell).all_inner_texts()
    assert any(sheet in row and cell in row for row in rows), rows  # the faulty cell, named

    page.goto(f"{portal_url}/")
    history = page.inner_text("main")
    assert "indicateurs_locaux_R84_2024.xlsx" in history and "classeur_corrige.xlsx" in history
    assert not console, console  # no script, nothing logged

    other = browser.new_context().new_page()
    log_in(other, portal_url, "r11")
    answer = other.goto(f"{portal_url}/depots/{deposit_id}")
    assert answer.status == 404 and "n'est pas le vôtre" in other.inner_text("main")
    context.close()
