"""Consistency checks on the versioned reference data in ``catalogue/``.

Three files are checked:

* ``indicateurs_2014.csv``: the 32 indicators of annex 2 of instruction n° 5706/SG (26 March 2014);
* ``mesures_2018.csv``: the measures of the 2018 roadmap follow-up table (annex 3 of the letter of
  22 January 2019), numbered 1 to 40, plus the sub-measures 1.a and 1.b;
* ``mesures_2018_indicateurs.csv``: the indicators attached to each of those measures.

The tests check the counts stated by the texts themselves (16 national / 16 local indicators;
3 / 1 / 22 / 14 measures per status), the keys and references between files, and that the labels
still occur in the seed texts, so that the data cannot drift away from its source. The seed folder
defaults to ``../shared/seeds`` beside the project and can be moved with ``OBSERVATOIRE_SEEDS_DIR``; outside
CI the source-text tests are reported as expected failures when that folder is missing (in CI they fail).

Only the standard library (csv, pathlib) and pytest are used.
"""

from __future__ import annotations

import csv
import os
import re
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

CATALOGUE = Path(__file__).resolve().parents[2] / "catalogue"
SEEDS = Path(os.environ.get("OBSERVATOIRE_SEEDS_DIR", Path(__file__).resolve().parents[3] / "shared" / "seeds"))
SEED_2014 = "002_43d73cdcab77d19d.txt"
SEED_2018 = "003_1a0e1abe32fbbee2.txt"

INDICATEURS_HEADER = [
    "code",
    "convention",
    "objectif_strategique",
    "objectif_operationnel",
    "bop",
    "libelle",
    "cible_texte",
    "cible_valeur",
    "cible_unite",
    "cible_comparateur",
    "cible_horizon",
    "cible_portee",
    "mode",
    "producteur",
    "mode_resolu",
    "mode_texte",
    "producteur_donnee",
    "unite_statistique",
]
MESURES_HEADER = ["numero", "axe", "programme", "theme", "libelle", "statut", "date_statut"]
MESURES_INDICATEURS_HEADER = [
    "numero_mesure",
    "rang",
    "libelle",
    "cible_texte",
    "cible_valeur",
    "cible_unite",
    "cible_horizon",
]
STATUTS = ["Objectif atteint", "En voie de finalisation", "En cours de déploiement", "En cours de lancement"]
EXPECTED_STATUS_COUNTS = {
    "Objectif atteint": 3,
    "En voie de finalisation": 1,
    "En cours de déploiement": 22,
    "En cours de lancement": 14,
}
EXPECTED_STATUS_PERCENTS = {
    "Objectif atteint": 8,
    "En voie de finalisation": 3,
    "En cours de déploiement": 55,
    "En cours de lancement": 35,
}


