"""The table of the QPV in veille active (etl/publication/veille.py) on a real warehouse, and its place in the annual
edition: the 2015 QPV that left the geography listed with their successor, figures masked by statistical secrecy
(a small count and its complement), a QPV absent from a year's files `non disponible`, never 0; the edition's CSV
file, its Data Package, the publication schema and the report's section.

The QPV referential (three 2015 QPV in Paris, one 2024 QPV; QP075002 left the geography, QP075003 left it but part of
it was taken into QN07501M) goes through the pipeline; facts are inserted directly into core.indicator_value_vintage,
so the expected figures are written out here.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pandas as pd
import pytest
import sqlalchemy as sa

from etl import pipeline
from etl.publication import disclosure, publish, veille
from etl.sources.registry import source
from tests.publication.facts import insert_facts

pytestmark = pytest.mark.warehouse

YEAR = 2025
HEADER = "code_qp;lib_qp;insee_reg;lib_reg;insee_dep;lib_dep;insee_com;lib_com;siren_epci;lib_epci\n"
QPV_2015 = [
    "QP075001;Les Portes;11;IDF;75;Paris;75056;Paris;200054781;MGP",
    "QP075002;La Goutte;11;IDF;75;Paris;75056;Paris;200054781;MGP",
    "QP075003;Le Canal;11;IDF;75;Paris;75056;Paris;200054781;MGP",
]
QPV_2024 = ["QN07501M;Les Portes et le Canal;11;IDF;75;Paris;75056;Paris;200054781;MGP"]
CORRESPONDANCE = (
    "code_qp_2015;code_qp_2024;type_evolution\n"
    "QP075001;QN07501M;modifie\nQP075002;;sortant\nQP075003;;sortant\nQP075003;QN07501M;modifie\n"
)
# (indicator, QPV or FR, period, breakdown) -> value, with the source that reports it
FACTS = {
    ("france_travail_individus", "FT_DEFM_INDIV_ABC", "FR", "2025-11", "total"): 90_000,
    ("france_travail_individus", "FT_DEFM_INDIV_ABC", "FR", "2024-11", "total"): 88_000,
    ("france_travail_individus", "FT_DEFM_INDIV_ABC", "QP075002", "2025-11", "total"): 40,
    ("france_travail_individus", "FT_DEFM_INDIV_ABC", "QP075002", "2025-11", "sexe=F"): 33,
    ("france_travail_individus", "FT_DEFM_INDIV_ABC", "QP075002", "2025-11", "sexe=H"): 7,
    ("france_travail_individus", "FT_DEFM_INDIV_ABC", "QP075002", "2025-11", "age=<26"): 12,
    ("france_travail_individus", "FT_DEFM_INDIV_ABC", "QP075002", "2025-11", "age=26-49"): 16,
    ("france_travail_individus", "FT_DEFM_INDIV_ABC", "QP075002", "2025-11", "age=50+"): 12,
    ("france_travail_individus", "FT_DEFM_INDIV_ABC", "QN07501M", "2025-11", "total"): 700,
    ("caf_allocataires", "CAF_ALLOCATAIRES", "QP075002", "2025", "total"): 120,
    ("caf_allocataires", "CAF_RSA", "QP075002", "2025", "total"): 5,
    ("caf_allocataires", "CAF_ALLOCATAIRES", "QP075003", "2025", "total"): 300,
    ("caf_allocataires", "CAF_ALLOCATAIRES", "QP075003", "2022", "total"): 310,
    ("caf_allocataires", "CAF_ALLOCATAIRES", "QN07501M", "2025", "total"): 2_000,
    # a source that does not declare veille_active: never read for these QPV
    ("france_travail_contacts", "CAF_AAH", "QP075003", "2025", "total"): 50,
}


def _ingest(home, engine, source_id: str, files: dict[str, str]) -> None:
    inbox = home.folder("inbox") / source_id
    inbox.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (inbox / name).write_text(text, encoding="utf-8")
    report = pipeline.ingest(engine, source(source_id), home=home, run_id="test")
    assert {b.status for b in report.batches} == {"loaded"}


@pytest.fixture(scope="module")
def warehouse(reference_warehouse):
    wh = reference_warehouse
    _ingest(wh.home, wh.engine, "anct_qpv", {"qpv_2015.csv": HEADER + "\n".join(QPV_2015) + "\n",
                                            "qpv_2024.csv": HEADER + "\n".join(QPV_2024) + "\n"})  # fmt: skip
    _ingest(wh.home, wh.engine, "anct_qpv_correspondance", {"correspondance.csv": CORRESPONDANCE})
    facts = [
        {"indicator": indicator, "level": "france" if code == "FR" else "qpv", "code": code, "period": period,
         "breakdown": breakdown, "value": value, "source": source_id}
        for (source_id, indicator, code, period, breakdown), value in FACTS.items()
    ]  # fmt: skip
    with wh.engine.begin() as conn:
        insert_facts(conn, "test_veille", "veille.csv", "1" * 64, datetime(2026, 3, 1, tzinfo=UTC), facts)
    return wh


def _row(frame: pd.DataFrame, qpv: str, code: str, year: int, breakdown: str = "total") -> pd.Series:
    rows = frame[
        (frame["code_qpv_2015"] == qpv)
        & (frame["code_indicateur"] == code)
        & (frame["annee"] == year)
        & (frame["ventilation"] == breakdown)
    ]
    assert len(rows) == 1, (qpv, code, year, breakdown)
    return rows.iloc[0]


def test_the_veille_table_lists_the_qpv_that_left_with_their_successor_masks_and_says_missing(warehouse):
    rules = disclosure.Rules()
    built = veille.veille_active(warehouse.engine, YEAR)
    frame = built.table.frame
    assert sorted(frame["code_qpv_2015"].unique()) == ["QP075002", "QP075003"]  # not the QPV still in force
    per_qpv = frame.drop_duplicates("code_qpv_2015").set_index("code_qpv_2015")
    assert per_qpv.loc["QP075003", "codes_qpv_2024_successeurs"] == "QN07501M"
    assert per_qpv.loc["QP075003", "qpv_2024_successeurs"] == "Les Portes et le Canal"
    assert pd.isna(per_qpv.loc["QP075002", "codes_qpv_2024_successeurs"])
    assert per_qpv.loc["QP075002", ["codes_communes", "communes", "departement", "sortie_geographie"]].tolist() == [
        "75056", "Paris", "Paris", "2024-01-01"
    ]  # fmt: skip
    assert sorted(frame["annee"].unique()) == [2022, 2024, 2025]  # N, N-1, N-3
    n_cells = sum(len(breakdowns) for breakdowns, _ in veille.INDICATORS.values())
    assert len(frame) == 2 * 3 * n_cells and not frame.duplicated(list(veille.VEILLE_KEY)).any()
    assert _row(frame, "QP075002", "FT_DEFM_INDIV_ABC", 2025)["periode"] == "2025-11"
    assert _row(frame, "QP075002", "FT_DEFM_INDIV_ABC", 2025)["situation"] == "en veille active"
    assert _row(frame, "QP075003", "CAF_ALLOCATAIRES", 2022)["situation"] == "quartier prioritaire (géographie 2015)"
    assert _row(frame, "QP075003", "CAF_ALLOCATAIRES", 2022)["valeur"] == 310
    # a source that does not declare veille_active is not read
    assert _row(frame, "QP075003", "CAF_AAH", 2025)["statut"] == "missing"

    protected, masked, check = veille.protect(built, rules)
    # primary: 7 men; secondary: the women (total = women + men), the total staying published
    men, women, total = (
        _row(protected, "QP075002", "FT_DEFM_INDIV_ABC", 2025, b) for b in ("sexe=H", "sexe=F", "total")
    )
    assert (men["statut"], women["statut"], total["statut"], total["valeur"]) == ("masked", "masked", "ok", 40)
    assert pd.isna(men["valeur"]) and pd.isna(women["valeur"])
    ages = [_row(protected, "QP075002", "FT_DEFM_INDIV_ABC", 2025, b)["statut"] for b in veille.AGES]
    assert ages == ["ok"] * 3  # no age band under 11
    rsa = _row(protected, "QP075002", "CAF_RSA", 2025)
    assert (rsa["statut"], pd.isna(rsa["valeur"])) == ("masked", True)
    assert masked == 3
    # absent from the year's files: missing, never 0
    for code, year in (("FT_DEFM_INDIV_ABC", 2024), ("CAF_ALLOCATAIRES", 2024), ("IND20", 2025)):
        row = _row(protected, "QP075002", code, year)
        assert row["statut"] == "missing" and pd.isna(row["valeur"]), (code, year)
    assert pd.isna(_row(protected, "QP075002", "FT_DEFM_INDIV_ABC", 2022)["periode"])  # no extract that year
    helpers = [column for column in check.columns if column != "line_no"]
    assert check[helpers].isna().all().all()  # gate 3 finds nothing


def test_no_veille_table_before_the_2024_geography(warehouse):
    assert veille.veille_active(warehouse.engine, 2023) is None


def test_every_indicator_of_the_table_comes_from_a_source_declaring_veille_active():
    from etl.sources.registry import all_sources

    valid, _ = all_sources()
    declaring = {code for entry in valid.values() if entry.veille_active for code in entry.indicators}
    assert set(veille.INDICATORS) <= declaring
    assert veille.reporting_sources() == ["ans_licences", "caf_allocataires", "france_travail_individus"]


def test_the_annual_edition_publishes_the_veille_table_its_report_section_and_a_valid_package(
    warehouse, released_datapackage
):
    released = publish.publish_annual(warehouse.engine, YEAR, home=warehouse.home, now=datetime(2026, 6, 1, tzinfo=UTC))
    folder = released.folder
    rows = list(csv.DictReader(io.StringIO((folder / "veille_active.csv").read_text(encoding="utf-8-sig")),
                               delimiter=";"))  # fmt: skip
    by_key = {(r["Code QPV 2015"], r["Code indicateur"], r["Code ventilation"], r["Année"]): r for r in rows}
    men = by_key["QP075002", "FT_DEFM_INDIV_ABC", "sexe=H", "2025"]
    assert (men["Valeur"], men["Statut"], men["Ventilation"]) == ("s", "secret statistique", "Hommes")
    assert by_key["QP075002", "FT_DEFM_INDIV_ABC", "total", "2025"]["Valeur"] == "40"
    absent = by_key["QP075002", "CAF_ALLOCATAIRES", "total", "2024"]
    assert (absent["Valeur"], absent["Statut"]) == ("", "non disponible")
    assert by_key["QP075003", "CAF_ALLOCATAIRES", "total", "2025"]["Code(s) QPV 2024 successeur(s)"] == "QN07501M"
    assert released.masked["veille_active.valeur"] == 3

    package = released_datapackage(warehouse.engine, folder)
    resource = next(r for r in package["resources"] if r["name"] == "veille_active")
    assert len(resource["schema"]["primaryKey"]) == 4
    with warehouse.engine.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT statut, count(*) FROM publication.veille_active_courant GROUP BY statut ORDER BY 1")
        ).all()
    assert dict(stored) == {"masked": 3, "missing": len(rows) - 3 - 7, "ok": 7}

    page = (folder / "index.html").read_text(encoding="utf-8")
    section = page[page.index('<section id="veille-active">') :]
    section = section[: section.index("</section>")]
    assert "2 quartiers en veille active" in section and 'href="veille_active.csv"' in section
    assert "QP075003" in section and "QN07501M" in section
    assert 'href="fiches/FT_DEFM_INDIV_ABC.html"' in section
    for code in veille.INDICATORS:
        assert (folder / "fiches" / f"{code}.html").is_file(), code
