"""The semestrial edition on a real warehouse: France Travail files generated and loaded through the pipeline, then
the dashboard published (etl/publication/publish.py). Expected figures are recomputed here from the warehouse's
inputs (core.indicator_value, core.qpv) with pandas, not with the publication's SQL.
"""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
import sqlalchemy as sa

from etl.publication import publish

pytestmark = pytest.mark.warehouse

SEMESTER = "2024-S1"
MONTHS = ["2023-12", "2024-06"]  # the semester's last month and 6 months before
LATER = ["2024-12", "2025-06", "2025-12"]  # for 2025-S2, on the 2024 list of QPV (overseas since 2025-01)


@pytest.fixture(scope="module")
def loaded(reference_warehouse, territories_dir, tmp_path_factory):
    from etl import pipeline
    from etl.samples.generators.france_travail import generate_defm
    from etl.sources.registry import source

    wh = reference_warehouse
    inbox = wh.home.folder("inbox")
    for name in ("qpv_2015.csv", "qpv_2024.csv"):
        (inbox / "anct_qpv").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(territories_dir / name, inbox / "anct_qpv" / name)
    assert {b.status for b in pipeline.ingest(wh.engine, source("anct_qpv"), home=wh.home).batches} == {"loaded"}
    (inbox / "france_travail_defm").mkdir(parents=True, exist_ok=True)
    for path in generate_defm(tmp_path_factory.mktemp("ft"), territories_dir, MONTHS + LATER):
        shutil.copyfile(path, inbox / "france_travail_defm" / path.name)
    report = pipeline.ingest(wh.engine, source("france_travail_defm"), home=wh.home)
    assert {b.status for b in report.batches} == {"loaded"}
    from etl.samples.generators.paqte import filled_paqte, paqte_file_name
    from etl.submissions import intake

    (inbox / "paqte").mkdir(parents=True, exist_ok=True)
    for departement in ("69", "13"):
        report = filled_paqte(departement, SEMESTER, seed=3)
        (inbox / "paqte" / paqte_file_name(departement, SEMESTER)).write_bytes(report.content)
    assert all(o.verdict.accepted for o in intake.intake(wh.engine, "paqte", home=wh.home).outcomes)
    released = publish.publish_semestrial(wh.engine, SEMESTER, home=wh.home)
    with wh.engine.connect() as conn:
        table = pd.DataFrame(
            conn.execute(
                sa.text("SELECT * FROM publication.emploi_qpv WHERE edition_id = :e"), {"e": released.edition_id}
            )
            .mappings()
            .all()
        )
        inputs = pd.DataFrame(
            conn.execute(
                sa.text(
                    "SELECT v.indicator_code, v.territory_level, v.territory_code, v.period_code, v.breakdown, "
                    "v.value, v.status, q.departement_code FROM core.indicator_value v "
                    "LEFT JOIN core.qpv q ON q.code = v.territory_code AND v.territory_level = 'qpv' "
                    "WHERE v.source_id = 'france_travail_defm'"
                )
            )
            .mappings()
            .all()
        )
    for frame in (table, inputs):
        for column in frame.columns:
            if column.startswith(("de_", "part", "evolution", "ecart", "value")) and not column.endswith("statut"):
                frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return wh, released, table, inputs


