"""The données QPV tables (etl/publication/qpv_data.py) on a small hand-made geography: sums per territory, secrecy
of people and households only, rates on population, breaks across the 2015 -> 2024 lists."""

from __future__ import annotations

import pandas as pd
import pytest

from etl.publication import disclosure, qpv_data

CATALOGUE = pd.DataFrame(
    [
        ("CAF_PERSONNES_COUVERTES", "Personnes couvertes", "CAF (Cnaf)", "personnes"),
        ("CAF_ALLOCATAIRES", "Foyers allocataires", "CAF (Cnaf)", "foyers"),
        ("CAF_RSA", "RSA", "CAF (Cnaf)", "foyers"),
        ("CAF_AAH", "AAH", "CAF (Cnaf)", "foyers"),
        ("CAF_AIDE_LOGEMENT", "Aide au logement", "CAF (Cnaf)", "foyers"),
        ("CAF_PLACES_EAJE", "Places EAJE", "CAF (Cnaf)", "places"),
        ("IND16", "Places de crèche", "CAF", "places"),
    ],
    columns=["code_indicateur", "indicateur", "producteur", "unite_statistique"],
)


def _territories(year: int, codes: list[str], geography: str) -> list[tuple]:
    rows = []
    for code in codes:
        rows += [
            (year, "qpv", code, f"Quartier {code}", code, geography, "84", "84"[:2]),
            (year, "commune", "69123", "Lyon", code, geography, "69", "84"),
            (year, "epci", "200046977", "Métropole de Lyon", code, geography, None, None),
            (year, "departement", "69", "Rhône", code, geography, "69", "84"),
            (year, "region", "84", "Auvergne-Rhône-Alpes", code, geography, None, "84"),
            (year, "france", "FR", "France", code, geography, None, None),
        ]
    return rows


def _inputs(covered: dict[str, float], population: dict[str, float], earlier: dict[str, float]) -> qpv_data.Inputs:
    territories = pd.DataFrame(
        _territories(2024, list(covered), "2024") + _territories(2023, list(earlier), "2015"),
        columns=["annee", "niveau", "code_territoire", "territoire", "code_qpv", "geography", "code_departement",
                 "code_region"],
    )  # fmt: skip
    values = [(
        "CAF_PERSONNES_COUVERTES", "total", code, 2024, value, "ok", None, "1") for code, value in covered.items()
    ]  # fmt: skip
    values += [("CAF_PERSONNES_COUVERTES", "total", code, 2023, v, "ok", None, "2") for code, v in earlier.items()]
    values += [(qpv_data.POPULATION, "total", code, 2024, v, "ok", "2020", "3") for code, v in population.items()]
    frame = pd.DataFrame(
        values,
        columns=["code_indicateur", "ventilation", "code_qpv", "annee", "valeur", "statut", "note_valeur", "batches"],
    )
    return qpv_data.Inputs(2024, territories, frame, CATALOGUE)


@pytest.fixture(scope="module")
def caf():
    given = _inputs(
        covered={"QN06901A": 500.0, "QN06902A": 8.0, "QN06903A": 300.0, "QN06904A": 250.0},
        population={"QN06901A": 1000.0, "QN06902A": 900.0, "QN06904A": 0.0},
        earlier={"QP069001": 700.0, "QP069002": 400.0},
    )
    tables, checks = qpv_data.build(given, disclosure.Rules())
    table = next(t for t in tables if t.name == "donnees_qpv_caf")
    frame = table.frame.set_index(["niveau", "code_territoire", "code_indicateur", "ventilation"])
    return frame, [c for c in checks if c[0] == "donnees_qpv_caf"], given


def _row(frame, level, code, indicator="CAF_PERSONNES_COUVERTES"):
    return frame.loc[(level, code, indicator, "total")]


def test_every_level_sums_its_qpv_and_a_small_count_of_people_is_masked_with_a_complement(caf):
    frame, checks, _ = caf
    assert _row(frame, "qpv", "QN06902A")["statut"] == "masked"
    masked_qpv = [c for c in ("QN06901A", "QN06902A", "QN06903A", "QN06904A") if _row(frame, "qpv", c)["statut"] ==
                  "masked"]  # fmt: skip
    assert len(masked_qpv) >= 2  # the small one and its complement: the commune's total does not give it away
    for level, code in (("commune", "69123"), ("departement", "69"), ("region", "84"), ("france", "FR")):
        row = _row(frame, level, code)
        if row["statut"] == "ok":
            assert row["valeur"] == 500 + 8 + 300 + 250
    assert _row(frame, "france", "FR")["statut"] == "ok"  # one masked QPV does not mask France
    for _, column, check in checks:
        assert check.drop(columns="line_no").isna().all().all(), column


