"""The annual edition on a real warehouse (etl/publication/publish.py): aggregation per unit, disclosure control and
gate 3, edition files and immutability, the publication schema and the bi_reader role; the bilan's département rows
(a national producer's figures, a région's workbook, a région = the sum of its départements under secrecy).

Facts are inserted directly into core.indicator_value_vintage (with the audit rows of a fake delivery), and one
région's workbook goes through the intake, so that the expected figures are known here: they are recomputed in the
test from what was inserted or written in the workbook, never read back from the code under test.
"""

from __future__ import annotations

import hashlib
import json
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl.config import PROJECT_ROOT
from etl.publication import annual, publish
from etl.samples.generators import submissions
from etl.submissions import intake
from tests.publication.facts import insert_facts

pytestmark = pytest.mark.warehouse

YEAR = 2024
SMALL_REGION = "06"  # Mayotte: a count of 5 people, under the threshold of 11
LEVELS = 1 + 18 + 101  # France, the régions, the départements
# IND20 (licence holders living in QPV: people) given per département, each région the sum of its départements
SMALL_DEPARTEMENT = "09"  # Ariège (Occitanie, 76): 4 licence holders, under the threshold
UNKNOWN_DEPARTEMENT = "2A"  # Corse-du-Sud: no figure, so non disponible (its région's total still counts it)
WORKBOOK_REGION = "84"  # Auvergne-Rhône-Alpes sends its workbook: local indicators for its 12 départements


@pytest.fixture(scope="module")
def facts(reference_warehouse):
    engine = reference_warehouse.engine
    with engine.connect() as conn:
        regions = [r[0] for r in conn.execute(sa.text("SELECT code FROM core.region ORDER BY code"))]
        departements = conn.execute(sa.text("SELECT code, region_code FROM core.departement ORDER BY code")).all()
    values = {}  # (indicator, level, code, year) -> value
    for index, region in enumerate(regions):
        values[("IND04", "region", region, YEAR)] = 5.0 if region == SMALL_REGION else 200.0 + 37 * index
        values[("IND09", "region", region, YEAR)] = 50.0 + 3 * index
        values[("IND09", "region", region, YEAR - 1)] = 40.0 + 3 * index
        values[("IND07", "region", region, YEAR)] = 20.0 + index / 2
        values[("IND01", "region", region, YEAR)] = 25.0 + index / 4
        # counts that are not people (ZSP, exploratory walks): small ones are published as they are
        values[("IND12", "region", region, YEAR)] = 3.0 if region == SMALL_REGION else 4.0 + index
        values[("IND17", "region", region, YEAR)] = float(index % 7)
    values[("IND01", "france", "FR", YEAR)] = 29.9
    for index, (departement, region) in enumerate(departements):
        value = 4.0 if departement == SMALL_DEPARTEMENT else 100.0 + 7 * index
        key = ("IND20", "region", region, YEAR)
        values[key] = values.get(key, 0.0) + value
        if departement != UNKNOWN_DEPARTEMENT:
            values[("IND20", "departement", departement, YEAR)] = value
    facts = [
        {
            "indicator": indicator,
            "level": level,
            "code": code,
            "period": str(year),
            "breakdown": "total",
            "value": value,
        }
        for (indicator, level, code, year), value in values.items()
    ]  # fmt: skip
    with engine.begin() as conn:
        batch = insert_facts(conn, "test_source", "facts.csv", "0" * 64, datetime(2025, 3, 1, tzinfo=UTC), facts)
    inbox = reference_warehouse.home.folder("inbox") / "regional"
    inbox.mkdir(parents=True, exist_ok=True)
    workbook = submissions.filled_workbook(WORKBOOK_REGION, YEAR, seed=1)
    (inbox / submissions.submission_file_name(WORKBOOK_REGION, YEAR)).write_bytes(workbook.content)
    assert [o.verdict.accepted for o in intake.intake(engine, home=reference_warehouse.home).outcomes] == [True]
    with engine.begin() as conn:  # the workbook came in before the national facts (the latency counts from them)
        conn.execute(
            sa.text("UPDATE audit.batch SET received_at = :t WHERE source_id = 'regional'"),
            {"t": datetime(2025, 2, 15, tzinfo=UTC)},
        )
    return reference_warehouse, regions, values, batch, workbook


