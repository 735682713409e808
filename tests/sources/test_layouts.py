"""Declared file layouts: header matching, refusals with their report, and the producers' real layouts written here by
hand from what is known of them (ANCT list and correspondence, INJEP licences, INSEE job seekers by QPV), through
landing, the gates and the load to the core tables of a real warehouse."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from etl.readers import FileShapeError
from etl.sources import layouts
from etl.sources.registry import Layout, source

# --- header matching -----------------------------------------------------------------------------------------------


def _layout(name: str, columns: dict, **fields) -> Layout:
    return Layout(name=name, real=True, description=name, columns=columns, **fields)


def _csv(path: Path, header: list[str], rows: list[list[str]], *, bom: bool = True, tail: str = "") -> Path:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes((("\ufeff" if bom else "") + buffer.getvalue() + tail).encode("utf-8"))
    return path


def test_headers_match_whatever_their_case_accents_spaces_bom_and_trailing_empty_columns(tmp_path):
    layout = _layout("licences", {"code": "Code QPV", "region": "Région", "total": "Total"})
    path = _csv(tmp_path / "f.csv", ["  CODE qpv ", "REGION", "total", "", ""], [["QN00101M", "84", "3", "", ""]])
    frame = layouts.read_layout("demo", [layout], path, path.name)
    assert frame.attrs["layout"] == "licences"
    assert frame.to_dict("records") == [{"line_no": 2, "code": "QN00101M", "region": "84", "total": "3"}]
    assert layouts.header_key("\ufeff Fédération  Française ") == "federation francaise"


def test_an_empty_header_over_values_is_an_unexpected_column(tmp_path):
    layout = _layout("one", {"code": "code"})
    path = _csv(tmp_path / "f.csv", ["code", ""], [["a", "stray"]])
    with pytest.raises(FileShapeError) as caught:
        layouts.read_layout("demo", [layout], path, path.name)
    assert caught.value.rule == "unknown_layout"
    assert "(sans en-tête, colonne 2)" in str(caught.value)


def test_a_header_matching_two_layouts_is_refused_naming_both(tmp_path):
    first = _layout("premier", {"code": "code", "valeur": "valeur"})
    second = _layout("second", {"code": "CODE", "valeur": ["valeur", "val"]})
    path = _csv(tmp_path / "f.csv", ["code", "valeur"], [["a", "1"]])
    with pytest.raises(FileShapeError) as caught:
        layouts.read_layout("demo", [first, second], path, path.name)
    assert caught.value.rule == "ambiguous_layout"
    assert "premier and second" in str(caught.value)


def test_a_header_matching_no_layout_names_the_closest_and_what_differs(tmp_path):
    path = _csv(
        tmp_path / "lic-data-2023.csv",
        ["Code Commune", "Code QPV", "Nom du QPV", "F - 1 à 4 ans"],
        [["1", "2", "3", "4"]],
    )
    with pytest.raises(FileShapeError) as caught:
        source("ans_licences").resolve(source("ans_licences").reader)(path)
    error = caught.value
    assert error.rule == "unknown_layout"
    assert str(error).startswith("lic-data-2023.csv: line 1 (header) matches none of the 2 layouts")
    assert "the closest, injep_licences_qpv, lacks Nom QPV and does not expect Nom du QPV" in str(error)
    details = "\n".join(error.details)
    assert "Headers found: Code Commune;Code QPV;Nom du QPV;F - 1 à 4 ans" in details
    assert "plateforme_licences_qpv (plateforme): annee;code_qpv;libelle_qpv;sexe;licences" in details
    assert "injep_licences_qpv (réel): Code Commune;Commune (facultatif);Code QPV;Nom QPV" in details
    assert "missing columns: Nom QPV" in details and "unexpected columns: Nom du QPV" in details


def test_excel_literals_are_unwrapped_around_digits_and_separators_only():
    cells = pd.Series(['="01053"', '="13055;13070"', '="abc"', "1053", "=SUM(A1)"])
    assert layouts.unwrap_literals(cells).tolist() == ["01053", "13055;13070", '="abc"', "1053", "=SUM(A1)"]
    column = source("anct_qpv").layouts[0].columns["insee_com"]
    read = layouts.read_cells(pd.Series(['="1053"', "2691; 2571", '="13055;13070"', '="x1"']), column)
    assert read.tolist() == ["01053", "02691; 02571", "13055; 13070", '="x1"']


def test_a_workbook_table_is_found_below_its_title_block_and_its_total_row_kept_apart(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Données quartiers"
    book.create_sheet("Documentation", 0)
    sheet.append(["Nombre de demandeurs d'emploi par quartier"])
    sheet.append(["Source : Insee"])
    sheet.append([])
    sheet.append(["Code du quartier", "Demandeurs A"])
    sheet.append(["CODGEO", "A"])
    sheet.append(["Ensemble des quartiers prioritaires", 1000])
    sheet.append(["QN00101M", 12])
    book.save(tmp_path / "w.xlsx")
    layout = _layout("insee", {"code": "CODGEO", "a": "A"}, sheets=["Donnees quartier", "Données quartiers"])
    frame = layouts.read_layout("demo", [layout], tmp_path / "w.xlsx", "w.xlsx")
    assert frame[["line_no", "code", "a"]].to_dict("records") == [{"line_no": 7, "code": "QN00101M", "a": "12"}]
    assert list(frame.attrs["totals"]) == [6]


# --- real layouts through the pipeline, on a real warehouse ---------------------------------------------------------


def _ingest(wh, source_id: str, name: str, content: bytes):
    from etl import pipeline

    inbox = wh.home.folder("inbox") / source_id
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / name).write_bytes(content)
    return pipeline.ingest(wh.engine, source(source_id), home=wh.home, run_id="test-layouts")


def _literal(code: str) -> str:
    return f'="{code}"'


def _anct_list(qpv: dict) -> bytes:
    """An ANCT list in the real layout (REAL-FORMATS §1): BOM, 13 empty columns, unpadded codes, communes joined by
    "; " or as Excel literals, an all-empty last row."""
    header = "code_qp;lib_qp;insee_reg;lib_reg;insee_dep;lib_dep;insee_com;lib_com;siren_epci;lib_epci" + ";" * 13
    lines = [header]
    frame, communes, epci = qpv["qpv"], qpv["qpv_commune"], qpv["qpv_epci"]
    by_qpv = communes.groupby("code_qp")
    by_epci = epci.groupby("code_qp")
    for index, row in enumerate(frame.itertuples()):
        codes = by_qpv.get_group(row.code_qp)
        epcis = by_epci.get_group(row.code_qp)
        com = ";".join(codes["insee_com"]) if index % 3 == 0 else "; ".join(c.lstrip("0") for c in codes["insee_com"])
        com = _literal(com) if index % 3 == 0 else com
        cells = [
            row.code_qp, row.lib_qp, row.insee_reg.lstrip("0"), row.lib_reg, row.insee_dep.lstrip("0"), row.lib_dep,
            com, "; ".join(codes["lib_com"]), "; ".join(epcis["siren_epci"]), "; ".join(epcis["lib_epci"]),
        ]  # fmt: skip
        out = io.StringIO()
        csv.writer(out, delimiter=";", lineterminator="").writerow(cells)
        lines.append(out.getvalue() + ";" * 13)
    lines.append(";" * 22)
    return ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8")


def _correspondance_wide(long: pd.DataFrame) -> bytes:
    """The ANCT correspondence in its wide layout (REAL-FORMATS §2): one row per 2024 QPV, up to three 2015 codes,
    header names with surrounding spaces; no row for the 2015 QPV that left the geography."""
    header = [" QP2024", "Label_QP2024 ", "Statut", "QP2015_1", "Label_QP2015_1", "QP2015_2", "Label_QP2015_2"]
    header += ["QP2015_3", "Label_QP2015_3"]
    followed = long[long["type_evolution"] != "sortant"]
    rows = []
    for code_2024, group in followed.groupby("code_qp_2024", sort=True):
        predecessors = list(group["code_qp_2015"])[:3]
        cells = [code_2024, f"Quartier {code_2024}", "Modifié" if code_2024.endswith("M") else "Identique"]
        for n in range(3):
            cells += [predecessors[n], f"Ancien {predecessors[n]}"] if n < len(predecessors) else ["", ""]
        rows.append(cells)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _correspondance_workbook(path: Path, long: pd.DataFrame, codes_2024: list[str]) -> Path:
    """ANCT's workbook variant (REAL-FORMATS §2, liste-correspondance-qp2024-qp2015-hexagone.xlsx): `QP2024` and
    `QP 2015 correspondant`, the predecessors of a 2024 QPV in one cell (joined by ";" or ", "), an empty cell for a
    2024 QPV without predecessor, a further label column; no row for the 2015 QPV that left the geography."""
    import openpyxl

    followed = long[long["type_evolution"] != "sortant"].groupby("code_qp_2024")["code_qp_2015"].agg(list)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["QP2024", "Libellé QP2024", "QP 2015 correspondant"])
    for index, code in enumerate(codes_2024):
        predecessors = followed.get(code, [])
        sheet.append([code, f"Quartier {code}", (";" if index % 2 else ", ").join(predecessors) or None])
    book.save(path)
    return path


AGES = ["1 à 4 ans", "5 à 9 ans", "10 à 14 ans", "15 à 19 ans", "20 à 29 ans", "30 à 59 ans", "60 à 79 ans"]


def _injep_licences(qpv: pd.DataFrame, communes: pd.DataFrame) -> tuple[bytes, dict]:
    """INJEP's lic-data-<YYYY>.csv (REAL-FORMATS §7): one row per commune x QPV x federation, a column per sex and
    age band, `F - NR`, `H - NR`, `NR - NR`, Total; `NR - Non réparti` rows. Returns the bytes and {QPV: (F, H)}."""
    header = ["Code Commune", "Commune", "Code QPV", "Nom QPV", "Département", "Région", "Statut géo", "Code"]
    header += ["Fédération", *[f"F - {a}" for a in AGES], "F - NR", *[f"H - {a}" for a in AGES], "H - NR"]
    header += ["NR - NR", "Total"]
    first_commune = communes.groupby("code_qp")["insee_com"].first()
    rows, expected = [], {}
    for index, row in enumerate(qpv.itertuples()):
        f_total = h_total = 0
        for federation, (code, name) in enumerate((("111", "FF de football"), ("119", "FF de judo"))):
            women = [(index + federation + a) % 7 for a in range(len(AGES))] + [1]
            men = [(index * 3 + federation + a) % 9 for a in range(len(AGES))] + [0]
            f_total, h_total = f_total + sum(women), h_total + sum(men)
            cells = [first_commune[row.code_qp].lstrip("0"), "Commune", row.code_qp, row.lib_qp, row.insee_dep]
            cells += [row.insee_reg, "QPV", code, name, *map(str, women), *map(str, men), "2"]
            cells += [str(sum(women) + sum(men) + 2)]
            rows.append(cells)
        expected[row.code_qp] = (f_total, h_total)
    rows.append(["NR - Non réparti", "", "NR", "", "", "", "", "111", "FF de football", *["3"] * 16, "0", "48"])
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8"), expected


def _insee_defm(codes: list[str]) -> tuple[bytes, dict]:
    """INSEE's job seekers by QPV (REAL-FORMATS §4): CODGEO and the DEFM variables, empty cells masked."""
    header = ["CODGEO", "NOTE", "ABCDE", "ABC", "ABC_H", "ABC_F", "A", "A_H", "A_F", "ABC_25", "ABC_2649", "ABC_50"]
    header += ["ABC_Dur1", "ABC_RSA"]
    rows, expected = [], {}
    for index, code in enumerate(codes):
        a_f, a_h = 40 + index % 30, 35 + index % 25
        abc_f, abc_h = a_f + 20, a_h + 15
        young, old = 10 + index % 5, 12
        masked = index % 10 == 0
        rows.append([
            code, "", str(abc_f + abc_h + 30), str(abc_f + abc_h), str(abc_h), str(abc_f), str(a_f + a_h), str(a_h),
            str(a_f), "" if masked else str(young), str(abc_f + abc_h - young - old), str(old), "17", "9",
        ])  # fmt: skip
        expected[code] = {"A": a_f + a_h, "ABC_25": None if masked else young}
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8"), expected


