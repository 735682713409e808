"""The annual bilan's IND16 (crèche places created and renovated, summed from the CAF's quarters), its targets with
their date and scope, the producer of every line, and the date of the roadmap measures' statuses.

IND16 facts are inserted into core.indicator_value_vintage the way the CAF crèche loader writes them (indicator and
breakdowns of etl.sources.caf.CRECHES_COUNTS, one row per quarter, France, régions and the départements of one
région), so that the expected sums are computed here from what was inserted.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from etl.config import PROJECT_ROOT
from etl.publication import annual, publish
from etl.sources.caf import CRECHES_COUNTS

pytestmark = pytest.mark.warehouse

YEAR = 2024
CREATED = CRECHES_COUNTS["places_creees"][1]  # type=creation
RENOVATED = CRECHES_COUNTS["places_renovees"][1]  # type=renovation
SMALL_REGION = "06"  # 3 places created per quarter: places are never secret
DEPARTEMENTS_REGION = "28"  # Normandie: its five départements have quarters too, Manche (50) only three of YEAR
SHORT_DEPARTEMENT = "50"


def _quarters(year: int, count: int = 4) -> list[str]:
    return [f"{year}-Q{q}" for q in range(1, count + 1)]


@pytest.fixture(scope="module")
def creches(reference_warehouse):
    """IND16 for every quarter of YEAR and for three quarters of YEAR - 1 (its fourth never arrived); for the
    départements of DEPARTEMENTS_REGION, the quarters of YEAR (three only for SHORT_DEPARTEMENT)."""
    engine = reference_warehouse.engine
    with engine.connect() as conn:
        regions = [r[0] for r in conn.execute(sa.text("SELECT code FROM core.region ORDER BY code"))]
        query = sa.text("SELECT code FROM core.departement WHERE region_code = :r ORDER BY code")
        departements = conn.execute(query, {"r": DEPARTEMENTS_REGION}).scalars().all()
    values = {}  # (breakdown, level, code, quarter) -> places
    for quarter in [*_quarters(YEAR), *_quarters(YEAR - 1, 3)]:
        q = int(quarter[-1])
        for index, region in enumerate(regions):
            values[(CREATED, "region", region, quarter)] = 3.0 if region == SMALL_REGION else 10.0 + index + q
            values[(RENOVATED, "region", region, quarter)] = float((index * q) % 4)
        for breakdown in (CREATED, RENOVATED):
            values[(breakdown, "france", "FR", quarter)] = sum(
                values[(breakdown, "region", r, quarter)] for r in regions
            )
    for quarter in _quarters(YEAR):
        for index, departement in enumerate(departements):
            if departement != SHORT_DEPARTEMENT or quarter != f"{YEAR}-Q4":
                values[(CREATED, "departement", departement, quarter)] = 2.0 + index
                values[(RENOVATED, "departement", departement, quarter)] = float(index % 2)
    received = datetime(2025, 1, 20, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO audit.file_registry VALUES ('caf_creches', :h, 1, 'eaje.csv', '/dev/null', :t)"),
            {"h": "1" * 64, "t": received},
        )
        batch = conn.execute(
            sa.text(
                "INSERT INTO audit.batch (source_id, sha256, original_name, status, received_at, partition_key) "
                "VALUES ('caf_creches', :h, 'eaje.csv', 'loaded', :t, 'test') RETURNING batch_id"
            ),
            {"h": "1" * 64, "t": received},
        ).scalar()
        conn.execute(
            sa.text(
                "INSERT INTO core.indicator_value_vintage (indicator_code, territory_level, territory_code, "
                "period_code, breakdown, value, status, vintage, source_id, batch_id, line_no) "
                "VALUES ('IND16', :l, :c, :p, :k, :v, 'ok', 'test', 'caf_creches', :b, :n)"
            ),
            [
                {"l": level, "c": code, "p": quarter, "k": breakdown, "v": value, "b": batch, "n": n}
                for n, ((breakdown, level, code, quarter), value) in enumerate(values.items(), start=1)
            ],
        )
    released = publish.publish_annual(
        engine, YEAR, home=reference_warehouse.home, now=datetime(2025, 6, 1, 6, tzinfo=UTC)
    )
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT * FROM publication.bilan_conventions WHERE edition_id = :e"), {"e": released.edition_id}
        )
        rows = rows.mappings().all()
    # France and régions by territory code (a département's code can be a région's: 01 is Guadeloupe and Ain)
    bilan = {
        (r["code_territoire"], r["code_indicateur"], r["ventilation"]): r for r in rows if r["niveau"] != "departement"
    }
    assert sum(r["niveau"] == "departement" for r in rows) == 101 * 33
    return reference_warehouse, regions, values, released, bilan


def _year_sum(values, breakdown, level, code, year):
    return sum(values[(breakdown, level, code, quarter)] for quarter in _quarters(year))


def test_ind16_is_two_lines_summed_from_the_four_quarters_for_france_and_every_region(creches):
    wh, regions, values, released, bilan = creches
    ind16 = {key: row for key, row in bilan.items() if key[1] == "IND16"}
    assert len(ind16) == 2 * 19 and len(bilan) == 19 * 33
    for level, code in [("france", "FR"), *(("region", r) for r in regions)]:
        for breakdown, label in ((CREATED, "Places créées"), (RENOVATED, "Places rénovées")):
            row = ind16[(code, "IND16", breakdown)]
            assert row["statut"] == "ok", (code, breakdown, row["note_valeur"])
            assert float(row["valeur"]) == pytest.approx(_year_sum(values, breakdown, level, code, YEAR))
            assert row["libelle_ventilation"] == label and row["note_valeur"] == f"somme des 4 trimestres de {YEAR}"
            # the year before has three quarters only: no N-1 value, no change
            assert row["valeur_n1"] is None and row["evolution_n1"] is None
    assert float(ind16[("FR", "IND16", CREATED)]["valeur"]) == pytest.approx(
        sum(_year_sum(values, CREATED, "region", r, YEAR) for r in regions)
    )
    # places are not people: 12 places created in a year in a small région are published
    assert float(ind16[(SMALL_REGION, "IND16", CREATED)]["valeur"]) == 12.0
    # départements: the same sum of four quarters, and a département with three quarters has no total
    with wh.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT code_territoire, ventilation, valeur, statut, note_valeur FROM publication.bilan_conventions "
                "WHERE edition_id = :e AND niveau = 'departement' AND code_indicateur = 'IND16'"
            ),
            {"e": released.edition_id},
        ).all()
    filled = {(key[2], key[0]) for key in values if key[1] == "departement"}
    assert len(rows) == 2 * 101 and len(filled) == 2 * 5
    for code, breakdown, value, status, note in rows:
        if code == SHORT_DEPARTEMENT:
            assert (value, status) == (None, "missing") and note.startswith(
                f"3 trimestre(s) sur 4 chargé(s) ({YEAR}-T1"
            )
        elif (code, breakdown) in filled:
            assert status == "ok" and float(value) == _year_sum(values, breakdown, "departement", code, YEAR)
        else:
            assert (value, status, note) == (None, "missing", None)
    # every other indicator keeps one line, the whole indicator
    assert {key[2] for key in bilan if key[1] != "IND16"} == {"total"}
    assert {row["libelle_ventilation"] for key, row in bilan.items() if key[1] != "IND16"} == {"Ensemble"}


def test_a_year_whose_four_quarters_are_not_all_loaded_is_not_summed(creches):
    wh, regions, *_ = creches
    frame = annual.bilan_conventions(wh.engine, YEAR - 1).table.frame
    ind16 = frame[frame["code_indicateur"] == "IND16"]
    assert len(ind16) == 2 * (19 + 101)
    assert (ind16["statut"] == "missing").all() and ind16["valeur"].isna().all()
    expected = f"3 trimestre(s) sur 4 chargé(s) ({YEAR - 1}-T1, {YEAR - 1}-T2, {YEAR - 1}-T3) : pas de total annuel"
    notes = ind16.loc[ind16["niveau"] != "departement", "note_valeur"]
    assert (notes == expected).all(), notes.unique()


def test_targets_say_their_date_and_scope_in_the_table_and_the_report(creches):
    wh, regions, values, released, bilan = creches
    for code in ("IND01", "IND02", "IND03"):
        assert bilan[("FR", code, "total")]["echeance_cible"] == "2015"
        assert "2015" in bilan[("FR", code, "total")]["portee_cible"]
    ind04 = bilan[("FR", "IND04", "total")]
    assert ind04["echeance_cible"] is None
    assert "expérimentation" in ind04["portee_cible"] and "3 ans" in ind04["portee_cible"]
    assert all(row["portee_cible"] for row in bilan.values() if row["cible_texte"])
    assert not any(row["portee_cible"] or row["echeance_cible"] for row in bilan.values() if not row["cible_texte"])
    for page in ("index.html", f"region-{regions[0]}.html"):
        text = (released.folder / page).read_text(encoding="utf-8")
        assert 'id="cibles"' in text and "Échéance de la cible" in text, page
        # each code links to its fiche méthodologique
        assert '<a href="fiches/IND01.html">IND01</a> – cible 30% : échéance 2015' in text, page
        assert (
            '<a href="fiches/IND04.html">IND04</a> – cible 5000 : pas d&#x27;échéance fixée ; Total des bénéficiaires '
            "sur toute" in text
        ), page


def test_every_line_of_the_bilan_names_its_producer(creches):
    *_, bilan = creches
    assert all(row["producteur"] for row in bilan.values())
    producers = {key[1]: row["producteur"] for key, row in bilan.items() if key[0] == "FR"}
    assert producers["IND01"] == "DGEFP / ASP" and producers["IND05"] == "France Travail"
    assert producers["IND16"] == "CAF (Cnaf)" and "INJEP" in producers["IND20"]
    assert producers["IND09"] == "DDSP, via la préfecture de région"


def test_the_measures_say_the_date_of_their_status_in_the_table_and_the_manifest(creches):
    wh, regions, values, released, bilan = creches
    with wh.engine.connect() as conn:
        dates = conn.execute(
            sa.text("SELECT date_statut, count(*) FROM publication.mesures_feuille_de_route_courant GROUP BY 1")
        ).all()
    assert [tuple(d) for d in dates] == [("2019-01-22", 42)]
    manifest = json.loads((released.folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["metadata"]["mesures"] == {"dates_statut": ["2019-01-22"], "etat": "état au 22 janvier 2019"}
    titles = {table["name"]: table["title"] for table in manifest["tables"]}
    assert "état au 22 janvier 2019" in titles["mesures_feuille_de_route"]
    assert "état au 22 janvier 2019" in titles["mesures_synthese"]
    assert "état au 22 janvier 2019" in (released.folder / "index.html").read_text(encoding="utf-8")


def _ingest(wh, source_id: str, name: str, text: str):
    from etl import pipeline
    from etl.sources.registry import source

    inbox = wh.home.folder("inbox") / source_id
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / name).write_text(text, encoding="utf-8")
    return pipeline.ingest(wh.engine, source(source_id), home=wh.home, run_id="test").batches


def test_a_new_version_of_the_measures_file_updates_a_status_and_its_date(isolated):
    original = (PROJECT_ROOT / "catalogue" / "mesures_2018.csv").read_text(encoding="utf-8")
    assert [b.status for b in _ingest(isolated, "catalogue_mesures", "mesures_2018.csv", original)] == ["loaded"]
    lines = original.splitlines()
    assert lines[4].startswith("2;") and lines[4].endswith(";En cours de déploiement;2019-01-22")
    lines[4] = lines[4].replace(";En cours de déploiement;2019-01-22", ";Objectif atteint;2020-06-30")
    updated = "\n".join(lines) + "\n"
    assert [b.status for b in _ingest(isolated, "catalogue_mesures", "mesures_2018.csv", updated)] == ["loaded"]
    listing, synthese = annual.measures(isolated.engine)
    frame = listing.table.frame.set_index("numero")
    assert (frame.loc["2", "statut"], frame.loc["2", "date_statut"]) == ("Objectif atteint", "2020-06-30")
    assert frame.loc["3", "date_statut"] == "2019-01-22"
    assert "états au 22 janvier 2019, au 30 juin 2020" in synthese.table.title
    # a status without a date, or with a date that is not one, is refused
    for wrong in ("", "2020-02-30"):
        lines[4] = lines[4].rsplit(";", 1)[0] + f";{wrong}"
        [batch] = _ingest(isolated, "catalogue_mesures", "mesures_2018.csv", "\n".join(lines) + "\n")
        assert batch.status == "quarantined" and "date_statut" in batch.report.read_text(), wrong


def test_a_target_without_its_scope_is_refused(isolated):
    text = (PROJECT_ROOT / "catalogue" / "indicateurs_2014.csv").read_text(encoding="utf-8")
    scope = "Objectif national pour 2015 (annexe 1 : « objectifs 2015 »)"
    lines = text.splitlines()
    assert scope in lines[1]  # IND01
    lines[1] = lines[1].replace(scope, "", 1)
    [batch] = _ingest(isolated, "catalogue_indicateurs", "indicateurs_2014.csv", "\n".join(lines) + "\n")
    assert batch.status == "quarantined" and "cible_portee" in batch.report.read_text()
    assert "line 2" in batch.report.read_text()