def _bilan(engine, edition: str, levels=("france", "region")):
    """The edition's bilan rows of `levels`, by territory code and indicator (région and département codes overlap:
    01 is Guadeloupe and Ain)."""
    import pandas as pd

    with engine.connect() as conn:
        return pd.DataFrame(
            conn.execute(
                sa.text(
                    "SELECT * FROM publication.bilan_conventions WHERE edition_id = :e "
                    "AND niveau = ANY(CAST(:levels AS text[])) ORDER BY code_territoire, code_indicateur, ventilation"
                ),
                {"e": edition, "levels": list(levels)},
            )
            .mappings()
            .all()
        ).set_index(["code_territoire", "code_indicateur"])


def test_the_annual_edition_aggregates_per_unit_and_masks_small_counts(facts):
    wh, regions, values, batch, _ = facts
    released = publish.publish_annual(wh.engine, YEAR, home=wh.home, now=datetime(2025, 6, 1, 6, tzinfo=UTC))
    assert released.new and (released.folder / "manifest.json").is_file()
    bilan = _bilan(wh.engine, released.edition_id)
    assert len(bilan) == 19 * 33  # 32 indicators, IND16 on two lines (places created, renovated)

    # counts: France is the sum of the 18 régions
    ind09 = sum(values[("IND09", "region", r, YEAR)] for r in regions)
    assert float(bilan.loc[("FR", "IND09"), "valeur"]) == pytest.approx(ind09)
    assert float(bilan.loc[("FR", "IND09"), "evolution_n1"]) == pytest.approx(
        ind09 - sum(values[("IND09", "region", r, YEAR - 1)] for r in regions)
    )
    # shares: the producer's France value, never an average of the régions
    assert float(bilan.loc[("FR", "IND01"), "valeur"]) == pytest.approx(29.9)
    assert bilan.loc[("FR", "IND07"), "statut"] == "not_applicable" and bilan.loc[("FR", "IND07"), "valeur"] is None
    # target gap in the indicator's unit
    ind04 = sum(values[("IND04", "region", r, YEAR)] for r in regions)
    assert float(bilan.loc[("FR", "IND04"), "ecart_cible"]) == pytest.approx(ind04 - 5000)

    # disclosure: the small région is masked, and so is at least one other (else France - the others gives it)
    ind04_regions = bilan.xs("IND04", level="code_indicateur").drop(index="FR")
    masked = ind04_regions[ind04_regions["statut"] == "masked"]
    assert SMALL_REGION in masked.index and len(masked) >= 2
    assert masked["valeur"].isna().all() and masked["ecart_cible"].isna().all()
    assert bilan.loc[("FR", "IND04"), "statut"] == "ok"
    with wh.engine.connect() as conn:
        counted = dict(conn.execute(sa.text("SELECT code, unite_statistique FROM core.indicator")).all())
    people = bilan.index.get_level_values("code_indicateur").map(counted).isin(["personnes", "foyers"])
    counts = bilan[people & (bilan["unite"] == "nombre") & (bilan["statut"] == "ok")]["valeur"].astype(float)
    assert not counts.empty and not ((counts >= 1) & (counts < 11)).any()
    # secrecy by statistical unit: 3 ZSP and 0 to 6 exploratory walks per région are published, France is their sum
    for code, unit in (("IND12", "zones"), ("IND17", "actions")):
        assert counted[code] == unit
        rows = bilan.xs(code, level="code_indicateur")
        assert (rows["statut"] == "ok").all(), rows["statut"].value_counts()
        published = {r: float(rows.loc[r, "valeur"]) for r in regions}
        assert published == {r: values[(code, "region", r, YEAR)] for r in regions}
        assert float(rows.loc["FR", "valeur"]) == pytest.approx(sum(published.values()))
    assert float(bilan.loc[(SMALL_REGION, "IND12"), "valeur"]) == 3.0

    # the files: CSV with `s` for the masked cells; the manifest lists the input batch and the disclosure rules
    csv_text = (released.folder / "bilan_conventions.csv").read_text(encoding="utf-8-sig")
    mayotte = next(
        line for line in csv_text.splitlines() if f";region;Région;{SMALL_REGION};" in line and ";IND04;" in line
    )
    assert ";s;" in mayotte
    manifest = json.loads((released.folder / "manifest.json").read_text(encoding="utf-8"))
    metadata = manifest["metadata"]
    assert batch in {s["batch_id"] for s in metadata["sources"]}
    assert metadata["disclosure"]["rules"]["count_threshold"] == 11
    assert (
        metadata["latency_seconds"]
        == (datetime(2025, 6, 1, 6, tzinfo=UTC) - datetime(2025, 3, 1, tzinfo=UTC)).total_seconds()
    )
    assert {item["file"] for item in manifest["files"]} >= {"bilan_conventions.csv", "bilan_conventions.parquet",
                                                           "tables.xlsx", "dictionnaire.csv"}  # fmt: skip
    for item in manifest["files"] + manifest["report"]:
        assert hashlib.sha256((released.folder / item["file"]).read_bytes()).hexdigest() == item["sha256"]
    pages = {item["file"] for item in manifest["report"]}
    assert "index.html" in pages and {f"region-{r}.html" for r in regions} <= pages
    with wh.engine.connect() as conn:
        states = conn.execute(
            sa.text(
                "SELECT count(*), count(*) FILTER (WHERE etat = 'non reçue') FROM publication.completude_campagne "
                "WHERE edition_id = :e"
            ),  # fmt: skip
            {"e": released.edition_id},
        ).one()
    assert tuple(states) == (18, 17)  # one workbook was sent in this warehouse (WORKBOOK_REGION)