CAF_VARIABLES = ["codgeo", "libgeo", "a", "percou", "a_rsa", "a_aah", "a_al", "a_isol", "a_csenf", "a_caenf"]
CAF_VARIABLES += ["a_mono", "a_etud"]


def _insee_caf(path: Path, codes: list[str], *, sheet: str = "Données quartiers", technical_first: bool = False):
    """INSEE's CAF beneficiaries by QPV as an INSEE QPV workbook (REAL-FORMATS §5, §6): a documentation sheet first,
    the data sheet below a title block, two header rows (labels, technical names: the order of `technical_first`),
    the national total first; lower-case variables (`a`, `percou`, inferred), a multiple of 5 each, every seventh
    QPV's RSA masked (empty). Returns the path and {QPV: (a, percou, rsa or None)}."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Documentation"
    book.active.append(["Allocataires CAF par quartier prioritaire, au 31 décembre 2024"])
    data = book.create_sheet(sheet)
    data.append(["Bénéficiaires des prestations CAF par quartier prioritaire de la politique de la ville"])
    data.append(["Source : Cnaf, fichier des allocataires au 31/12/2024 ; Insee"])
    data.append([])
    labels = ["Code du quartier", "Libellé du quartier", "Foyers allocataires", "Personnes couvertes", "RSA", "AAH"]
    labels += ["Aide au logement", "Isolés", "Couples sans enfant", "Couples avec enfant(s)", "Monoparents"]
    labels += ["Étudiants"]
    for row in [CAF_VARIABLES, labels] if technical_first else [labels, CAF_VARIABLES]:
        data.append(row)
    data.append(["Ensemble des quartiers prioritaires", "", 987_650, 2_345_670, *[1000] * 8])
    expected = {}
    for index, code in enumerate(codes):
        isol, csenf, caenf, mono = (5 * (20 + index % 7), 5 * (4 + index % 3), 5 * (10 + index % 5), 5 * 9)
        a = isol + csenf + caenf + mono
        rsa = None if index % 7 == 0 else 5 * (6 + index % 4)
        data.append([code, f"Quartier {code}", a, 5 * a // 2 // 5 * 5, rsa, 15, a - 20, isol, csenf, caenf, mono, 5])
        expected[code] = (a, 5 * a // 2 // 5 * 5, rsa)
    book.save(path)
    return path, expected


SHEETS = [("Données quartiers", False), ("Donnees quartier", True), ("DONNÉES QUARTIER", False)]


@pytest.mark.parametrize(("sheet", "technical_first"), SHEETS)
def test_insee_caf_workbook_is_read_below_its_title_block_whatever_the_sheet_spelling(tmp_path, sheet, technical_first):
    name = "beneficiaires_CAF_31-12-2024_QP24.xlsx"
    path, expected = _insee_caf(tmp_path / name, ["QN00101M", "QN00102N"], sheet=sheet, technical_first=technical_first)
    from etl.sources import caf

    raw = caf.read_allocataires(path, name=name)
    assert raw.attrs["layout"] == "insee_caf_qp"
    assert list(raw.columns) == ["line_no", *caf.ALLOCATAIRES_COLUMNS]
    assert raw["line_no"].tolist() == [7, 8]  # sheet rows: title block 1-3, headers 4-5, national total 6
    assert list(raw.attrs["totals"]) == [6]
    assert raw["dtreffile"].tolist() == ["31/12/2024"] * 2
    assert raw.loc[0, "nb_alloc_rsa"] == "s" and raw.loc[1, "nb_alloc_rsa"] == str(expected["QN00102N"][2])
    assert raw["nb_allocataires"].tolist() == [str(expected[code][0]) for code in ("QN00101M", "QN00102N")]
    values = caf.normalise_allocataires(raw)["values"]
    rsa = values[values["indicator_code"] == "CAF_RSA"]
    assert rsa["status"].tolist() == ["masked", "ok"] and rsa["value"].isna().tolist() == [True, False]
    assert set(values["period_code"]) == {"2024"} and len(values) == 2 * 9


def test_insee_caf_without_the_optional_variables_loads_only_what_it_gives(tmp_path):
    from etl.sources import caf

    path = tmp_path / "beneficiaires_CAF_31-12-2023_QP24.csv"
    path.write_bytes(b"CODGEO;A;PERCOU;A_ETUD\nQN00101M;1 245;2 870;\nQN00102N;;40;5\n")
    raw = caf.read_allocataires(path)
    assert raw.attrs["layout"] == "insee_caf_qp" and raw["nb_alloc_rsa"].isna().all()
    staged = caf.normalise_allocataires(raw)
    values = staged["values"]
    columns = ["indicator_code", "territory_code", "period_code", "status"]
    assert values[columns].to_dict("split")["data"] == [
        ["CAF_ALLOCATAIRES", "QN00101M", "2023", "ok"],
        ["CAF_PERSONNES_COUVERTES", "QN00101M", "2023", "ok"],
        ["CAF_ALLOCATAIRES", "QN00102N", "2023", "masked"],
        ["CAF_PERSONNES_COUVERTES", "QN00102N", "2023", "ok"],
    ]
    assert values["value"].fillna(-1).tolist() == [1245.0, 2870.0, -1, 40.0]
    assert staged["foyers"]["rsa"].isna().all() and staged["foyers"]["personnes_couvertes"].tolist() == [2870, 40]


def _in_force_2024(territories) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(QPV, their communes) in force in 2024: the 2024 geography in metropolitan France, the 2015 one overseas."""
    metropole = territories["2024"]["qpv"][~territories["2024"]["qpv"]["insee_dep"].str.startswith("97")]
    overseas = territories["2015"]["qpv"][territories["2015"]["qpv"]["insee_dep"].str.startswith("97")]
    communes = pd.concat([territories[geo]["qpv_commune"] for geo in ("2015", "2024")], ignore_index=True)
    return pd.concat([metropole, overseas], ignore_index=True), communes


