"""The HTML report of an edition (etl.publication.report and its parts) and its place in an edition folder.

Small tables are built by hand (a bilan with France and two régions, the measures' summary, a campaign's
completeness, a job seekers' series with a masked point); the pages are parsed back with html.parser and the
expected texts are written out by hand. The browser test opens two pages in headless Chromium (Debian's `chromium`),
checks that they load without any console message and that the dumped DOM holds the charts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
import stat
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from etl.publication import editions, report, report_cells
from etl.publication.annual import BILAN_COLUMNS
from etl.publication.tables import LICENCE, Column, Table

NAN = math.nan
NBSP = "\u00a0"
EDITION = "annuelle-2024-20250601T060000Z"
PAGES = ["index.html", "region-11.html", "region-84.html", "region-93.html"]
OBSERVATION = "<b>Hausse</b> & progrès"


def _bilan_row(niveau, code, territoire, indicateur, libelle, unite, valeur, statut, cible, cible_valeur, **more):
    row = {name: None for name, *_ in BILAN_COLUMNS}
    row.update(
        annee=2024,
        niveau=niveau,
        code_territoire=code,
        territoire=territoire,
        code_indicateur=indicateur,
        convention="Emploi",
        libelle=libelle,
        mode_renseignement="national",
        producteur="DGEFP",
        unite=unite,
        valeur=valeur,
        statut=statut,
        cible_texte=cible,
        cible_valeur=cible_valeur,
        ecart_cible=NAN,
        valeur_n1=NAN,
        evolution_n1=NAN,
        valeur_n3=NAN,
        evolution_n3=NAN,
    )
    row.update(more)
    return row


def bilan_table() -> Table:
    share, count, other = "Part des jeunes des QPV dans les entrées", "Nombre de bénéficiaires", "Nombre de marches"
    rows = [
        _bilan_row("france", "FR", "France", "IND01", share, "%", 28.5, "ok", "30%", 30.0, ecart_cible=-1.5),
        _bilan_row(
            "france",
            "FR",
            "France",
            "IND04",
            count,
            "nombre",
            12345.0,
            "ok",
            "5000",
            5000.0,
            ecart_cible=7345.0,
            valeur_n1=11000.0,
            evolution_n1=1345.0,
        ),  # fmt: skip
        _bilan_row("france", "FR", "France", "IND17", other, "nombre", 40.0, "ok", None, NAN),
        _bilan_row("region", "11", "Île-de-France", "IND01", share, "%", NAN, "missing", "30%", 30.0),
        _bilan_row("region", "11", "Île-de-France", "IND04", count, "nombre", NAN, "masked", "5000", 5000.0),
        _bilan_row("region", "11", "Île-de-France", "IND17", other, "nombre", 25.0, "ok", None, NAN),
        _bilan_row(
            "region",
            "84",
            "Auvergne-Rhône-Alpes",
            "IND01",
            share,
            "%",
            31.25,
            "ok",
            "30%",
            30.0,
            ecart_cible=1.25,
            observations=OBSERVATION,
        ),  # fmt: skip
        _bilan_row("region", "84", "Auvergne-Rhône-Alpes", "IND04", count, "nombre", NAN, "masked", "5000", 5000.0),
        _bilan_row("region", "84", "Auvergne-Rhône-Alpes", "IND17", other, "nombre", 15.0, "ok", None, NAN),
    ]
    frame = pd.DataFrame(rows, columns=[name for name, *_ in BILAN_COLUMNS])
    frame["cible_valeur"] = frame["cible_valeur"].astype("float64")
    columns = tuple(Column(*spec) for spec in BILAN_COLUMNS)
    return Table("bilan_conventions", "Bilan 2024 des conventions interministérielles", "Bilan.", columns, frame)


def measures_table() -> Table:
    columns = (
        Column("statut", "État d'avancement", "label"),
        Column("mesures", "Mesures", "count", "nombre", counts="mesures"),
        Column("part", "Part", "share", "%"),
    )
    frame = pd.DataFrame(
        {
            "statut": ["Démarré", "Objectif atteint", "Non démarré", "En voie de finalisation"],
            "mesures": [22, 3, 14, 1],
            "part": [55.0, 7.5, 35.0, 2.5],
        }
    )
    return Table("mesures_synthese", "Synthèse de l'état des mesures", "Mesures par état.", columns, frame)


def completeness_table() -> Table:
    columns = (
        Column("code_region", "Code région", "code"),
        Column("region", "Région", "label"),
        Column("etat", "État", "label"),
        Column("erreurs", "Erreurs", "count", "nombre", counts="erreurs"),
        Column("date_acceptation", "Date d'acceptation", "text"),
        Column("version", "Version", "code"),
        Column("date_limite", "Date limite", "text"),
    )
    limit = dt.date(2025, 4, 30)
    frame = pd.DataFrame(
        [
            ("11", "Île-de-France", "rejetée", 3, None, None, limit),
            ("84", "Auvergne-Rhône-Alpes", "acceptée", 0, dt.date(2025, 3, 14), "2", limit),
            ("93", "Provence-Alpes-Côte d'Azur", "non reçue", NAN, None, None, limit),
        ],
        columns=[column.name for column in columns],
    )
    return Table("completude_campagne", "Complétude de la campagne 2024", "Remises des régions.", columns, frame)


def series_table() -> Table:
    columns = (
        Column("niveau", "Niveau", "code"),
        Column("code_territoire", "Code territoire", "code"),
        Column("territoire", "Territoire", "label"),
        Column("categorie", "Catégorie", "code"),
        Column("semestre", "Semestre", "period"),
        Column("de_qpv", "Demandeurs d'emploi en QPV", "count", "nombre", counts="personnes"),
        Column("de_hors_qpv", "Demandeurs d'emploi hors QPV", "count", "nombre", counts="personnes"),
        Column("statut", "Statut", "status"),
    )
    semesters = ["2023-S1", "2023-S2", "2024-S1", "2024-S2"]
    rows = []
    for category, base in (("A", 100_000), ("ABC", 200_000)):
        for index, semester in enumerate(semesters):
            rows.append(("france", "FR", "France", category, semester, base + 1000 * index, 9 * base, "ok"))
    for index, semester in enumerate(semesters):
        masked = semester == "2024-S1"
        rows.append(("region", "84", "Auvergne-Rhône-Alpes", "A", semester, NAN if masked else 1234 + index,
                     50_000 + index, "masked" if masked else "ok"))  # fmt: skip
    frame = pd.DataFrame(rows, columns=[column.name for column in columns])
    return Table("emploi_qpv_serie", "Demandeurs d'emploi en QPV et hors QPV", "Série.", columns, frame)


def all_tables() -> list[Table]:
    return [bilan_table(), measures_table(), completeness_table(), series_table()]


def render(folder: Path, tables: list[Table] | None = None) -> list[Path]:
    return report.render_report(
        all_tables() if tables is None else tables, folder, edition_id=EDITION, kind="annuelle", period="2024"
    )


class Page(HTMLParser):
    """What the tests look at in a page: links, charts (with their title), table cells, paths of line series."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.charts: list[dict] = []
        self.cells: list[tuple[str, str]] = []  # (class, text) of every <td>
        self.series: dict[str, list[str]] = {}  # class of a line series -> the `d` of its paths
        self._stack: list[tuple[str, dict]] = []
        self._cell: list[str] | None = None
        self._title: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self._stack.append((tag, attrs))
        if tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])
        if tag == "svg":
            self.charts.append({"attrs": attrs, "title": None})
        if tag == "title" and len(self._stack) >= 2 and self._stack[-2][0] == "svg":
            self._title = []
        if tag == "td":
            self._cell = []
        if tag == "path":
            for _, parent in reversed(self._stack[:-1]):
                if "serie" in parent.get("class", "").split():
                    self.series.setdefault(parent["class"], []).append(attrs["d"])
                    break

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag == "title" and self._title is not None:
            self.charts[-1]["title"] = "".join(self._title)
            self._title = None
        if tag == "td" and self._cell is not None:
            self.cells.append((dict(self._stack[-1][1]).get("class", ""), "".join(self._cell)))
            self._cell = None
        while self._stack:
            if self._stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._title is not None:
            self._title.append(data)