def test_the_bilan_has_every_departement_with_the_producers_and_the_workbooks_figures(facts):
    import pandas as pd

    wh, regions, values, _, workbook = facts
    released = publish.publish_annual(wh.engine, YEAR, home=wh.home, now=datetime(2025, 6, 1, 6, tzinfo=UTC))
    with wh.engine.connect() as conn:
        departements = dict(conn.execute(sa.text("SELECT code, region_code FROM core.departement")).all())
        local = conn.execute(sa.text("SELECT code FROM core.indicator WHERE family = 'convention_2014' "
                                     "AND mode = 'local' ORDER BY code")).scalars().all()  # fmt: skip
        observations = dict(
            conn.execute(
                sa.text(
                    "SELECT territory_code || '/' || indicator_code, observations FROM core.regional_submission_value "
                    "WHERE territory_level = 'departement' AND observations IS NOT NULL"
                )
            ).all()
        )
    assert len(departements) == 101
    csv_rows = pd.read_csv(released.folder / "bilan_conventions.csv", sep=";", dtype=str, encoding="utf-8-sig")
    # France, the régions, then the départements, each by code (2A and 2B after 29), one row per indicator line
    levels = csv_rows["Code niveau"].tolist()
    assert levels == ["france"] * 33 + ["region"] * 18 * 33 + ["departement"] * 101 * 33
    order = list(dict.fromkeys(csv_rows.loc[csv_rows["Code niveau"] == "departement", "Code territoire"]))
    assert order == sorted(departements) and order.index("2A") == order.index("29") + 1
    assert set(csv_rows.loc[csv_rows["Code niveau"] == "departement", "Niveau"]) == {"Département"}

    bilan = _bilan(wh.engine, released.edition_id, levels=("departement",))
    assert len(bilan) == 101 * 33
    assert set(bilan.index.get_level_values("code_territoire")) == set(departements)
    # a national producer's figure per département, with the région's target and gap columns
    ind20 = bilan.xs("IND20", level="code_indicateur")
    published = ind20[ind20["statut"] == "ok"]
    assert len(published) >= 95
    for code, row in published.iterrows():
        assert float(row["valeur"]) == values[("IND20", "departement", code, YEAR)]
    assert (ind20["libelle_niveau"] == "Département").all() and (ind20["unite_statistique"] == "personnes").all()
    # a département without a figure is non disponible, never 0
    missing = ind20.loc[UNKNOWN_DEPARTEMENT]
    assert missing["statut"] == "missing" and missing["valeur"] is None and missing["ecart_cible"] is None
    # a local indicator from the région's workbook (its Départements sheet), with its observations verbatim
    checked = 0
    for (departement, code), written in workbook.departemental.items():
        rows = bilan.loc[[(departement, code)]]  # IND16: its two lines are the CAF's, the workbook gives observations
        said = observations.get(f"{departement}/{code}")
        assert [None if pd.isna(text) else text for text in rows["observations"]] == [said] * len(rows)
        if code != "IND16" and isinstance(written, int | float):
            row = rows.iloc[0]
            assert row["statut"] == "ok" and float(row["valeur"]) == pytest.approx(written), (departement, code)
            checked += 1
    assert checked >= 100 and observations
    # the other régions sent no workbook: their départements' local indicators are non disponible
    others = bilan[
        bilan.index.get_level_values("code_indicateur").isin(local)
        & ~bilan.index.get_level_values("code_territoire").map(departements).isin([WORKBOOK_REGION])
    ]
    assert len(others) == (101 - 12) * 17 and (others["statut"] == "missing").all()  # 16 + IND16 on two lines
    assert others["valeur"].isna().all()