@pytest.fixture(scope="module")
def real(reference_warehouse, territories):
    """The reference warehouse with the 2015 list (sample layout), then the 2024 list and the correspondence in
    ANCT's real layouts, written here; (warehouse, {file name: batch outcome}, the long correspondence)."""
    wh = reference_warehouse
    folder = territories["folder"]
    [loaded] = _ingest(wh, "anct_qpv", "qpv_2015.csv", (folder / "qpv_2015.csv").read_bytes()).batches
    assert loaded.status == "loaded"
    [listed] = _ingest(wh, "anct_qpv", "listeqp2024-cog2024.csv", _anct_list(territories["2024"])).batches
    long = pd.read_csv(folder / "qpv_correspondance_2015_2024.csv", sep=";", dtype=str, keep_default_na=False)
    name = "liste-correspondance-qp2024-qp2015.csv"
    [wide] = _ingest(wh, "anct_qpv_correspondance", name, _correspondance_wide(long)).batches
    return wh, {"list": listed, "correspondance": wide}, long


@pytest.mark.warehouse
def test_the_anct_list_with_excel_literals_and_the_wide_correspondence_load(real, territories):
    wh, batches, long = real
    batch = batches["list"]
    assert (batch.status, batch.layout, batch.partition) == ("loaded", "anct_liste_qp", "2024"), batch.reason
    batch = batches["correspondance"]
    assert (batch.status, batch.layout) == ("loaded", "anct_correspondance_large"), batch.reason
    with wh.engine.connect() as conn:
        communes = set(conn.execute(sa.text("SELECT qpv_code || ' ' || commune_code FROM core.qpv_commune")).scalars())
        pairs = conn.execute(
            sa.text("SELECT qpv_2015, coalesce(qpv_2024, ''), type_evolution FROM core.qpv_correspondance")
        ).all()
        recorded = dict(
            conn.execute(sa.text("SELECT original_name, layout FROM audit.batch WHERE layout IS NOT NULL")).all()
        )
    expected = territories["2024"]["qpv_commune"]
    assert {f"{r.code_qp} {r.insee_com}" for r in expected.itertuples()} <= communes
    wanted = long[["code_qp_2015", "code_qp_2024", "type_evolution"]].itertuples(index=False, name=None)
    assert sorted(map(tuple, pairs)) == sorted(wanted)
    assert recorded["liste-correspondance-qp2024-qp2015.csv"] == "anct_correspondance_large"
    assert recorded["listeqp2024-cog2024.csv"] == "anct_liste_qp"