def parse(path: Path) -> tuple[str, Page]:
    text = path.read_text(encoding="utf-8")
    return text, Page(text)


def test_french_numbers():
    assert report_cells.format_number(1234) == f"1{NBSP}234"
    assert report_cells.format_number(1234567.891) == f"1{NBSP}234{NBSP}567,89"
    assert report_cells.format_number(12.5) == "12,5"
    assert report_cells.format_number(30.0) == "30"
    assert report_cells.format_number(-0.001) == "0"
    assert report_cells.format_number(-1.5) == "-1,5"
    assert report_cells.format_number(1.25, signed=True) == "+1,25"
    assert report_cells.format_number(0.0, signed=True) == "0"
    assert report_cells.format_value(12.5, "%") == f"12,5{NBSP}%"
    assert report_cells.format_value(-4.5, "pts", signed=True) == f"-4,5{NBSP}pts"
    assert report_cells.format_value(1200, "euros") == f"1{NBSP}200{NBSP}€"
    assert report_cells.format_value(12345, "nombre") == f"12{NBSP}345"


def test_pages_and_links(tmp_path):
    written = render(tmp_path)
    assert written == [tmp_path / name for name in PAGES]  # the régions of all the tables, in code order
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(PAGES)
    for path in written:
        text, page = parse(path)
        assert text.startswith('<!DOCTYPE html>\n<html lang="fr">')
        assert "<script" not in text and "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
        # the one external address is the licence's, a link to follow, not a resource the page loads
        assert text.count(LICENCE["url"]) == 1
        assert "https://" not in text.replace(LICENCE["url"], "")
        local = {link.split("#")[0] for link in page.links if not link.startswith("#") and link != LICENCE["url"]}
        assert set(PAGES) <= local, f"{path.name} does not link every page"
        assert all((tmp_path / link).is_file() for link in local), f"{path.name} has a broken link"
        assert f'<a href="{path.name}" aria-current="page">' in text
        assert EDITION in text