def test_departement_figures_are_the_producers_ensemble_and_the_rest_of_the_unit(loaded):
    """A département's job seekers in QPV are France Travail's "ensemble des QPV" figure, computed on exact data:
    the sum of its QPV when none is masked, a little more when some are; never lost to a masked QPV."""
    _, _, table, inputs = loaded
    june = inputs[(inputs["period_code"] == "2024-06")]
    qpv = june[(june["territory_level"] == "qpv") & (june["breakdown"] == "total")
               & (june["indicator_code"] == "FT_DEFM_ABC")]  # fmt: skip
    ensembles = june[(june["indicator_code"] == "FT_DEFM_QPV_ABC") & (june["territory_level"] == "departement")
                     & (june["breakdown"] == "total")].set_index("territory_code")["value"]  # fmt: skip
    exact = with_masked_qpv = 0
    for departement, rows in qpv.groupby("departement_code"):
        published = table[(table["niveau"] == "departement") & (table["code_territoire"] == departement)
                          & (table["categorie"] == "ABC") & (table["ventilation"] == "total")].iloc[0]  # fmt: skip
        assert published["de_qpv_statut"] == "ok", departement
        assert published["origine_de_qpv"] == "ensemble des QPV (producteur)"
        unit = june[(june["territory_level"] == "departement") & (june["territory_code"] == departement)
                    & (june["breakdown"] == "total")
                    & (june["indicator_code"] == "FT_DEFM_ABC")]["value"].iloc[0]  # fmt: skip
        assert published["de_qpv"] == pytest.approx(ensembles[departement])
        if (rows["status"] == "ok").all():
            assert published["de_qpv"] == pytest.approx(rows["value"].sum())
            exact += 1
        else:
            assert rows["value"].sum() < published["de_qpv"] <= rows["value"].sum() + 4 * (rows["status"] != "ok").sum()
            with_masked_qpv += 1
        assert published["de_unite"] == pytest.approx(unit)
        assert published["de_hors_qpv"] == pytest.approx(unit - ensembles[departement])
        assert published["part_qpv"] == pytest.approx(100 * ensembles[departement] / unit, abs=0.006)
    assert exact > 10


def test_every_france_row_and_nearly_every_region_row_is_published(loaded):
    _, _, table, _ = loaded
    france = table[table["niveau"] == "france"]
    assert len(france) == 12 and (france["de_qpv_statut"] == "ok").all() and france["de_qpv"].notna().all()
    regions = table[table["niveau"] == "region"]
    assert (regions["de_qpv_statut"] == "ok").mean() >= 0.95
    # what secondary suppression had to hide went to small QPV cells, not to totals
    qpv = table[table["niveau"] == "qpv"]
    assert (qpv["de_qpv_statut"] == "masked").sum() > 0


def test_no_published_count_is_small_and_masked_cells_have_no_value(loaded):
    _, released, table, _ = loaded
    for column in ("de_qpv", "de_unite", "de_hors_qpv"):
        published = table[table[f"{column}_statut"] == "ok"][column]
        assert not ((published >= 1) & (published < 11)).any(), column
        assert table[table[f"{column}_statut"] == "masked"][column].isna().all()
    assert released.masked["de_qpv"] > 0  # the generated QPV include small ones: something had to be masked
    masked_rows = table[table["statut"] == "masked"]
    derived = ["part_qpv", "evolution_6_mois_qpv", "evolution_12_mois_qpv"]
    assert masked_rows[masked_rows["de_qpv_statut"] == "masked"][derived].isna().all().all()


def test_a_change_across_two_lists_of_qpv_is_a_break_not_a_figure(loaded):
    """2023-12 is on the 2015 list, 2024-06 on the 2024 list in metropolitan France: the 6-month change of a
    metropolitan unit (and of France) compares two different sets of neighbourhoods, so it is not published and says
    why; overseas, still on the 2015 list at both dates, it is published."""
    _, released, table, _ = loaded
    units = table[table["niveau"] != "qpv"]
    overseas_regions = (units["niveau"] == "region") & units["code_territoire"].isin(["01", "02", "03", "04", "06"])
    overseas = overseas_regions | units["code_territoire"].str.startswith("97")
    moved = units[~overseas]
    assert moved["geographie"].isin(["2024", "2015+2024"]).all() and (units[overseas]["geographie"] == "2015").all()
    for column in ("evolution_6_mois_qpv", "evolution_6_mois_hors_qpv"):
        assert (moved[f"{column}_statut"] == "break").all(), column
        assert moved[column].isna().all(), column
        stayed = units[overseas & (units[f"{column.replace('evolution_6_mois', 'de')}_statut"] == "ok")]
        assert len(stayed) and (stayed[f"{column}_statut"] == "ok").all() and stayed[column].notna().all(), column
    assert moved["rupture_serie"].str.contains("liste 2015 en 2023-12").all()
    assert (units[overseas]["rupture_serie"] == "").all()
    # the 12-month change has no earlier month delivered: missing, never a change against zero
    assert (table["evolution_12_mois_qpv_statut"] == "missing").all() and table["evolution_12_mois_qpv"].isna().all()
    manifest = json.loads((released.folder / "manifest.json").read_text(encoding="utf-8"))
    comparability = manifest["metadata"]["comparability"]
    assert comparability["method"] == "rupture de série"
    assert (
        comparability["changes_not_published"]["evolution_6_mois_qpv"]
        == (table["evolution_6_mois_qpv_statut"] == "break").sum()
    )
    assert "géographie constante" in (released.folder / "index.html").read_text(encoding="utf-8")