@pytest.mark.warehouse
def test_the_correspondence_workbook_variant_loads_the_same_pairs(real, territories, tmp_path):
    wh, _, long = real
    codes_2024 = list(territories["2024"]["qpv"]["code_qp"])
    assert set(codes_2024) - set(long["code_qp_2024"])  # some 2024 QPV have no predecessor: an empty cell
    name = "liste-correspondance-qp2024-qp2015.xlsx"
    path = _correspondance_workbook(tmp_path / name, long, codes_2024)
    [batch] = _ingest(wh, "anct_qpv_correspondance", name, path.read_bytes()).batches
    assert (batch.status, batch.layout, batch.partition) == ("loaded", "anct_correspondance_xlsx", "2015-2024"), (
        batch.reason
    )
    with wh.engine.connect() as conn:
        pairs = conn.execute(
            sa.text("SELECT qpv_2015, coalesce(qpv_2024, ''), type_evolution FROM core.qpv_correspondance")
        ).all()
    wanted = long[["code_qp_2015", "code_qp_2024", "type_evolution"]].itertuples(index=False, name=None)
    assert sorted(map(tuple, pairs)) == sorted(wanted)


@pytest.mark.warehouse
def test_injep_licences_yield_ind20_and_ind21_per_qpv(real, territories):
    wh = real[0]
    qpv, communes = _in_force_2024(territories)
    content, expected = _injep_licences(qpv, communes)
    [batch] = _ingest(wh, "ans_licences", "lic-data-2024.csv", content).batches
    assert (batch.status, batch.layout, batch.partition) == ("loaded", "injep_licences_qpv", "2024"), batch.reason
    with wh.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT indicator_code, territory_code, value FROM core.indicator_value "
                "WHERE source_id = 'ans_licences' AND territory_level = 'qpv' "
                "AND breakdown = 'total' AND period_code = '2024'"
            )
        ).all()
    got = {(r.indicator_code, r.territory_code): r.value for r in rows}
    for code, (women, men) in expected.items():
        assert got[("IND20", code)] == women + men
        assert got[("IND21", code)] == women
    assert not any(code.startswith("NR") for _, code in got)