def test_national_page(tmp_path):
    render(tmp_path)
    text, page = parse(tmp_path / "index.html")
    cells = [cell for _, cell in page.cells]
    # the France rows of the bilan, formatted the French way
    assert f"28,5{NBSP}%" in cells and f"-1,5{NBSP}pts" in cells
    assert f"12{NBSP}345" in cells and f"+7{NBSP}345" in cells and f"11{NBSP}000" in cells and f"+1{NBSP}345" in cells
    assert "12345" not in cells
    # measures and completeness
    assert f"7,5{NBSP}%" in cells and f"55{NBSP}%" in cells
    assert "14/03/2025" in cells and "non reçue" in cells and "rejetée" in cells
    # the masked régions of IND04 are `s` in the chart, and the page explains the secret
    assert "secret statistique" in text and 'id="secret-statistique"' in text
    # every chart: <svg class="chart ..." role="img"> with a <title>
    titles = [chart["title"] for chart in page.charts]
    assert all("chart" in chart["attrs"]["class"].split() and chart["attrs"]["role"] == "img" for chart in page.charts)
    assert all(titles)
    # one chart per indicator with a numeric target (IND01, IND04; not IND17), measures, completeness, 2 categories
    assert len(page.charts) == 6
    assert sum("valeur régionale et cible" in title for title in titles) == 2
    assert not any("IND17" in title for title in titles)
    assert sum("catégorie A," in title or "catégorie ABC," in title for title in titles) == 2
    assert f"Cible : 30{NBSP}%" in text and f"Cible : 5{NBSP}000" in text
    # the France series (categories A and ABC): 4 points per line, no gap
    assert sorted(page.series) == ["serie serie-hors-qpv", "serie serie-qpv"]
    assert all(len(paths) == 2 for paths in page.series.values())
    assert all(d.count("M") == 1 and d.count("L") == 3 for paths in page.series.values() for d in paths)
    # completeness: one segment per state, counted
    assert "acceptée : 1" in text and "rejetée : 1" in text and "non reçue : 1" in text