def test_the_edition_is_kept_when_inputs_did_not_change(loaded):
    wh, released, _, _ = loaded
    again = publish.publish_semestrial(wh.engine, SEMESTER, home=wh.home)
    assert (again.edition_id, again.new) == (released.edition_id, False)
    with wh.engine.connect() as conn:
        serie = conn.execute(
            sa.text("SELECT count(DISTINCT semestre) FROM publication.emploi_qpv_serie_courant")
        ).scalar()
    assert serie == 2  # 2023-S2 and 2024-S1: the semesters generated


def test_paqte_results_per_departement_with_people_counts_and_small_amounts_masked(loaded):
    wh, released, _, _ = loaded
    with wh.engine.connect() as conn:
        paqte = pd.DataFrame(
            conn.execute(
                sa.text("SELECT * FROM publication.paqte_departements WHERE edition_id = :e"),
                {"e": released.edition_id},
            )
            .mappings()
            .all()
        )
        submitted = dict(
            conn.execute(
                sa.text(
                    "SELECT s.departement_code || '/' || replace(replace(v.field, 'resultat.', ''), "
                    "'entreprises_signataires', 'ENTREPRISES'), v.value "
                    "FROM core.paqte_submission s JOIN core.paqte_submission_value v USING (batch_id) "
                    "WHERE (v.field LIKE 'resultat.%' OR v.field = 'entreprises_signataires') AND v.status = 'ok' "
                    "AND v.field NOT LIKE '%.observations'"
                )
            ).all()
        )
    assert paqte["code_departement"].nunique() == 101
    states = paqte.drop_duplicates("code_departement").set_index("code_departement")["etat"]
    assert (states["69"], states["13"], states["75"]) == ("acceptée", "acceptée", "non reçue")
    for row in paqte[paqte["code_departement"].isin(["69", "13"])].itertuples():
        typed = submitted.get(f"{row.code_departement}/{row.code_indicateur}")
        people = row.code_indicateur in ("SENS_ELEVES_3E", "FORM_ALTERNANCE", "RECR_RESIDENTS", "RECR_CDI")
        engaged = submitted.get(f"{row.code_departement}/{row.code_indicateur.split('_')[0]}_ENTREPRISES")
        small = (people and typed is not None and 1 <= typed < 11) or (
            row.unite == "euros" and typed and engaged is not None and engaged < 3
        )
        if typed is None:
            assert row.statut == "missing"
        elif small:
            assert (row.statut, row.valeur) == ("masked", None)
        else:
            assert row.statut == "ok" and float(row.valeur) == pytest.approx(float(typed))