@pytest.mark.warehouse
def test_insee_job_seekers_by_qpv_load_as_the_second_layout_of_the_defm_source(real, territories):
    wh = real[0]
    codes = list(_in_force_2024(territories)[0]["code_qp"])
    content, expected = _insee_defm(codes)
    [batch] = _ingest(wh, "france_travail_defm", "DEFM2024_QP24.csv", content).batches
    assert (batch.status, batch.layout, batch.partition) == ("loaded", "insee_defm_qp", "2024-12/insee"), batch.reason
    with wh.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT indicator_code, territory_code, breakdown, value, status FROM core.indicator_value "
                "WHERE source_id = 'france_travail_defm' AND period_code = '2024-12' AND territory_level = 'qpv'"
            )
        ).all()
    got = {(r.indicator_code, r.territory_code, r.breakdown): (r.value, r.status) for r in rows}
    for code, figures in expected.items():
        assert got[("FT_DEFM_A", code, "total")] == (figures["A"], "ok")
        young = figures["ABC_25"]
        assert got[("FT_DEFM_ABC", code, "age=<26")] == ((young, "ok") if young is not None else (None, "masked"))
    assert not any(key[0] == "FT_DEFM_A" and key[2].startswith("age=") for key in got)


@pytest.mark.warehouse
def test_insee_caf_beneficiaries_by_qpv_load_as_a_layout_of_the_caf_source(real, territories, tmp_path):
    wh = real[0]
    codes = list(_in_force_2024(territories)[0]["code_qp"])
    name = "beneficiaires_CAF_31-12-2024_QP24.xlsx"
    path, expected = _insee_caf(tmp_path / name, codes, sheet="Donnees quartier")
    [batch] = _ingest(wh, "caf_allocataires", name, path.read_bytes()).batches
    assert (batch.status, batch.layout, batch.partition) == ("loaded", "insee_caf_qp", "2024"), batch.reason
    with wh.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT indicator_code, territory_code, value, status FROM core.indicator_value "
                "WHERE source_id = 'caf_allocataires' AND period_code = '2024' AND breakdown = 'total'"
            )
        ).all()
    got = {(r.indicator_code, r.territory_code): (r.value, r.status) for r in rows}
    assert {code for _, code in got} == set(codes)  # the national total row is not a QPV
    for code, (households, covered, rsa) in expected.items():
        assert got[("CAF_ALLOCATAIRES", code)] == (households, "ok")
        assert got[("CAF_PERSONNES_COUVERTES", code)] == (covered, "ok")
        assert got[("CAF_RSA", code)] == ((rsa, "ok") if rsa is not None else (None, "masked"))


