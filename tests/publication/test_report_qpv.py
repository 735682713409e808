"""The QPV portraits of the annual report (etl/publication/report_qpv.py, written by report.render_report).

The données QPV tables are built in pure pandas by qpv_data.build on a small hand-made geography (9 QPV in 3
départements of 2 régions, one QPV on two communes, one count small enough to be masked), as
tests/publication/test_qpv_data.py does; no warehouse. What a page must show is computed here from those tables (the
published figures, the ranks among them), not written out. One test opens the national page in headless Chromium and
types in its search box.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from etl.publication import disclosure, editions, qpv_data, report, report_qpv
from etl.publication.report_cells import format_number

EDITION = "annuelle-2024-20250601T060000Z"
NBSP = "\u00a0"
CATALOGUE = pd.DataFrame(
    [
        ("CAF_PERSONNES_COUVERTES", "Personnes couvertes par une prestation CAF", "CAF (Cnaf)", "personnes"),
        ("CAF_ALLOCATAIRES", "Foyers allocataires des CAF", "CAF (Cnaf)", "foyers"),
        ("CAF_PLACES_EAJE", "Places en établissements d'accueil du jeune enfant", "CAF (Cnaf)", "places"),
    ],
    columns=["code_indicateur", "indicateur", "producteur", "unite_statistique"],
)
FICHES = {"CAF_PERSONNES_COUVERTES": "Personnes couvertes", "CAF_ALLOCATAIRES": "Foyers allocataires"}
# code -> name, communes, EPCI, département, région
GEOGRAPHY = {
    "QN06901A": ("Les Minguettes", [("69259", "Vénissieux")], ("200046977", "Métropole de Lyon"), "69", "84"),
    "QN06902B": ("La Duchère", [("69123", "Lyon")], ("200046977", "Métropole de Lyon"), "69", "84"),
    "QN06903C": (
        "Mermoz",
        [("69123", "Lyon"), ("69259", "Vénissieux")],
        ("200046977", "Métropole de Lyon"),
        "69",
        "84",
    ),
    "QN06904D": ("Parilly", [("69029", "Bron")], ("200046977", "Métropole de Lyon"), "69", "84"),
    "QN06905E": ("Saint-Jean", [("69266", "Villeurbanne")], ("200046977", "Métropole de Lyon"), "69", "84"),
    "QN03801A": ("Villeneuve", [("38185", "Grenoble")], ("200040715", "Grenoble-Alpes-Métropole"), "38", "84"),
    "QN03802B": ("Mistral", [("38185", "Grenoble")], ("200040715", "Grenoble-Alpes-Métropole"), "38", "84"),
    "QN09301A": ("Les Francs-Moisins", [("93066", "Saint-Denis")], ("200054781", "Plaine Commune"), "93", "11"),
    "QN09302B": ("Les Bosquets", [("93047", "Montfermeil")], ("200058790", "Grand Paris Grand Est"), "93", "11"),
}
NAMES = {("departement", "69"): "Rhône", ("departement", "38"): "Isère", ("departement", "93"): "Seine-Saint-Denis",
         ("region", "84"): "Auvergne-Rhône-Alpes", ("region", "11"): "Île-de-France"}  # fmt: skip
COVERED = {"QN06901A": 900, "QN06902B": 400, "QN06903C": 500, "QN06904D": 7, "QN06905E": 60, "QN03801A": 300,
           "QN03802B": 300, "QN09301A": 1200, "QN09302B": 800}  # fmt: skip
POPULATION = {"QN06901A": 3000, "QN06902B": 2000, "QN06903C": 1500, "QN06904D": 2600, "QN06905E": 500,
              "QN03801A": 1000, "QN03802B": 1000, "QN09301A": 6000, "QN09302B": 2000}  # fmt: skip


def _territories(year: int) -> list[tuple]:
    rows = []
    for code, (name, communes, (siren, epci), departement, region) in GEOGRAPHY.items():
        rows.append((year, "qpv", code, name, code, "2024", departement, region))
        rows += [(year, "commune", c, n, code, "2024", departement, region) for c, n in communes]
        rows.append((year, "epci", siren, epci, code, "2024", None, None))
        rows.append((year, "departement", departement, NAMES["departement", departement], code, "2024", departement,
                     region))  # fmt: skip
        rows.append((year, "region", region, NAMES["region", region], code, "2024", None, region))
        rows.append((year, "france", "FR", "France", code, "2024", None, None))
    return rows


def inputs() -> qpv_data.Inputs:
    territories = pd.DataFrame(
        _territories(2024) + _territories(2023),
        columns=["annee", "niveau", "code_territoire", "territoire", "code_qpv", "geography", "code_departement",
                 "code_region"],
    )  # fmt: skip
    values = []
    for code, covered in COVERED.items():
        values += [
            ("CAF_PERSONNES_COUVERTES", "total", code, 2024, float(covered), "ok", None, "1"),
            ("CAF_PERSONNES_COUVERTES", "total", code, 2023, float(covered + 20), "ok", None, "2"),
            ("CAF_ALLOCATAIRES", "total", code, 2024, float(covered // 3), "ok", None, "1"),
            ("CAF_PLACES_EAJE", "total", code, 2024, 30.0 if code.endswith("A") else 45.0, "ok", None, "1"),
            (qpv_data.POPULATION, "total", code, 2024, float(POPULATION[code]), "ok", "2020", "3"),
        ]
    frame = pd.DataFrame(
        values,
        columns=["code_indicateur", "ventilation", "code_qpv", "annee", "valeur", "statut", "note_valeur", "batches"],
    )
    return qpv_data.Inputs(2024, territories, frame, CATALOGUE)


def render(folder: Path, tables, places) -> list[Path]:
    (folder / "fiches").mkdir(parents=True, exist_ok=True)
    for code in FICHES:
        (folder / "fiches" / f"{code}.html").write_text("fiche", encoding="utf-8")
    return report.render_report(
        tables, folder, edition_id=EDITION, kind="annuelle", period="2024", fiches=FICHES, places=places
    )


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    given = inputs()
    tables, _ = qpv_data.build(given, disclosure.Rules())
    folder = tmp_path_factory.mktemp("rapport")
    places = qpv_data.places(given)
    return {"tables": tables, "places": places, "folder": folder, "written": render(folder, tables, places)}


class Parsed(HTMLParser):
    """What the tests read in a page: its h1, links, the `<dd>` texts and, per section id, the rows of its tables
    (each a list of (class, text) cells)."""

    def __init__(self, path: Path) -> None:
        super().__init__(convert_charrefs=True)
        self.h1, self.links, self.dd = "", [], []
        self.sections: dict[str, list[list[tuple[str, str]]]] = {}
        self._section, self._text, self._tag, self._class = "", None, "", ""
        self.text = path.read_text(encoding="utf-8")
        self.feed(self.text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self._section = attrs.get("id", "")
        if tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])
        if tag == "tr" and self._section:
            self.sections.setdefault(self._section, []).append([])
        if tag in ("h1", "dd", "td"):
            self._text, self._tag, self._class = [], tag, attrs.get("class", "")

    def handle_endtag(self, tag):
        if tag != self._tag or self._text is None:
            return
        text = "".join(self._text)
        if tag == "h1":
            self.h1 = text
        elif tag == "dd":
            self.dd.append(text)
        else:
            self.sections[self._section][-1].append((self._class, text))
        self._text = None

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)

    def rows(self, section: str) -> list[list[tuple[str, str]]]:
        return [row for row in self.sections.get(section, []) if row]  # header rows hold <th> only


def _qpv_rows(table) -> pd.DataFrame:
    return table.frame[table.frame["niveau"] == "qpv"]


def _page(edition, code: str) -> Parsed:
    return Parsed(edition["folder"] / report_qpv.portrait_file(code))


def _expected(value, status: str, *, signed: bool = False) -> str:
    if status == "masked":
        return "s"
    return "" if pd.isna(value) else format_number(value, signed=signed)


def test_a_portrait_per_qpv_with_its_place_and_figures(edition):
    tables = {table.name: table for table in edition["tables"]}
    codes = set(_qpv_rows(tables["donnees_qpv_caf"])["code_territoire"])
    assert codes == set(GEOGRAPHY)
    portraits = {path.name for path in (edition["folder"] / "qpv").iterdir()} - {"index.html"}
    assert portraits == {f"{code}.html" for code in codes}
    listing = Parsed(edition["folder"] / report_qpv.LISTING)
    assert sorted(link for link in listing.links if link.startswith("QN")) == sorted(portraits)

    shown = report_qpv.SHOWN
    for code in codes:
        name, communes, (_, epci), departement, region = GEOGRAPHY[code]
        page = _page(edition, code)
        assert page.h1 == f"{name} ({code})"
        assert ", ".join(f"{n} ({c})" for c, n in sorted(communes)) in page.dd
        assert f"{epci} ({GEOGRAPHY[code][2][0]})" in page.dd
        assert f"{NAMES['departement', departement]} ({departement})" in page.dd
        assert f"{NAMES['region', region]} ({region})" in page.dd
        for table in edition["tables"]:
            rows = _qpv_rows(table)
            rows = rows[rows["code_territoire"] == code]
            cells = page.rows(table.name)
            assert len(cells) == len(rows), table.name
            for (_, row), line in zip(rows.iterrows(), cells, strict=True):
                texts = [text for _, text in line]
                assert texts[shown.index("libelle_ventilation")] == row["libelle_ventilation"]
                assert texts[shown.index("valeur")] == _expected(row["valeur"], row["statut"])
                for column in ("evolution_n1", "evolution_n3"):
                    assert texts[shown.index(column)] == _expected(row[column], row["statut"], signed=True)
                assert texts[shown.index("taux")] == _expected(row["taux"], row["statut_taux"])
    # the figures of a published QPV, by hand: 1,200 people covered for 6,000 inhabitants, 20 fewer than in 2023
    caf = {line[1][1] + line[0][1]: line for line in _page(edition, "QN09301A").rows("donnees_qpv_caf")}
    covered = [text for _, text in caf["EnsemblePersonnes couvertes par une prestation CAF"]]
    assert covered[2:5] == [f"1{NBSP}200", "publiée", f"1{NBSP}220"] and covered[6] == "-20"
    assert covered[10:] == ["20", "2020"]


def test_a_masked_figure_is_never_a_number_and_has_no_rank(edition):
    masked = [
        (table, row)
        for table in edition["tables"]
        for _, row in _qpv_rows(table).iterrows()
        if row["statut"] == "masked"
    ]
    assert any(row["code_territoire"] == "QN06904D" for _, row in masked)  # the small count, at least
    shown = report_qpv.SHOWN
    for table, row in masked:
        page = _page(edition, row["code_territoire"])
        line = next(
            cells
            for cells in page.rows(table.name)
            if cells[0][1] == row["indicateur"] and cells[1][1] == row["libelle_ventilation"]
        )
        for column in ("valeur", "evolution_n1", "evolution_n3"):
            assert line[shown.index(column)] == ("num secret", "s")
        if row["statut_taux"] == "masked":
            assert line[shown.index("taux")] == ("num secret", "s")
        assert 'id="secret-statistique"' in page.text
        ranked = {cells[0][1]: cells for cells in page.rows("rangs")}
        for code, column, label in report_qpv.MAIN:
            status = "statut" if column == "valeur" else "statut_taux"
            if code == row["code_indicateur"] and row["ventilation"] == "total" and row[status] == "masked":
                assert ranked[label][1] == ("num secret", "s")
                assert [text for _, text in ranked[label][2:]] == ["rang non calculé (secret statistique)"] * 2


@pytest.mark.parametrize(("code", "column"), [("CAF_PERSONNES_COUVERTES", "taux"), ("CAF_ALLOCATAIRES", "valeur")])
def test_ranks_among_the_published_qpv_of_the_departement_and_the_region(edition, code, column):
    table = next(t for t in edition["tables"] if code in set(t.frame["code_indicateur"]))
    rows = _qpv_rows(table)
    rows = rows[(rows["code_indicateur"] == code) & (rows["ventilation"] == "total")]
    status = "statut" if column == "valeur" else "statut_taux"
    label = next(text for c, _, text in report_qpv.MAIN if c == code)
    ranked_somewhere = 0
    for _, row in rows.iterrows():
        ranks = {
            cells[0][1]: [text for _, text in cells] for cells in _page(edition, row["code_territoire"]).rows("rangs")
        }
        for position, scope in ((2, "code_departement"), (3, "code_region")):
            peers = rows[rows[scope] == row[scope]]
            published = peers.loc[peers[status] == "ok", column].tolist()
            if row[status] != "ok":
                assert ranks[label][position].startswith("rang non calculé")
                continue
            rank = 1 + sum(value > row[column] for value in published)
            expected = f"{'1er' if rank == 1 else f'{rank}e'} sur {len(published)}"
            if len(peers) > len(published):
                expected += f", {len(peers) - len(published)} non classés"
            assert ranks[label][position] == expected, (row["code_territoire"], scope)
            ranked_somewhere += 1
    assert ranked_somewhere >= 8  # most QPV are ranked: the check is not vacuous


def test_every_link_resolves_and_indicators_link_to_their_fiche(edition):
    folder = edition["folder"]
    pages = list(folder.rglob("*.html"))
    assert len(pages) == 1 + 1 + len(GEOGRAPHY) + len(FICHES)  # national page, list, portraits, fiches
    for path in pages:
        if path.parent.name == "fiches":
            continue
        for link in Parsed(path).links:
            if link.startswith("https://"):
                continue  # the licence
            target = (path.parent / link.split("#")[0]).resolve()
            assert target.is_file() and folder.resolve() in target.parents, (path.name, link)
    page = _page(edition, "QN09301A")
    assert "../fiches/CAF_PERSONNES_COUVERTES.html" in page.links and "../fiches/CAF_ALLOCATAIRES.html" in page.links
    assert not any("CAF_PLACES_EAJE" in link for link in page.links)  # no fiche given for it: no link
    assert [link for link in page.links if link.endswith("index.html")] == ["../index.html", "index.html"]
    national = Parsed(folder / "index.html")
    assert "qpv/index.html" in national.links
    index = json.loads(re.search(r'id="recherche-qpv-index">(.*?)</script>', national.text).group(1))
    assert [entry[0] for entry in index] == sorted(GEOGRAPHY)
    assert all((folder / entry[4]).is_file() for entry in index)


def test_same_tables_same_bytes(edition, tmp_path):
    again = render(tmp_path, edition["tables"], edition["places"])
    assert [path.relative_to(tmp_path) for path in again] == [
        path.relative_to(edition["folder"]) for path in edition["written"]
    ]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(again, edition["written"], strict=True))


def test_the_portraits_are_report_files_of_the_edition_not_data_files(edition, tmp_path):
    tables = edition["tables"]

    def extra(folder: Path) -> None:
        render(folder, tables, edition["places"])

    folder = editions.write_edition(tmp_path, EDITION, tables, metadata={}, extra=extra)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    listed = {entry["file"] for entry in manifest["report"]}
    assert {report_qpv.LISTING, *(report_qpv.portrait_file(code) for code in GEOGRAPHY)} <= listed
    assert not any(entry["file"].startswith("qpv/") for entry in manifest["files"])
    assert not any(name.startswith("qpv/") for name in editions.data_files_digest(folder))
    # inside the edition, the national page links the tables' files and the search reaches the portraits
    text = (folder / "index.html").read_text(encoding="utf-8")
    assert '<a href="donnees_qpv_caf.csv">' in text and "qpv/QN06901A.html" in text


# --- in a real browser (the `browser` fixture of tests/conftest.py) --------------------------------------------------


@pytest.mark.browser
def test_the_search_box_finds_a_qpv_by_name_or_code_in_chromium(edition, browser):
    url = (edition["folder"] / "index.html").resolve().as_uri()
    context = browser.new_context()
    console: list[str] = []
    tab = context.new_page()
    tab.on("console", lambda message: console.append(message.text))
    tab.on("pageerror", lambda error: console.append(str(error)))
    try:
        tab.goto(url)
        box = tab.get_by_label("Rechercher un quartier par son nom, son code ou sa commune")
        results = tab.locator("#recherche-qpv-resultats a")
        box.fill("duchere")  # La Duchère, typed without its accent
        assert results.evaluate_all("links => links.map(a => a.getAttribute('href'))") == ["qpv/QN06902B.html"]
        assert tab.locator("#recherche-qpv-etat").text_content() == "1 quartier trouvé."
        box.fill("qn09302b")
        assert results.all_text_contents() == ["Les Bosquets (QN09302B)"]
        box.fill("lyon")  # by commune: La Duchère and Mermoz
        assert results.count() == 2
        box.fill("rien de tel")
        assert results.count() == 0 and "Aucun quartier" in tab.locator("#recherche-qpv-etat").text_content()
        box.fill("Minguettes")
        results.first.click()
        tab.wait_for_load_state()
        assert tab.locator("h1").text_content() == "Les Minguettes (QN06901A)"
    finally:
        context.close()
    # the one inline script runs under the page's Content-Security-Policy: any refusal would be a console message
    assert console == [], f"console messages: {console}"

    # without JavaScript the box stays hidden and the list of the QPV is the way in
    context = browser.new_context(java_script_enabled=False)
    try:
        tab = context.new_page()
        tab.goto(url)
        assert not tab.locator("#recherche-qpv").is_visible()
        tab.get_by_role("link", name="Tous les quartiers, par région et département").click()
        tab.wait_for_load_state()
        assert tab.get_by_role("link", name="Les Bosquets").count() == 1
    finally:
        context.close()
