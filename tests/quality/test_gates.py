"""Great Expectations gates: every suite passes on good data and blocks bad data, naming line and column."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from etl.config import EXPECTATIONS_FOLDER, PROJECT_ROOT
from etl.quality import gates
from etl.referentiels import territories
from etl.sources.registry import all_sources


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    from etl.samples.generators.territories import generate

    out = tmp_path_factory.mktemp("territories")
    return {p.name: p for p in generate(out)}


@pytest.fixture(scope="module")
def reference_values():
    import pandas as pd

    regions = pd.read_csv(PROJECT_ROOT / "catalogue/regions.csv", sep=";", dtype=str)["code"].tolist()
    departements = pd.read_csv(PROJECT_ROOT / "catalogue/departements.csv", sep=";", dtype=str)["code"].tolist()
    return {"regions": regions, "departements": departements}


def _gates(entry, path, parameters):
    raw = entry.resolve(entry.reader)(path)
    results = [gates.run_suite(entry.suites.file, raw, gate="file")]
    staged = entry.resolve(entry.normaliser)(raw)
    for frame, suite in entry.suites.rows.items():
        results.append(gates.run_suite(suite, staged[frame], gate="rows", parameters=parameters))
    return results, staged


def test_every_suite_file_is_valid_gx_json_named_after_its_file():
    names = [p.name.removesuffix(".json") for p in EXPECTATIONS_FOLDER.glob("*.json")]
    assert names
    for name in names:
        suite = gates.load_suite(name)
        assert suite["expectations"], name
        for expectation in suite["expectations"]:
            assert expectation["type"].startswith("expect_")
            assert expectation["severity"] in ("critical", "warning", "info")


def test_suite_code_patterns_are_the_reader_module_constants():
    qpv_rows = json.loads((EXPECTATIONS_FOLDER / "anct_qpv.rows.json").read_text())
    regex = next(e["kwargs"]["regex"] for e in qpv_rows["expectations"] if e["kwargs"].get("column") == "code_qp")
    assert territories.QP2015_PATTERN[1:-1] in regex and territories.QP2024_PATTERN[1:-1] in regex
    communes = json.loads((EXPECTATIONS_FOLDER / "anct_qpv_commune.rows.json").read_text())
    assert any(e["kwargs"].get("regex") == territories.COMMUNE_PATTERN for e in communes["expectations"])


def test_repository_reference_files_pass_their_gates(reference_values):
    valid, _ = all_sources()
    for source_id in ("cog_regions", "cog_departements", "catalogue_indicateurs", "catalogue_mesures"):
        entry = valid[source_id]
        path = PROJECT_ROOT / entry.repository_files[0]
        results, _ = _gates(entry, path, reference_values)
        failures = [o.describe() for r in results for o in r.blocking_failures]
        assert failures == [], (source_id, failures)


def test_generated_qpv_lists_pass_their_gates(generated, reference_values):
    entry = all_sources()[0]["anct_qpv"]
    for name in ("qpv_2015.csv", "qpv_2024.csv"):
        results, staged = _gates(entry, generated[name], reference_values)
        assert all(r.passed for r in results), [o.describe() for r in results for o in r.blocking_failures]
        assert len(staged["qpv"]) > 1400


def test_generated_correspondence_passes_with_the_generated_codes(generated, reference_values):
    import pandas as pd

    qpv15 = pd.read_csv(generated["qpv_2015.csv"], sep=";", dtype=str)["code_qp"].tolist()
    qpv24 = pd.read_csv(generated["qpv_2024.csv"], sep=";", dtype=str)["code_qp"].tolist()
    entry = all_sources()[0]["anct_qpv_correspondance"]
    results, _ = _gates(entry, generated["qpv_correspondance_2015_2024.csv"], {"qpv_2015": qpv15, "qpv_2024": qpv24})
    assert all(r.passed for r in results)
    results, _ = _gates(
        entry, generated["qpv_correspondance_2015_2024.csv"], {"qpv_2015": qpv15[1:], "qpv_2024": qpv24}
    )
    [failure] = [o for r in results for o in r.blocking_failures]
    assert failure.column == "code_qp_2015" and failure.unexpected_count == 1
    assert failure.sample[0]["value"] == qpv15[0] and failure.sample[0]["line_no"] >= 2


def test_a_warning_does_not_block(reference_values, tmp_path):
    entry = all_sources()[0]["anct_qpv"]
    path = tmp_path / "small.csv"
    path.write_text(
        "code_qp;lib_qp;insee_reg;lib_reg;insee_dep;lib_dep;insee_com;lib_com;siren_epci;lib_epci\n"
        "QP075001;Les Portes;11;IDF;75;Paris;75056;Paris;200054781;MGP\n"
    )
    results, _ = _gates(entry, path, reference_values)
    warnings = [o for r in results for o in r.warnings]
    assert all(r.passed for r in results)
    assert [w.expectation_type for w in warnings] == ["expect_table_row_count_to_be_between"]


CORRUPTIONS = {
    # source: (original text, replacement, column expected in the failure)
    "cog_regions": ("\n84;", "\n8A;", "code"),
    "cog_departements": (";84\n", ";99\n", "code_region"),
    "catalogue_indicateurs": (";national;", ";regional;", "mode"),
    "catalogue_mesures": (";En cours de lancement;", ";Bientôt;", "statut"),
}


@pytest.mark.parametrize("source_id", sorted(CORRUPTIONS))
def test_repository_sources_block_a_corrupted_line(source_id, reference_values, tmp_path):
    entry = all_sources()[0][source_id]
    original = (PROJECT_ROOT / entry.repository_files[0]).read_text(encoding="utf-8")
    old, new, column = CORRUPTIONS[source_id]
    assert old in original, f"fixture no longer matches {entry.repository_files[0]}"
    position = original.index(old)
    expected_line = (
        original.count("\n", 0, position) + 2 if old.startswith("\n") else original.count("\n", 0, position) + 1
    )
    path = tmp_path / (PROJECT_ROOT / entry.repository_files[0]).name
    path.write_text(original.replace(old, new, 1), encoding="utf-8")
    results, _ = _gates(entry, path, reference_values)
    failures = [o for r in results for o in r.blocking_failures]
    assert [f.column for f in failures] == [column]
    assert failures[0].sample[0]["line_no"] == expected_line


def test_a_failure_sample_holding_nan_is_stored_as_null_json():
    """A not-null check on a text column reports its empty cells as NaN (pandas): the sample must still be valid
    JSON for the audit table (PostgreSQL's jsonb refuses NaN), the empty cell as null."""
    result = {
        "partial_unexpected_index_list": [{"line_no": 7, "observations": float("nan")}, {"line_no": 9, "x": 1.5}],
    }
    sample = gates._sample(result, "line_no")
    assert sample == [{"line_no": 7, "value": None}, {"line_no": 9, "value": 1.5}]
    json.dumps(sample, allow_nan=False)
    assert gates._sample({"partial_unexpected_list": [float("inf"), "a"]}, "line_no") == [
        {"value": None},
        {"value": "a"},
    ]


def _departements(region: str):
    import pandas as pd

    frame = pd.read_csv(PROJECT_ROOT / "catalogue/departements.csv", sep=";", dtype=str).head(4)
    frame.insert(0, "line_no", range(2, 2 + len(frame)))
    frame["code_region"] = region
    return frame


def test_a_referential_rule_names_its_referential_and_each_unknown_code_with_its_line():
    passing = gates.run_suite("cog_departements.rows", _departements("84"), gate="rows", parameters={"regions": ["84"]})
    (rule,) = [o for o in passing.outcomes if o.kwargs.get("referential") == "regions"]
    assert rule.success and rule.expectation_type == "expect_column_values_to_be_in_referential"
    failing = gates.run_suite("cog_departements.rows", _departements("99"), gate="rows", parameters={"regions": ["84"]})
    (failed,) = [o for o in failing.blocking_failures if o.kwargs.get("referential") == "regions"]
    assert failed.unexpected_count == 4 and [s["line_no"] for s in failed.sample] == [2, 3, 4, 5]
    assert failed.kwargs == {"column": "code_region", "referential": "regions"}  # the name, never the list
    assert "referential=regions" in failed.describe() and "line 2 ('99')" in failed.describe()


def test_a_referential_not_read_from_the_warehouse_fails_its_rule_rather_than_passing():
    result = gates.run_suite("cog_departements.rows", _departements("84"), gate="rows", parameters={})
    assert [o.kwargs.get("referential") for o in result.blocking_failures if o.column == "code_region"] == ["regions"]


def test_gx_starts_without_running_scipy_stats_or_altair_which_still_work_on_first_use(tmp_path):
    code = (
        "import sys\n"
        "from etl.quality import gates\n"
        f"gates.gx_context({str(tmp_path)!r})\n"
        "deferred = [type(sys.modules[name]).__name__ for name in ('scipy.stats', 'altair')]\n"
        "from scipy import stats\n"
        "import altair\n"
        "chart = altair.Chart().mark_bar().to_dict()['mark']\n"
        "print(*deferred, round(float(stats.entropy([0.5, 0.5], [0.9, 0.1])), 4), chart['type'],\n"
        "      type(sys.modules['altair']).__name__, sys.modules['scipy'].stats is sys.modules['scipy.stats'])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    stats_before, altair_before, entropy, mark, altair_after, same_stats = result.stdout.split()
    assert (stats_before, altair_before) == ("DeferredModule", "DeferredModule")  # imported by GX, not executed
    assert float(entropy) == round(math.log(5 / 3), 4)  # KL divergence of (1/2, 1/2) from (9/10, 1/10)
    assert mark == "bar" and altair_after == "module"  # the real module replaced the entry on first use
    assert same_stats == "True"  # the parent package's attribute is the real module too


def _stored(keys_before: set):
    """The validation results stored since `keys_before`, read back from GX's store."""
    from etl.config import Home

    store = gates.gx_context(str(Home.from_env().root)).validation_results_store
    return [store.get(key) for key in gates.validation_keys() - keys_before]


def test_each_validation_stores_one_result_and_asks_for_line_numbers_only_when_a_row_is_unexpected(reference_values):
    """A clean frame is validated once with counts alone (GX's BASIC format); a frame with an unexpected row is
    validated again for its rows' line numbers, and that result replaces the first in the store."""
    import pandas as pd

    every = pd.read_csv(PROJECT_ROOT / "catalogue/departements.csv", sep=";", dtype=str)
    every.insert(0, "line_no", range(2, 2 + len(every)))
    known = gates.validation_keys()
    passing = gates.run_suite(
        "cog_departements.rows", every, gate="rows", parameters={"regions": reference_values["regions"]}
    )
    [stored] = _stored(known)
    assert stored.success and passing.passed and not passing.warnings
    assert all(r.result["unexpected_count"] == 0 for r in stored.results if "column" in r.expectation_config.kwargs)
    assert not any("partial_unexpected_index_list" in r.result for r in stored.results)  # the cheap pass was enough

    known = gates.validation_keys()
    failing = gates.run_suite("cog_departements.rows", _departements("99"), gate="rows", parameters={"regions": ["84"]})
    [stored] = _stored(known)
    rule = next(r for r in stored.results if r.expectation_config.kwargs.get("referential") == "regions")
    assert not rule.success and [row["line_no"] for row in rule.result["partial_unexpected_index_list"]] == [2, 3, 4, 5]
    (failed,) = [o for o in failing.blocking_failures if o.column == "code_region"]
    assert [s["line_no"] for s in failed.sample] == [2, 3, 4, 5]


class _NoCache:
    """Stands for gates._CONFIGURATIONS with the cache off: GX builds every configuration at each read."""

    def set(self, _value):
        return None

    def reset(self, _token):
        return None

    def get(self):
        return None


def test_a_validation_builds_each_expectation_configuration_once_with_the_same_outcomes(monkeypatch, reference_values):
    import great_expectations as gx

    from etl.config import Home

    gates.gx_context(str(Home.from_env().root))  # the process's GX context makes the change to GX
    expectation = gx.expectations.ExpectColumnValuesToBeUnique(column="code")
    assert expectation.configuration is not expectation.configuration  # outside a validation: GX's own behaviour
    token = gates._CONFIGURATIONS.set({})
    try:
        assert expectation.configuration is expectation.configuration
    finally:
        gates._CONFIGURATIONS.reset(token)

    def outcomes():
        frames = [_departements("99"), _departements("84")]
        return [
            (o.expectation_type, o.column, o.success, o.unexpected_count, o.sample, o.kwargs, o.observed, o.describe())
            for frame in frames
            for o in gates.run_suite(
                "cog_departements.rows", frame, gate="rows", parameters={"regions": ["84"]}
            ).outcomes
        ]

    cached = outcomes()
    monkeypatch.setattr(gates, "_CONFIGURATIONS", _NoCache())
    assert outcomes() == cached
    assert any(not success for _, _, success, *_ in cached) and any(success for _, _, success, *_ in cached)


def test_a_referential_compares_arrow_strings_as_pandas_isin_does():
    import pandas as pd

    from etl.quality import referential

    codes = ["75056", "69123", "2A004"]
    frames = [
        pd.Series(["75056", None, "2A004", "99999", ""], index=[5, 6, 7, 8, 9]),  # pandas' Arrow strings
        pd.Series(["75056", None, "2A004", "99999", ""], dtype=object, index=[5, 6, 7, 8, 9]),
    ]
    with referential.lent({"communes": codes, "with_a_gap": [*codes, float("nan"), 12]}):
        results = [referential.is_in(column, "communes") for column in frames]
        again = referential.is_in(frames[0], "communes")  # the Arrow array made at the first use, reused
        gap = [referential.is_in(column, "with_a_gap") for column in frames]
    assert str(frames[0].dtype) == "str" and referential._ARROW == {}  # nothing kept after the validation
    for column, result in zip(frames, results, strict=True):
        assert result.tolist() == [True, False, True, False, False] == column.isin(codes).tolist()
        assert result.index.tolist() == [5, 6, 7, 8, 9]
    assert again.tolist() == results[0].tolist()
    assert gap[0].tolist() == [True, True, True, False, False] == frames[0].isin([*codes, float("nan")]).tolist()