@pytest.mark.warehouse
def test_a_file_matching_no_layout_is_quarantined_with_the_layouts_report(real):
    wh = real[0]
    content = "\ufeffcode_qpv;Nom QPV;annee;licences\nQN00101M;X;2024;3\n".encode()
    [batch] = _ingest(wh, "ans_licences", "ANS_LICENCES_QPV_2024.csv", content).batches
    assert batch.status == "quarantined" and batch.layout is None
    text = batch.report.read_text(encoding="utf-8")
    assert "[unknown_layout] line 1: ANS_LICENCES_QPV_2024.csv: line 1 (header) matches none of the 2 layouts" in text
    assert "Headers found: code_qpv;Nom QPV;annee;licences" in text
    assert "injep_licences_qpv (réel): Code Commune;" in text
    assert "Closest layout: plateforme_licences_qpv" in text
    assert "missing columns: libelle_qpv, sexe" in text and "unexpected columns: Nom QPV" in text


@pytest.mark.warehouse
def test_the_generators_insee_job_seekers_load_beside_france_travails_months(real, territories, tmp_path):
    from etl.samples.generators import france_travail as generator

    wh = real[0]
    months = ["2024-12", "2025-01", "2025-02"]
    paths = generator.generate_defm(tmp_path, territories["folder"], months)
    paths += generator.generate_defm_insee(tmp_path, territories["folder"], [2024])
    inbox = wh.home.folder("inbox") / "france_travail_defm"
    for path in paths:
        (inbox / path.name).parent.mkdir(parents=True, exist_ok=True)
        (inbox / path.name).write_bytes(path.read_bytes())
    from etl import pipeline

    report = pipeline.ingest(wh.engine, source("france_travail_defm"), home=wh.home, run_id="test-insee-defm")
    batches = {batch.original_name: batch for batch in report.batches}
    insee = batches["DEFM2024_QP24.csv"]
    assert (insee.status, insee.layout, insee.partition) == ("loaded", "insee_defm_qp", "2024-12/insee"), insee.reason
    assert all(batch.status == "loaded" for batch in batches.values())
    with wh.engine.connect() as conn:
        shown = conn.execute(
            sa.text(
                "SELECT DISTINCT vintage FROM core.indicator_value WHERE source_id = 'france_travail_defm' "
                "AND period_code = '2024-12' AND territory_level = 'qpv'"
            )
        ).scalars()
        compared, differ = conn.execute(
            sa.text(
                "SELECT count(*), count(*) FILTER (WHERE i.value IS DISTINCT FROM f.value OR i.status <> f.status) "
                "FROM core.indicator_value_vintage i JOIN core.indicator_value_vintage f "
                "USING (indicator_code, territory_level, territory_code, period_code, breakdown) "
                "WHERE i.vintage = '2024-12/insee' AND f.vintage = '2025-02'"
            )
        ).one()
    assert list(shown) == ["2025-02"]  # France Travail's last revision stays the figure shown
    assert compared > 1000 and differ == 0  # INSEE's file says the same