def test_counts_read_once_for_the_edition_give_the_same_dashboard_and_series(loaded):
    """The edition reads the counts of all its months in one query and hands them to the dashboard and the series:
    the same frames as when each reads its own months."""
    from etl.publication import disclosure, semestrial
    from etl.referentiels import periods

    wh = loaded[0]
    rules = disclosure.Rules()
    months = periods.semester_end_months(SEMESTER)
    wanted = sorted({*months, *(periods.semester_end_months(s)[0] for s in periods.semesters_ending_with(SEMESTER, 6))})
    counts = semestrial.read_counts(wh.engine, wanted)
    alone, alone_masked, alone_known = semestrial.dashboard(wh.engine, SEMESTER, rules)
    shared, shared_masked, shared_known = semestrial.dashboard(wh.engine, SEMESTER, rules, counts=counts)
    pd.testing.assert_frame_equal(alone, shared)
    assert alone_masked == shared_masked
    pd.testing.assert_frame_equal(
        semestrial.series(wh.engine, SEMESTER, rules, alone_known),
        semestrial.series(wh.engine, SEMESTER, rules, shared_known, counts=counts),
    )


def test_a_change_on_one_list_is_published_and_one_across_lists_is_not(loaded):
    """2025-S2: June and December 2025 are both on the 2024 list, so the 6-month change is published; December 2024
    still had overseas QPV on the 2015 list, so the 12-month change is a break for France and the overseas
    départements and published for a metropolitan one. (Runs last: it changes the current semestrial edition.)"""
    wh, _, _, inputs = loaded
    released = publish.publish_semestrial(wh.engine, "2025-S2", home=wh.home)
    with wh.engine.connect() as conn:
        table = pd.DataFrame(
            conn.execute(
                sa.text("SELECT * FROM publication.emploi_qpv WHERE edition_id = :e"), {"e": released.edition_id}
            )
            .mappings()
            .all()
        )
    for column in ("de_qpv", "evolution_6_mois_qpv", "evolution_12_mois_qpv"):
        table[column] = pd.to_numeric(table[column], errors="coerce")
    ensemble = inputs[(inputs["indicator_code"] == "FT_DEFM_QPV_A") & (inputs["territory_level"] == "france")
                      & (inputs["breakdown"] == "total")].set_index("period_code")["value"]  # fmt: skip
    france = table[(table["niveau"] == "france") & (table["categorie"] == "A") & (table["ventilation"] == "total")]
    france = france.iloc[0]
    assert france["evolution_6_mois_qpv_statut"] == "ok"
    expected = 100 * (ensemble["2025-12"] - ensemble["2025-06"]) / ensemble["2025-06"]
    assert france["evolution_6_mois_qpv"] == pytest.approx(expected, abs=0.006)
    assert france["evolution_12_mois_qpv_statut"] == "break" and pd.isna(france["evolution_12_mois_qpv"])
    departements = table[(table["niveau"] == "departement") & (table["categorie"] == "A")
                         & (table["ventilation"] == "total")]  # fmt: skip
    overseas = departements["code_territoire"].str.startswith("97")
    assert (departements[overseas]["evolution_12_mois_qpv_statut"] == "break").all()
    published = departements[~overseas & (departements["de_qpv_statut"] == "ok")]
    assert len(published) > 90 and (published["evolution_12_mois_qpv_statut"] == "ok").all()


def test_the_semestrial_edition_is_a_valid_data_package(loaded, released_datapackage):
    """Frictionless finds the semestrial edition's datapackage.json valid; its sources are the producers of the
    inputs with the vintages delivered."""
    wh, released, _, _ = loaded
    package = released_datapackage(wh.engine, released.folder)
    sources = {source["source_id"]: source for source in package["sources"]}
    assert sources["france_travail_defm"]["title"] == "France Travail (ex-Pôle emploi), direction des statistiques"
    assert set(MONTHS) <= set(sources["france_travail_defm"]["vintages"])
    assert "paqte" in sources
    emploi = next(r for r in package["resources"] if r["name"] == "emploi_qpv")
    fields = {field["column"]: field for field in emploi["schema"]["fields"]}
    assert fields["de_qpv"]["type"] == "integer" and fields["de_qpv"]["constraints"]["minimum"] == 0
    assert fields["mois"]["type"] == "yearmonth" and fields["semestre"]["type"] == "string"
    assert "s" in emploi["schema"]["missingValues"]