def test_region_pages(tmp_path):
    render(tmp_path)
    text, page = parse(tmp_path / "region-84.html")
    assert "<h1>Auvergne-Rhône-Alpes" in text
    # the région's bilan rows with target text, gap and observations (escaped, verbatim)
    cells = page.cells
    assert ("num", f"31,25{NBSP}%") in cells and ("num", f"+1,25{NBSP}pts") in cells and ("", "30%") in cells
    assert ("large", OBSERVATION) in cells
    assert "&lt;b&gt;Hausse&lt;/b&gt; &amp; progrès" in text and "<b>Hausse" not in text
    # masked value of IND04 and masked point of the series: `s`, and the footnote
    assert ("num secret", "s") in cells
    assert 'id="secret-statistique"' in text and "secret statistique" in text
    # its completeness line only
    assert ("", "acceptée") in cells and ("", "rejetée") not in cells
    # charts: IND01 and IND04 vs France and target, and the series of category A
    titles = [chart["title"] for chart in page.charts]
    assert len(titles) == 3 and sum("France et cible" in title for title in titles) == 2
    # the masked point (2024-S1, in QPV) breaks the QPV line: two pieces; the other line is whole
    qpv = page.series["serie serie-qpv"]
    rest = page.series["serie serie-hors-qpv"]
    assert len(qpv) == 1 and qpv[0].count("M") == 2 and qpv[0].count("L") == 1
    assert len(rest) == 1 and rest[0].count("M") == 1 and rest[0].count("L") == 3
    assert "S1 2024 (En QPV)" in text
    assert f"1{NBSP}234" in [cell for _, cell in cells]

    # a région present only in the completeness table, with nothing masked: no footnote on the secret
    text, page = parse(tmp_path / "region-93.html")
    assert ("", "non reçue") in page.cells and not page.charts
    assert 'id="secret-statistique"' not in text and "num secret" not in text
    # a région without series or masked cells of its own still gets its bilan and charts
    text, page = parse(tmp_path / "region-11.html")
    assert ("num secret", "s") in page.cells and len(page.charts) == 2


def test_absent_tables_are_skipped_and_bad_tables_refused(tmp_path):
    written = render(tmp_path / "serie", [series_table()])
    assert [path.name for path in written] == ["index.html", "region-84.html"]
    text, page = parse(written[0])
    assert "Bilan" not in text and len(page.charts) == 2
    bilan = bilan_table()
    frame = bilan.frame.drop(columns=["cible_valeur"])
    columns = tuple(column for column in bilan.columns if column.name != "cible_valeur")
    broken = Table(bilan.name, bilan.title, bilan.description, columns, frame)
    with pytest.raises(ValueError, match="cible_valeur"):
        render(tmp_path / "broken", [broken])