# --- the 2015 list as the perimeters' attribute table (kept last: it replaces the 2015 geography of the warehouse) ---


def _attribute_table(frames: dict, *, unknown_at: int | None = None) -> tuple[bytes, set[str]]:
    """The 2015 list as the attribute table of ANCT's perimeters (REAL-FORMATS §3): CODE_QP;NOM_QP;COMMUNE_QP, commune
    names joined by commas (the first only overseas), written in another case, without accents or hyphens for some;
    with `unknown_at`, that QPV names a commune its département does not have. Returns the bytes and the expected
    `QPV commune` pairs."""
    import unicodedata

    communes = frames["qpv_commune"].groupby("code_qp")
    rows, pairs = [], set()
    for index, row in enumerate(frames["qpv"].itertuples()):
        group = communes.get_group(row.code_qp)
        group = group.iloc[:1] if row.insee_dep.startswith("97") else group
        names = list(group["lib_com"])
        if index % 4 == 1:
            names = [name.upper() for name in names]
        elif index % 4 == 2:
            plain = (unicodedata.normalize("NFKD", n).encode("ascii", "ignore").decode() for n in names)
            names = [name.replace("-", " ") for name in plain]
        if index == unknown_at:
            names = ["Commune-Inconnue-du-Département"]
        rows.append([row.code_qp, row.lib_qp, ", ".join(names)])
        pairs |= {f"{row.code_qp} {code}" for code in group["insee_com"]}
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(["CODE_QP", "NOM_QP", "COMMUNE_QP"])
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8"), pairs