def test_a_rate_is_computed_on_the_population_and_masked_or_sans_objet_when_it_must_be(caf):
    frame, _, _ = caf
    first = _row(frame, "qpv", "QN06901A")
    assert (first["taux"], first["population"], first["annee_population"], first["statut_taux"]) == (
        50.0, 1000.0, "2020", "ok"
    )  # fmt: skip
    small = _row(frame, "qpv", "QN06902A")
    assert small["statut_taux"] == "masked" and pd.isna(small["taux"])
    unknown = _row(frame, "qpv", "QN06903A")
    if unknown["statut"] == "ok":
        assert unknown["statut_taux"] == "not_applicable" and "inconnue" in unknown["note_taux"]
    empty = _row(frame, "qpv", "QN06904A")
    if empty["statut"] == "ok":
        assert empty["statut_taux"] == "not_applicable" and empty["note_taux"].startswith("population nulle")
    assert pd.isna(empty["taux"])  # never a division by zero
    commune = _row(frame, "commune", "69123")
    assert commune["statut_taux"] == "not_applicable"  # one QPV without population: no rate for the sum
    assert _row(frame, "qpv", "QN06901A", "CAF_RSA")["statut_taux"] is None  # no rate for this indicator


def test_a_change_across_the_2015_and_2024_lists_is_a_break_and_an_absent_figure_is_not_zero(caf):
    frame, _, _ = caf
    commune = _row(frame, "commune", "69123")
    assert commune["statut_valeur_n1"] == "break" and pd.isna(commune["valeur_n1"]) and pd.isna(commune["evolution_n1"])
    rsa = _row(frame, "qpv", "QN06901A", "CAF_RSA")
    assert rsa["statut"] == "missing" and pd.isna(rsa["valeur"]) and rsa["note_valeur"]


def test_a_year_protected_again_with_the_same_rows_is_not_suppressed_again_and_changed_rows_are(monkeypatch):
    """The annual editions of one process share years (N of one is N-1 of the next): a theme's year with the same
    rows, territories and rules is protected and checked once, its copies independent; changed rows are done again."""
    from etl.quality import disclosure_check

    qpv_data._MEMO.clear()
    covered = {"QN06901A": 500.0, "QN06902A": 8.0, "QN06903A": 300.0, "QN06904A": 250.0}
    given = _inputs(covered=covered, population={"QN06901A": 1000.0}, earlier={"QP069001": 700.0})
    first, first_checks = qpv_data.build(given, disclosure.Rules())
    first[0].frame.loc[0, "valeur"] = -1.0  # the caller's table: what is remembered does not change

    def not_again(*args, **kwargs):
        raise AssertionError("a year with the same rows was protected or checked again")

    monkeypatch.setattr(disclosure, "suppress", not_again)
    monkeypatch.setattr(disclosure_check, "gate3_frame", not_again)
    again, again_checks = qpv_data.build(given, disclosure.Rules())
    monkeypatch.undo()
    qpv_data._MEMO.clear()
    alone, alone_checks = qpv_data.build(given, disclosure.Rules())
    assert [t.name for t in again] == [t.name for t in alone]
    for table, reference in zip(again, alone, strict=True):
        pd.testing.assert_frame_equal(table.frame, reference.frame)
    for (name, column, check), (_, _, reference) in zip(again_checks, alone_checks, strict=True):
        pd.testing.assert_frame_equal(check, reference, obj=f"{name} {column}")
    assert len(again_checks) == len(first_checks)

    smaller = _inputs(
        covered={**covered, "QN06903A": 4.0}, population={"QN06901A": 1000.0}, earlier={"QP069001": 700.0}
    )
    monkeypatch.setattr(disclosure, "suppress", not_again)
    with pytest.raises(AssertionError, match="protected or checked again"):
        qpv_data.build(smaller, disclosure.Rules())
    monkeypatch.undo()
    tables, _ = qpv_data.build(smaller, disclosure.Rules())
    caf = next(t for t in tables if t.name == "donnees_qpv_caf").frame
    row = caf[(caf["code_territoire"] == "QN06903A") & (caf["code_indicateur"] == "CAF_PERSONNES_COUVERTES")
              & (caf["ventilation"] == "total")]  # fmt: skip
    assert row["statut"].tolist() == ["masked"]
