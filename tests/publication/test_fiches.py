"""The fiches méthodologiques of an edition (etl/publication/fiches.py): one page per indicator in the edition folder,
one dictionary row each, linked from the HTML report and linking back to it.

The annual and semestrial editions are published on a real warehouse by the fixtures of the publication tests
(`facts` of test_annual_publication.py, `loaded` of test_semestrial_publication.py, imported from their files); the
pages are parsed back with html.parser, and the expected texts are written out here.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import posixpath
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from etl.config import SQL_FOLDER
from etl.publication import editions, fiches, publish, report
from etl.publication.semestrial import COMPARABILITY_RULE
from etl.publication.tables import LICENCE


def _test_module(name: str):
    spec = importlib.util.spec_from_file_location(f"fiches_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_annual = _test_module("test_annual_publication")
_semestrial = _test_module("test_semestrial_publication")
_report = _test_module("test_report")
facts = _annual.facts  # the annual facts (fixture)
loaded = (
    _semestrial.loaded
)  # France Travail months and PAQTE reports loaded, the semestrial edition published (fixture)

HOSTILE = 'Part des "jeunes" <b>résidents</b> & co <script>x</script>'


class Text(HTMLParser):
    """The visible text of a page (whitespace collapsed) and its links."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._skip = 0
        self.feed(html)
        self.text = " ".join(" ".join(self.parts).split())

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "title"):
            self._skip += 1
        if tag == "a" and dict(attrs).get("href"):
            self.links.append(dict(attrs)["href"])

    def handle_endtag(self, tag):
        if tag in ("style", "title"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def annual(facts):
    wh, *_ = facts
    return publish.publish_annual(wh.engine, _annual.YEAR, home=wh.home, now=datetime(2025, 6, 1, 6, tzinfo=UTC))


@pytest.fixture(scope="module")
def semestrial(loaded):
    return loaded[1]


def _codes_of_tables(folder: Path) -> set[str]:
    """Every indicator code of a code_indicateur column of the edition's CSV files."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    codes = set()
    for table in manifest["tables"]:
        names = [column["name"] for column in table["columns"]]
        if "code_indicateur" in names:
            with (folder / f"{table['name']}.csv").open(encoding="utf-8-sig", newline="") as handle:
                rows = list(csv.reader(handle, delimiter=";"))
            codes |= {row[names.index("code_indicateur")] for row in rows[1:]}
    return codes


def _dictionary(folder: Path) -> list[dict[str, str]]:
    text = (folder / "dictionnaire.csv").read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))


def _fiche(folder: Path, code: str) -> Text:
    return Text((folder / "fiches" / f"{code}.html").read_text(encoding="utf-8"))


@pytest.mark.warehouse
def test_every_indicator_of_every_table_has_its_fiche_and_its_dictionary_row(annual, semestrial):
    annual_codes = _codes_of_tables(annual.folder)
    assert {"IND01", "IND04", "IND16", "IND32", "FDR13-1"} <= annual_codes
    semestrial_codes = _codes_of_tables(semestrial.folder) | set(fiches.DASHBOARD_INDICATORS)
    assert {"ENTREPRISES", "SENS_STAGES_3E", "RECR_RESIDENTS", "FT_DEFM_A", "FT_DEFM_QPV_ABC"} <= semestrial_codes
    for released, codes in ((annual, annual_codes), (semestrial, semestrial_codes)):
        folder = released.folder
        assert {path.stem for path in (folder / "fiches").iterdir()} == codes
        rows = [row for row in _dictionary(folder) if row["Rôle"] == "fiche"]
        assert sorted(row["Colonne"] for row in rows) == sorted(codes)
        assert all(row["En-tête"] and row["Description"] and row["Valeurs particulières"] for row in rows)
        assert all(f"fiches/{row['Colonne']}.html" in row["Description"] for row in rows)
        # the fiches are report pages: listed in the manifest with the report, out of the data files digest
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        listed = {entry["file"] for entry in manifest["report"]}
        assert {f"fiches/{code}.html" for code in codes} <= listed
        assert not any(name.startswith("fiches/") for name in editions.data_files_digest(folder))
    people = next(r for r in _dictionary(annual.folder) if r["Rôle"] == "fiche" and r["Colonne"] == "IND04")
    assert people["Unité statistique"] == "personnes" and "masqué sous 11" in people["Valeurs particulières"]
    zones = next(r for r in _dictionary(annual.folder) if r["Rôle"] == "fiche" and r["Colonne"] == "IND12")
    assert zones["Unité statistique"] == "zones" and zones["Valeurs particulières"].startswith("jamais masqué")


@pytest.mark.warehouse
def test_a_fiche_says_definition_unit_producer_secrecy_breaks_target_and_origin(annual, semestrial):
    # a count of people of the 2014 catalogue, with a target
    page = _fiche(annual.folder, "IND04")
    for expected in (
        "IND04 – Nombre de bénéficiaires",
        "Expérimentation du dispositif des emplois francs sur 10 sites dès 2013 et sur une durée de 3 ans",
        "Expérimenter un outil spécifique de lutte contre les discriminations",  # objectif stratégique
        "BOP (programme budgétaire) 147",
        "Producteur DGEFP / ASP",
        "entrée « national_indicateurs »",
        "Unité : un nombre (effectif) ; il compte des personnes (unité statistique « personnes »).",
        "Cet indicateur compte des personnes (unité statistique « personnes ») : le secret statistique s'applique. "
        "Une valeur inférieure à 11 est masquée",
        _words(fiches.GEOGRAPHY_BREAK),
        _words(fiches.BILAN_BREAK),
        "Cible 5000",
        "Total des bénéficiaires sur toute l'expérimentation des emplois francs",
        "Instruction du Premier ministre n° 5706/SG du 26 mars 2014",
        "annexe 2 : « Tableau de suivi des conventions interministérielles »",
        "Région (18)",
        "France (1)",
        "Périodicité annuelle",
        "livrées par : test_source",
    ):
        assert expected in page.text, expected
    # a count that is not of people (zones): no secrecy; a local indicator loaded from the régions' workbooks
    page = _fiche(annual.folder, "IND12")
    assert "pas des personnes ni des foyers : le secret statistique ne s'applique pas" in page.text
    assert "le secret statistique s'applique" not in page.text and "entrée « regional »" in page.text
    assert "Pas de cible nationale." in page.text
    # crèche places, loaded by the CAF's source
    page = _fiche(annual.folder, "IND16")
    assert "compte des places" in page.text and "entrée « caf_creches »" in page.text
    # a roadmap indicator: the letter of 2019, its annex 3 and the measure
    page = _fiche(annual.folder, "FDR13-1")
    assert "Lettre du Premier ministre du 22 janvier 2019" in page.text and "annexe 3" in page.text
    assert "mesure n° 13" in page.text and "aucune entrée du registre des sources" in page.text

    # the job seekers behind the semestrial dashboard: people, the geography rule of the dashboard, the dashboard's text
    page = _fiche(semestrial.folder, "FT_DEFM_A")
    for expected in (
        "Producteur France Travail",
        "entrée « france_travail_defm » (DAG « france_travail_defm »)",
        "le secret statistique s'applique",
        _words(fiches.GEOGRAPHY_BREAK),
        _words(COMPARABILITY_RULE),
        "tableau de bord régional et départemental de l'emploi dans les quartiers",
        "QPV (",
        "Périodicité mensuelle",
        "livrées par : france_travail_defm",
    ):
        assert expected in page.text, expected
    # PAQTE: internships offered are places (no secrecy), pupils are people, amounts follow the dominance rule
    page = _fiche(semestrial.folder, "SENS_STAGES_3E")
    assert "compte des places" in page.text and "le secret statistique ne s'applique pas" in page.text
    assert "annexe 2 : modalités de déploiement du PAQTE" in page.text and "Département (" in page.text
    assert "entrée « paqte »" in page.text and _words(fiches.NO_CHANGE_BREAK) in page.text
    assert "le secret statistique s'applique" in _fiche(semestrial.folder, "SENS_ELEVES_3E").text
    assert "moins de 3 entreprises signataires" in _fiche(semestrial.folder, "ACHA_QPV").text
    # every fiche links back to the report and carries the licence
    for folder in (annual.folder, semestrial.folder):
        for path in (folder / "fiches").iterdir():
            page = Text(path.read_text(encoding="utf-8"))
            assert "../index.html" in page.links and LICENCE["url"] in page.links


def _local_links(folder: Path, page: Path) -> list[str]:
    """The links of `page` inside the edition, as paths relative to the edition folder."""
    base = posixpath.dirname(page.relative_to(folder).as_posix())
    links = Text(page.read_text(encoding="utf-8")).links
    return [
        posixpath.normpath(posixpath.join(base, link.split("#")[0]))
        for link in links
        if not link.startswith(("#", "https://", "http://"))
    ]


@pytest.mark.warehouse
def test_every_link_of_the_report_and_the_fiches_resolves_and_every_fiche_is_linked(annual, semestrial):
    for folder in (annual.folder, semestrial.folder):
        pages = sorted(folder.rglob("*.html"))
        for page in pages:
            for link in _local_links(folder, page):
                assert not link.startswith(".."), f"{page.name} links outside the edition: {link}"
                assert (folder / link).is_file(), f"{page.relative_to(folder)} links to {link}, which is missing"
        index = set(_local_links(folder, folder / "index.html"))
        assert {f"fiches/{path.name}" for path in (folder / "fiches").iterdir()} <= index
    # the bilan's table links each indicator's code and label to its fiche, on the national and the régions' pages
    text = (annual.folder / "index.html").read_text(encoding="utf-8")
    assert '<td><a href="fiches/IND04.html">IND04</a></td>' in text
    assert '<td class="large"><a href="fiches/IND04.html">Nombre de bénéficiaires</a></td>' in text
    assert '<a href="fiches/IND04.html">IND04 – Nombre de bénéficiaires</a>. Cible nationale' in text
    region = (annual.folder / "region-84.html").read_text(encoding="utf-8")
    assert '<td><a href="fiches/IND12.html">IND12</a></td>' in region


def test_the_dashboard_indicators_are_those_its_sql_reads():
    sql = (SQL_FOLDER / "publication" / "emploi_qpv.sql").read_text(encoding="utf-8")
    assert all(f"'{code}'" in sql for code in fiches.DASHBOARD_INDICATORS)


def _hostile_fiche(**more) -> fiches.Fiche:
    values = {
        "code": "IND99",
        "family": "convention_2014",
        "libelle": HOSTILE,
        "definition": f"{HOSTILE}. Objectif opérationnel : <i>tout</i>",
        "context": (("Convention interministérielle", "Emploi & <insertion>"),),
        "producteur": "DGEFP & <ASP>",
        "mode": "National",
        "sources": (),
        "unite": "%",
        "unite_statistique": "personnes",
        "periodicite": "annuelle",
        "regle_diffusion": "part masquée si son numérateur ou son dénominateur compte moins de 11 personnes",
        "tables": ("bilan_conventions",),
        "territories": {"france": 1, "region": 2},
        "target": (("Cible", "> 30 % & plus"),),
    }
    values.update(more)
    return fiches.Fiche(**values)


def test_labels_are_escaped_in_the_fiche_and_in_the_report(tmp_path):
    written = fiches.write_fiches([_hostile_fiche()], tmp_path, edition_id="e-1", kind="annuelle", period="2024")
    assert written == {"IND99": HOSTILE}
    html = (tmp_path / "fiches" / "IND99.html").read_text(encoding="utf-8")
    assert "<b>" not in html and "<script>x" not in html and "<i>" not in html and "<ASP>" not in html
    assert "&lt;b&gt;résidents&lt;/b&gt; &amp; co" in html and "&quot;jeunes&quot;" in html
    page = Text(html)
    assert _words(HOSTILE) in page.text and "DGEFP & <ASP>" in page.text and "> 30 % & plus" in page.text
    assert "une part dont le numérateur compte des personnes" in page.text

    # the report: the bilan's label, in a cell linked to the fiche, and in the list of the fiches
    bilan = _report.bilan_table()
    frame = bilan.frame.copy()
    frame.loc[frame["code_indicateur"] == "IND01", "libelle"] = HOSTILE
    frame.loc[frame["code_indicateur"] == "IND01", "code_indicateur"] = "IND99"
    table = type(bilan)(bilan.name, bilan.title, bilan.description, bilan.columns, frame)
    report.render_report([table], tmp_path, edition_id="e-1", kind="annuelle", period="2024", fiches=written)
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "<b>" not in html and "<script>x" not in html
    link = '<a href="fiches/IND99.html">'
    assert (
        f"{link}Part des &quot;jeunes&quot; &lt;b&gt;résidents&lt;/b&gt; &amp; co &lt;script&gt;x&lt;/script&gt;</a>"
        in html
    )
    assert f"{link}IND99 – Part des &quot;jeunes&quot;" in html  # chart caption and list of the fiches
    assert all((tmp_path / link).is_file() for link in Text(html).links if link.startswith("fiches/"))


def test_same_fiches_same_bytes_and_one_name_per_fiche(tmp_path):
    first = tmp_path / "a"
    second = tmp_path / "b"
    for folder in (first, second):
        fiches.write_fiches([_hostile_fiche()], folder, edition_id="e-1", kind="annuelle", period="2024")
    assert (first / "fiches" / "IND99.html").read_bytes() == (second / "fiches" / "IND99.html").read_bytes()
    with pytest.raises(ValueError, match="share the fiche"):
        fiches.write_fiches(
            [_hostile_fiche(code="A/B"), _hostile_fiche(code="A_B")],
            tmp_path / "c",
            edition_id="e-1",
            kind="annuelle",
            period="2024",
        )


@pytest.mark.browser
def test_a_fiche_in_chromium(tmp_path, chromium):
    fiches.write_fiches([_hostile_fiche()], tmp_path, edition_id="e-1", kind="annuelle", period="2024")
    code, dom, console = chromium((tmp_path / "fiches" / "IND99.html").resolve().as_uri())
    # the page holds no script: any console message (a resource the Content-Security-Policy refused) is a fault
    assert code == 0 and console == []
    assert "Secret statistique" in dom and "<script>x" not in dom