def test_commune_names_are_matched_within_their_departement_or_kept_as_written():
    from etl.referentiels.territories import commune_codes

    known = ["02691|Saint-Quentin", "60057|Beauvais", "13055|Marseille", "97411|Saint-Denis", "93066|Saint-Denis"]
    known += ["80001|Abbeville", "80002|Abbeville"]  # two communes of one name in a département: no guess
    departements = pd.Series(["02", "60", "13", "974", "93", "60", "80"])
    names = pd.Series(
        ["SAINT QUENTIN", "beauvais", "Marseille", "Saint-Denis", "Saint Denis", "Saint-Quentin", "Abbeville"]
    )
    codes = commune_codes(departements, names, known)
    assert codes.tolist() == ["02691", "60057", "13055", "97411", "93066", "Saint-Quentin", "Abbeville"]


@pytest.mark.warehouse
def test_the_2015_attribute_table_with_a_commune_of_no_departement_is_refused_naming_its_line(real, territories):
    wh = real[0]
    content, _ = _attribute_table(territories["2015"], unknown_at=5)
    [batch] = _ingest(wh, "anct_qpv", "QP_2015_attributs.csv", content).batches
    assert (batch.status, batch.layout) == ("quarantined", "anct_qp2015_attributs")
    text = batch.report.read_text(encoding="utf-8")
    assert "anct_qpv_commune.rows" in text and "insee_com" in text
    assert "failed on 1 row(s): line 7 ('Commune-Inconnue-du-Département')" in text


@pytest.mark.warehouse
def test_the_2015_attribute_table_loads_its_communes_matched_by_name(real, territories):
    wh = real[0]
    content, pairs = _attribute_table(territories["2015"])
    [batch] = _ingest(wh, "anct_qpv", "QP_2015_attributs.csv", content).batches
    assert (batch.status, batch.layout, batch.partition) == ("loaded", "anct_qp2015_attributs", "2015"), batch.reason
    with wh.engine.connect() as conn:
        loaded = set(
            conn.execute(
                sa.text(
                    "SELECT c.qpv_code || ' ' || c.commune_code FROM core.qpv_commune c "
                    "JOIN core.qpv q ON q.code = c.qpv_code WHERE q.geography = '2015'"
                )
            ).scalars()
        )
        regions = dict(conn.execute(sa.text("SELECT code, region_code FROM core.qpv WHERE geography = '2015'")).all())
    assert loaded == pairs
    expected = territories["2015"]["qpv"]
    assert regions == dict(zip(expected["code_qp"], expected["insee_reg"], strict=True))