def test_a_small_departement_count_and_its_complement_are_masked_and_gate_3_passes(facts):
    from etl.quality.disclosure_check import disclosures

    wh, regions, values, *_ = facts
    released = publish.publish_annual(wh.engine, YEAR, home=wh.home, now=datetime(2025, 6, 1, 6, tzinfo=UTC))
    with wh.engine.connect() as conn:
        members = conn.execute(
            sa.text("SELECT code FROM core.departement WHERE region_code = '76' ORDER BY code")
        ).scalars().all()  # fmt: skip
    assert SMALL_DEPARTEMENT in members
    departements = _bilan(wh.engine, released.edition_id, levels=("departement",)).xs("IND20", level="code_indicateur")
    region = _bilan(wh.engine, released.edition_id).xs("IND20", level="code_indicateur").loc["76"]
    occitanie = departements.loc[members]
    masked = occitanie.index[occitanie["statut"] == "masked"].tolist()
    # the small count is masked, and so is another département of Occitanie (else the région minus the others gives
    # it); the région's total, a large count, stays published
    assert SMALL_DEPARTEMENT in masked and len(masked) >= 2
    assert occitanie.loc[masked, "valeur"].isna().all() and occitanie.loc[masked, "ecart_cible"].isna().all()
    assert region["statut"] == "ok" and float(region["valeur"]) == values[("IND20", "region", "76", YEAR)]
    # the relations disclosure control works with: région = its départements, a département without a value included
    # (a regional total may count it as nothing, so it protects no one), France = the régions
    built = annual.bilan_conventions(wh.engine, YEAR)
    frame = built.table.frame
    row = {(n, c, i): r for r, (n, c, i) in enumerate(frame[["niveau", "code_territoire", "code_indicateur"]].values)}
    relations = dict(built.relations)
    assert relations[row[("region", "76", "IND20")]] == tuple(row[("departement", d, "IND20")] for d in members)
    assert relations[row[("region", "94", "IND20")]] == (
        row[("departement", "2A", "IND20")],
        row[("departement", "2B", "IND20")],
    )
    assert relations[row[("france", "FR", "IND20")]] == tuple(row[("region", r, "IND20")] for r in regions)
    assert row[("region", "76", "IND09")] not in relations  # agents, not people: never secret, no relation
    # the independent check finds nothing to recompute in région = the sum of its départements
    cells = [region, *(occitanie.loc[d] for d in members)]
    found = disclosures(
        [None if c["valeur"] is None else float(c["valeur"]) for c in cells],
        [c["statut"] for c in cells],
        "count",
        [(0, tuple(range(1, len(cells))))],
    )
    assert found == []
    # gate 3 ran on the three year columns and passed; the manifest counts the masked cells
    manifest = json.loads((released.folder / "manifest.json").read_text(encoding="utf-8"))
    disclosure = manifest["metadata"]["disclosure"]
    assert [g["passed"] for g in disclosure["gate3"] if g["table"] == "bilan_conventions"] == [True] * 3
    assert disclosure["masked_cells"]["valeur"] >= len(masked) + 2  # and Mayotte's IND04 with its complement
    # the région's page lists its départements, the small one shown s; the fiche says which territories have values
    page = (released.folder / "region-76.html").read_text(encoding="utf-8")
    assert 'id="departements"' in page and "Ariège (09)" in page and 'title="secret statistique">s<' in page
    assert "Aucune valeur départementale cette année pour : " in page  # lines without any value: named only
    assert "avec les valeurs de ses départements" in (released.folder / "index.html").read_text(encoding="utf-8")
    fiche = (released.folder / "fiches" / "IND20.html").read_text(encoding="utf-8")
    assert "Département (101, dont 100 avec une valeur)" in fiche


def test_the_measures_summary_is_3_1_22_14_and_their_indicators_are_listed(facts):
    wh, *_ = facts
    with wh.engine.connect() as conn:
        summary = dict(conn.execute(sa.text("SELECT statut, mesures FROM publication.mesures_synthese_courant")).all())
        indicators = conn.execute(
            sa.text(
                "SELECT count(*), count(DISTINCT numero_mesure), count(*) FILTER (WHERE statut = 'missing') "
                "FROM publication.mesures_indicateurs_courant"
            )  # fmt: skip
        ).one()
    assert sorted(summary.values()) == [1, 3, 14, 22] and sum(summary.values()) == 40
    catalogue = (PROJECT_ROOT / "catalogue" / "mesures_2018_indicateurs.csv").read_text(encoding="utf-8").splitlines()
    rows = [line.split(";") for line in catalogue[1:] if line.strip()]
    # no source feeds these indicators yet: all listed, all missing
    assert tuple(indicators) == (len(rows), len({r[0] for r in rows}), len(rows))