def test_a_report_sent_again_with_the_same_figures_keeps_the_edition(loaded):
    """The inputs digest is what the edition is computed from, not the warehouse's batch numbers: the Rhône sends
    its PAQTE report again, the same figures in a workbook saved again (other bytes, so a new accepted batch), and
    the edition is kept. Batch numbers follow the files' arrival order, so with them in the digest two warehouses
    holding the same figures would not agree on it."""
    import io

    import openpyxl

    from etl.samples.generators.paqte import filled_paqte, paqte_file_name
    from etl.submissions import intake

    wh, released, _, _ = loaded
    workbook = openpyxl.load_workbook(io.BytesIO(filled_paqte("69", SEMESTER, seed=3).content))
    workbook.properties.creator = "DDETS du Rhône, second envoi"
    again = io.BytesIO()
    workbook.save(again)
    (wh.home.folder("inbox") / "paqte" / paqte_file_name("69", SEMESTER)).write_bytes(again.getvalue())
    assert all(o.verdict.accepted for o in intake.intake(wh.engine, "paqte", home=wh.home).outcomes)
    with wh.engine.connect() as conn:
        accepted = conn.execute(
            sa.text(
                "SELECT count(*) FROM audit.batch b JOIN core.paqte_submission_status s "
                "ON s.accepted_batch_id = b.batch_id WHERE s.departement_code = '69' AND s.semester = :s "
                "AND b.original_name = :n"
            ),
            {"s": SEMESTER, "n": paqte_file_name("69", SEMESTER)},
        ).scalar()
        versions = conn.execute(
            sa.text("SELECT count(*) FROM core.paqte_submission WHERE departement_code = '69'")
        ).scalar()
    assert accepted == 1 and versions == 2
    kept = publish.publish_semestrial(wh.engine, SEMESTER, home=wh.home)
    assert (kept.edition_id, kept.new) == (released.edition_id, False)


def test_a_month_protected_again_with_the_same_counts_is_not_suppressed_again_and_changed_counts_are(
    loaded, monkeypatch
):
    """The editions of a backfill share the months of their series: a month with the same counts and rules is
    protected and checked once per process, its copies independent; a month whose counts changed is done again."""
    from etl.publication import disclosure, semestrial
    from etl.quality import disclosure_check

    wh = loaded[0]
    rules = disclosure.Rules()
    month = semestrial.read_counts(wh.engine, ["2024-06"])
    first = semestrial.protect(month, rules)
    first_check = semestrial.month_check(first, rules)
    first.frame.loc[0, "de_qpv"] = -1.0  # the caller's copy: what is remembered does not change
    first.values[0] = -1.0

    def not_again(*args, **kwargs):
        raise AssertionError("a month with the same counts was protected or checked again")

    monkeypatch.setattr(disclosure, "suppress", not_again)
    monkeypatch.setattr(disclosure_check, "gate3_frame", not_again)
    again = semestrial.protect(month.copy(), rules)
    pd.testing.assert_frame_equal(semestrial.month_check(again, rules), first_check)
    assert again.frame.loc[0, "de_qpv"] != -1.0 and again.values[0] != -1.0
    monkeypatch.undo()
    alone = semestrial._protect(month.reset_index(drop=True), rules, ())
    pd.testing.assert_frame_equal(again.frame, alone.frame)
    assert again.masked == alone.masked and again.relations == alone.relations

    changed = month.copy()
    small = changed.index[changed["de_qpv"].fillna(0) > 100][0]
    changed.loc[small, "de_qpv"] = 3.0  # now a small count: must be masked, so suppressed again
    monkeypatch.setattr(disclosure, "suppress", not_again)
    with pytest.raises(AssertionError, match="protected or checked again"):
        semestrial.protect(changed, rules)
    monkeypatch.undo()
    assert semestrial.protect(changed, rules).frame.loc[small, "de_qpv_statut"] == "masked"