def _read(name: str) -> tuple[list[str], list[dict[str, str]]]:
    with (CATALOGUE / name).open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter=";")
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _seed_text(name: str) -> str:
    path = SEEDS / name
    if not path.is_file() and not os.environ.get("CI"):
        pytest.xfail(f"seed text {path} not beside the project (../shared/seeds); CI always has it")
    return _normalise(path.read_text(encoding="utf-8"))


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _percent(count: int, total: int) -> int:
    """Percentage rounded half up, as in the seed's summary table (1/40 = 2.5 % is printed 3 %)."""
    return int((Decimal(100 * count) / Decimal(total)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@pytest.fixture(scope="module")
def indicateurs() -> list[dict[str, str]]:
    header, rows = _read("indicateurs_2014.csv")
    assert header == INDICATEURS_HEADER
    return rows


@pytest.fixture(scope="module")
def mesures() -> list[dict[str, str]]:
    header, rows = _read("mesures_2018.csv")
    assert header == MESURES_HEADER
    return rows


@pytest.fixture(scope="module")
def mesures_indicateurs() -> list[dict[str, str]]:
    header, rows = _read("mesures_2018_indicateurs.csv")
    assert header == MESURES_INDICATEURS_HEADER
    return rows


def _main_measures(mesures: list[dict[str, str]]) -> list[dict[str, str]]:
    """The 40 numbered measures; the sub-measures 1.a and 1.b are not counted by the seed's summary."""
    return [row for row in mesures if row["numero"].isdigit()]


# --- indicateurs_2014.csv ------------------------------------------------------------------------


def test_32_indicators_with_unique_codes(indicateurs):
    codes = [row["code"] for row in indicateurs]
    assert len(codes) == 32
    assert len(set(codes)) == 32
    assert codes == [f"IND{i:02d}" for i in range(1, 33)]


def test_16_national_and_16_local(indicateurs):
    assert Counter(row["mode"] for row in indicateurs) == {"national": 16, "local": 16}


def test_exactly_one_resolved_mode(indicateurs):
    assert {row["mode_resolu"] for row in indicateurs} <= {"oui", "non"}
    resolved = [row for row in indicateurs if row["mode_resolu"] == "oui"]
    assert len(resolved) == 1
    # The resolved row is the one whose mode column is blank in the source.
    assert resolved[0]["mode_texte"] == ""
    assert all(row["mode_texte"] for row in indicateurs if row["mode_resolu"] == "non")


def test_cible_valeur_is_numeric_when_present(indicateurs):
    for row in indicateurs:
        if row["cible_valeur"]:
            assert _is_number(row["cible_valeur"]), row["code"]
            assert row["cible_texte"], row["code"]
            assert row["cible_unite"], row["code"]
        if row["cible_horizon"]:
            assert re.fullmatch(r"\d{4}", row["cible_horizon"]), row["code"]


def test_cible_comparateur_vocabulary(indicateurs):
    assert {row["cible_comparateur"] for row in indicateurs} <= {">=", "<=", "=", "maintien", ""}
    for row in indicateurs:
        assert bool(row["cible_comparateur"]) == bool(row["cible_valeur"]), row["code"]


def test_mandatory_text_columns_are_filled(indicateurs):
    for row in indicateurs:
        for column in ("convention", "objectif_strategique", "objectif_operationnel", "libelle"):
            assert row[column].strip() == row[column] and row[column], (row["code"], column)


def test_indicator_labels_occur_in_the_seed_text(indicateurs):
    seed = _seed_text(SEED_2014)
    for row in indicateurs:
        start = _normalise(row["libelle"])[:25]
        assert start in seed, (row["code"], start)


def test_indicator_labels_occur_in_full_in_the_seed_text(indicateurs):
    seed = _seed_text(SEED_2014)
    for row in indicateurs:
        assert _normalise(row["libelle"]) in seed, row["code"]


# --- mesures_2018.csv ----------------------------------------------------------------------------


def test_40_measures_with_unique_numbers_and_sub_measures(mesures):
    numeros = [row["numero"] for row in mesures]
    assert len(set(numeros)) == len(numeros)
    assert [n for n in numeros if n.isdigit()] == [str(i) for i in range(1, 41)]
    assert "1.a" in numeros and "1.b" in numeros
    sub_measures = [n for n in numeros if not n.isdigit()]
    assert sub_measures == ["1.a", "1.b"]
    assert len(_main_measures(mesures)) == 40


def test_measure_statuses_use_the_four_levels(mesures):
    assert {row["statut"] for row in mesures} <= set(STATUTS)
    for row in mesures:
        for column in MESURES_HEADER:
            assert row[column], (row["numero"], column)


def test_status_counts_and_percentages(mesures):
    main = _main_measures(mesures)
    counts = Counter(row["statut"] for row in main)
    assert dict(counts) == EXPECTED_STATUS_COUNTS
    assert {status: _percent(n, len(main)) for status, n in counts.items()} == EXPECTED_STATUS_PERCENTS


def test_status_summary_matches_the_seed_table(mesures):
    seed = _seed_text(SEED_2018)
    main = _main_measures(mesures)
    counts = Counter(row["statut"] for row in main)
    for status in STATUTS:
        line = f"{status} {counts[status]} {_percent(counts[status], len(main))} %"
        assert line in seed, line
    assert f"TOTAL {len(main)} 100 %" in seed


def test_measure_labels_occur_in_the_seed_text(mesures):
    seed = _seed_text(SEED_2018)
    for row in mesures:
        assert _normalise(row["libelle"]) in seed, row["numero"]


# --- mesures_2018_indicateurs.csv ----------------------------------------------------------------


def test_every_indicator_references_an_existing_measure(mesures, mesures_indicateurs):
    numeros = {row["numero"] for row in mesures}
    for row in mesures_indicateurs:
        assert row["numero_mesure"] in numeros, row


def test_every_measure_has_at_least_one_indicator(mesures, mesures_indicateurs):
    assert {row["numero"] for row in mesures} == {row["numero_mesure"] for row in mesures_indicateurs}


def test_measure_indicator_keys_are_unique(mesures_indicateurs):
    keys = [(row["numero_mesure"], row["rang"]) for row in mesures_indicateurs]
    assert len(set(keys)) == len(keys)
    assert all(re.fullmatch(r"\d+(\.\d+)?", rang) for _, rang in keys)


def test_measure_indicator_targets(mesures_indicateurs):
    for row in mesures_indicateurs:
        if row["cible_valeur"]:
            assert _is_number(row["cible_valeur"]), row
            assert row["cible_texte"] and row["cible_unite"], row
        if row["cible_horizon"]:
            assert re.fullmatch(r"\d{4}", row["cible_horizon"]), row
    targets = {
        (row["numero_mesure"], row["rang"]): (row["cible_valeur"], row["cible_unite"], row["cible_horizon"])
        for row in mesures_indicateurs
    }
    # Garantie jeunes, E2C and EPIDE shares of QPV residents (measure 19).
    assert targets["19", "1.1"] == ("20", "%", "")
    assert targets["19", "1.2"] == ("40", "%", "")
    assert targets["19", "1.3"] == ("50", "%", "2021")


def test_measure_indicator_labels_occur_in_the_seed_text(mesures_indicateurs):
    seed = _seed_text(SEED_2018)
    for row in mesures_indicateurs:
        assert _normalise(row["libelle"]) in seed, (row["numero_mesure"], row["rang"])
        if row["cible_texte"]:
            assert _normalise(row["cible_texte"]) in seed, (row["numero_mesure"], row["rang"])


# ---------------------------------------------------------------- what each indicator counts


def test_every_indicator_says_what_it_counts_and_only_people_and_households_are_secret():
    import json

    from etl.config import PROJECT_ROOT
    from etl.referentiels.catalogue import SECRET_UNITS, STATISTICAL_UNITS

    with (CATALOGUE / "indicateurs_2014.csv").open(encoding="utf-8", newline="") as handle:
        units = {row["code"]: row["unite_statistique"] for row in csv.DictReader(handle, delimiter=";")}
    assert set(units.values()) <= set(STATISTICAL_UNITS), set(units.values()) - set(STATISTICAL_UNITS)
    assert set(SECRET_UNITS) <= set(STATISTICAL_UNITS)
    # the rows suite refuses the same units the code knows (one list, checked here)
    suite = json.loads((PROJECT_ROOT / "expectations" / "catalogue_indicateurs.rows.json").read_text())
    [allowed] = [
        e["kwargs"]["value_set"] for e in suite["expectations"] if e["kwargs"].get("column") == "unite_statistique"
        and e["type"] == "expect_column_values_to_be_in_set"
    ]  # fmt: skip
    assert allowed == list(STATISTICAL_UNITS)
    # counts that are not people: ZSP, exploratory walks, chambers, crèche places, protocols, projects,
    # QPV, agents in post, euros
    not_people = {"IND05": "qpv", "IND09": "agents", "IND12": "zones", "IND14": "structures", "IND15": "qpv",
                  "IND16": "places", "IND17": "actions", "IND18": "qpv", "IND22": "euros", "IND27": "actes",
                  "IND28": "actes", "IND30": "structures", "IND31": "projets"}  # fmt: skip
    assert {code: units[code] for code in not_people} == not_people
    people = {"IND01", "IND02", "IND03", "IND04", "IND06", "IND19", "IND20", "IND21", "IND23", "IND29"}
    assert {code for code, unit in units.items() if unit in SECRET_UNITS} == people


def test_every_operator_statistic_says_what_it_counts():
    from etl.referentiels.catalogue import SECRET_UNITS, STATISTICAL_UNITS

    with (CATALOGUE / "indicateurs_operateurs.csv").open(encoding="utf-8", newline="") as handle:
        units = {row["code"]: row["unite_statistique"] for row in csv.DictReader(handle, delimiter=";")}
    assert set(units.values()) <= set(STATISTICAL_UNITS)
    # job seekers and people covered are people; CAF recipients are households; contact points and crèche places
    # are not people (published as they are)
    assert {code for code, unit in units.items() if unit == "personnes"} == {
        "FT_DEFM_A", "FT_DEFM_ABC", "FT_DEFM_QPV_A", "FT_DEFM_QPV_ABC", "FT_DEFM_INDIV_A", "FT_DEFM_INDIV_ABC",
        "CAF_PERSONNES_COUVERTES"}  # fmt: skip
    assert {code for code, unit in units.items() if unit == "foyers"} == {
        "CAF_ALLOCATAIRES", "CAF_RSA", "CAF_AAH", "CAF_AIDE_LOGEMENT"}  # fmt: skip
    assert (units["FT_POINTS_CONTACT"], units["CAF_PLACES_EAJE"]) == ("structures", "places")
    # INSEE's population of a QPV is a published census population: its own unit, never masked
    assert units["INSEE_POP_QPV"] == "habitants" and "habitants" not in SECRET_UNITS