def test_a_rerun_without_change_keeps_the_edition_and_a_forced_one_is_byte_identical(facts):
    from etl.publication.editions import data_files_digest

    wh, *_ = facts
    with wh.engine.connect() as conn:
        first, folder = conn.execute(sa.text("SELECT edition_id, folder FROM publication.edition")).one()
    again = publish.publish_annual(wh.engine, YEAR, home=wh.home)
    assert (again.edition_id, again.new) == (first, False)
    forced = publish.publish_annual(wh.engine, YEAR, home=wh.home, force=True, now=datetime(2025, 6, 2, tzinfo=UTC))
    assert forced.new and forced.edition_id != first
    assert data_files_digest(forced.folder) == data_files_digest(folder)
    with wh.engine.connect() as conn:
        assert (
            conn.execute(sa.text("SELECT edition_id FROM publication.edition_courante")).scalar() == forced.edition_id
        )
    # released files and folder are read-only (mode bits: these tests may run as root, whom modes do not stop)
    assert all(stat.S_IMODE(p.stat().st_mode) & 0o222 == 0 for p in [forced.folder, *forced.folder.iterdir()])


@pytest.mark.parametrize("schema_table", ["raw.cog_region", "staging.cog_region", "core.indicator", "audit.batch"])
def test_bi_reader_reads_publication_only(facts, schema_table):
    wh, *_ = facts
    with wh.engine.connect() as conn:
        conn.execute(sa.text("SET ROLE bi_reader"))
        count = conn.execute(sa.text("SELECT count(*) FROM publication.bilan_conventions_courant")).scalar()
        assert count == LEVELS * 33
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            conn.execute(sa.text(f"SELECT 1 FROM {schema_table} LIMIT 1"))
        conn.rollback()


def test_every_publication_table_and_column_is_commented(facts):
    wh, *_ = facts
    with wh.engine.connect() as conn:
        undocumented = (
            conn.execute(
                sa.text(
                    "SELECT c.relname || coalesce('.' || a.attname, '') FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'publication' "
                    "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
                    "AND c.relkind = 'r' "
                    "WHERE c.relkind IN ('r', 'v') AND (CASE WHEN a.attname IS NULL THEN obj_description(c.oid) "
                    "ELSE col_description(c.oid, a.attnum) END) IS NULL"
                )
            )
            .scalars()
            .all()
        )
    assert undocumented == []


def test_the_annual_edition_is_a_valid_data_package(facts, released_datapackage):
    """Frictionless (library and command line) finds the edition's datapackage.json valid: every CSV file matches its
    Table Schema (headers, types, decimal comma, `s` as a missing value, statuses, keys unique) and its hash."""
    wh, _, _, batch, _ = facts
    released = publish.publish_annual(wh.engine, YEAR, home=wh.home, now=datetime(2025, 6, 1, 6, tzinfo=UTC))
    package = released_datapackage(wh.engine, released.folder)
    assert package["name"] == released.edition_id.lower() and package["version"] == released.edition_id
    assert package["title"] == f"Observatoire QPV, édition annuelle {YEAR}"
    assert package["sources"][-1] == {"title": "test_source", "source_id": "test_source", "vintages": ["test"]}
    assert [(s["source_id"], s["vintages"]) for s in package["sources"][:-1]] == [("regional", [f"84/{YEAR}"])]
    bilan = next(r for r in package["resources"] if r["name"] == "bilan_conventions")
    valeur = next(f for f in bilan["schema"]["fields"] if f["column"] == "valeur")
    assert (valeur["name"], valeur["type"], valeur["decimalChar"]) == ("Valeur", "number", ",")
    assert bilan["schema"]["primaryKey"] == ["Code niveau", "Code territoire", "Code indicateur", "Code ventilation"]

    frictionless = Path(sys.executable).with_name("frictionless")
    command = [str(frictionless), "validate", str(released.folder / "datapackage.json")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("VALID") == len(package["resources"]) and "INVALID" not in done.stdout