def test_deterministic(tmp_path):
    first = render(tmp_path / "a")
    second = render(tmp_path / "b")
    assert [path.read_bytes() for path in first] == [path.read_bytes() for path in second]
    changed = series_table()
    frame = changed.frame.copy()
    frame.loc[0, "de_qpv"] = 99_999
    third = render(tmp_path / "c", [*all_tables()[:3], Table(changed.name, changed.title, "", changed.columns, frame)])
    assert third[0].read_bytes() != first[0].read_bytes()
    assert third[2].read_bytes() == first[2].read_bytes()  # the France series is not on a région's page


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_edition_with_report(tmp_path):
    home = tmp_path / "publication"
    tables = all_tables()
    plain = editions.write_edition(home, "annuelle-2024-20250601T050000Z", tables, metadata={})

    def extra(folder: Path) -> None:
        report.render_report(tables, folder, edition_id=EDITION, kind="annuelle", period="2024")

    folder = editions.write_edition(home, EDITION, tables, metadata={}, extra=extra)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    listed = {entry["file"]: entry for entry in manifest["report"]}
    assert sorted(listed) == sorted(PAGES)
    for name, entry in listed.items():
        content = (folder / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(content).hexdigest() and entry["size"] == len(content)
        assert _mode(folder / name) == 0o444
    assert "report" not in json.loads((plain / "manifest.json").read_text(encoding="utf-8"))
    assert [entry["file"] for entry in manifest["files"]] == [
        entry["file"] for entry in json.loads((plain / "manifest.json").read_text(encoding="utf-8"))["files"]
    ]
    # the report is not a data file: same data files digest as the edition without it
    assert editions.data_files_digest(folder) == editions.data_files_digest(plain)
    assert not any(name.endswith(".html") for name in editions.data_files_digest(folder))
    # inside the edition, the report links the data files that are there
    text = (folder / "index.html").read_text(encoding="utf-8")
    assert '<a href="tables.xlsx">' in text and '<a href="bilan_conventions.csv">' in text
    assert [path.name for path in home.iterdir() if path.name.startswith(".")] == []


def test_edition_extra_cannot_touch_data_files(tmp_path):
    home = tmp_path / "publication"

    def tamper(folder: Path) -> None:
        path = folder / "mesures_synthese.csv"
        path.chmod(0o644)
        path.write_bytes(b"autre chose")

    def manifest(folder: Path) -> None:
        (folder / "manifest.json").write_text("{}")

    with pytest.raises(ValueError, match="mesures_synthese.csv"):
        editions.write_edition(home, "x-1", [measures_table()], metadata={}, extra=tamper)

    def workbook(folder: Path) -> None:  # the workbook's file, reserved while its bytes are being built
        path = folder / "tables.xlsx"
        assert path.is_file() and path.stat().st_size == 0
        path.chmod(0o644)
        path.write_bytes(b"autre chose")

    with pytest.raises(ValueError, match="manifest.json"):
        editions.write_edition(home, "x-2", [measures_table()], metadata={}, extra=manifest)
    with pytest.raises(ValueError, match="tables.xlsx"):
        editions.write_edition(home, "x-4", [measures_table()], metadata={}, extra=workbook)
    assert list(home.iterdir()) == []


def test_an_edition_withdrawn_after_a_failed_load_leaves_nothing_even_its_read_only_subfolders(tmp_path):
    from etl.publication import publish

    def pages(folder: Path) -> None:
        (folder / "qpv").mkdir()
        (folder / "qpv" / "QN01.html").write_text("<p>portrait</p>")

    folder = editions.write_edition(tmp_path / "publication", "x-3", [measures_table()], metadata={}, extra=pages)
    assert (folder / "qpv" / "QN01.html").is_file()
    assert not (folder / "qpv").stat().st_mode & 0o222  # read-only, as every folder of a released edition
    publish._withdraw(folder)
    assert not folder.exists()


# --- in a real browser (the `chromium` fixture of tests/conftest.py) -----------------------------------------------


@pytest.mark.browser
def test_report_in_chromium(tmp_path, chromium):
    written = render(tmp_path / "report")
    for path in (written[0], written[2]):  # the national page and Auvergne-Rhône-Alpes
        expected = len(re.findall(r'<svg class="chart[ "]', path.read_text(encoding="utf-8")))
        code, dom, console = chromium(path.resolve().as_uri())
        assert code == 0, f"chromium failed on {path.name}"
        # the report holds no script, so any console message (an error, an uncaught exception, a resource refused by
        # the Content-Security-Policy) is a fault
        assert console == [], f"console messages on {path.name}: {console}"
        charts = re.findall(r'<svg [^>]*class="chart[ "]', dom)
        assert len(charts) == expected > 0
        assert "<title" in dom and "Cible" in dom

    # the check itself sees a failing page
    broken = tmp_path / "broken.html"
    broken.write_text(
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>t</title></head>'
        '<body><script>console.error("échec"); inconnue();</script></body></html>',
        encoding="utf-8",
    )
    code, _, console = chromium(broken.resolve().as_uri())
    assert code == 0 and any("Uncaught" in line for line in console) and any("échec" in line for line in console)
