"""A source in one place: from each registry entry, everything specific to it is reachable and exists.

One test per step of the README's "Add a source" walk-through; each fails naming the entry and what is missing.
The functions are imported here, never when the registry is read (DAG files parse it).
"""

from __future__ import annotations

import csv
import importlib
import inspect
import re

import pytest

from etl.config import PROJECT_ROOT, SQL_FOLDER
from etl.sources import registry

ENTRIES = registry.all_sources()[0]
MIGRATIONS = SQL_FOLDER / "migrations" / "versions"
CATALOGUE_FILES = ("indicateurs_2014.csv", "indicateurs_operateurs.csv")


def _resolves(entry: registry.Source, dotted: str | None) -> str | None:
    """None when `dotted` names a callable, else what is wrong."""
    if dotted is None:
        return "not declared"
    module, _, name = dotted.partition(":")
    try:
        target = getattr(importlib.import_module(module), name, None)
    except ImportError as exc:
        return f"{dotted}: module does not import ({exc})"
    return None if callable(target) else f"{dotted}: no function {name!r} in {module}"


def test_the_registry_is_valid():
    assert registry.all_sources()[1] == {}


def test_reader_normaliser_and_partition_of_every_file_entry_are_functions():
    missing = []
    for entry in ENTRIES.values():
        if entry.kind != "file":
            continue
        for field in ("reader", "normaliser", "partition"):
            dotted = getattr(entry, field)
            if field == "partition" and dotted and dotted.startswith("literal:"):
                continue
            if problem := _resolves(entry, dotted):
                missing.append(f"{entry.id}.{field}: {problem}")
    assert not missing, missing


def test_a_workbook_entry_declares_no_reader_and_names_its_dag():
    workbooks = {e.id: e for e in ENTRIES.values() if e.kind == "workbook"}
    assert sorted(workbooks) == ["paqte", "regional"]
    assert all(e.reader is e.normaliser is e.partition is None and e.dag for e in workbooks.values())


def test_suites_and_core_sql_exist():
    missing = [f"{e.id}: {path}" for e in ENTRIES.values() for path in e.declared_files() if not path.is_file()]
    assert not missing, missing


def test_raw_and_staging_tables_are_created_by_a_migration():
    created = set()
    for path in MIGRATIONS.glob("*.sql"):
        text = path.read_text(encoding="utf-8")
        created |= {m.lower() for m in re.findall(r"CREATE\s+(?:UNLOGGED\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"
                                                  r"((?:raw|staging)\.\w+)", text, re.IGNORECASE)}  # fmt: skip
    missing = [
        f"{e.id}: {table} (no CREATE TABLE in {MIGRATIONS.relative_to(PROJECT_ROOT)})"
        for e in ENTRIES.values()
        for table in [e.raw_table, *e.staging_tables.values()]
        if table not in created
    ]
    assert not missing, missing


def test_every_entry_has_a_sample_generator_or_its_repository_files():
    missing = []
    for entry in ENTRIES.values():
        if entry.repository_files:
            assert entry.sample is None, f"{entry.id}: a repository-file source needs no generator"
            continue
        if problem := _resolves(entry, entry.sample):
            missing.append(f"{entry.id}.sample: {problem}")
        elif not entry.sample.startswith("etl.samples.generators."):
            missing.append(f"{entry.id}.sample: {entry.sample} is not under etl/samples/generators/")
    assert not missing, missing


def test_the_sample_generators_are_the_ones_the_demo_uses():
    """The demo writes every source's files with the generator its entry names."""
    from etl.samples import demo_data

    demo = inspect.getsource(demo_data)
    missing = []
    for entry in ENTRIES.values():
        if entry.sample:
            module, _, name = entry.sample.partition(":")
            if f".{name}(" not in demo or module.rsplit(".", 1)[-1] not in demo:
                missing.append(f"{entry.id}: etl/samples/demo_data.py never calls {name}() of {module}")
    assert not missing, missing


def test_the_indicators_an_entry_emits_are_in_the_catalogue_and_in_its_code():
    codes = set()
    for name in CATALOGUE_FILES:
        with (PROJECT_ROOT / "catalogue" / name).open(encoding="utf-8") as fh:
            codes |= {row["code"] for row in csv.DictReader(fh, delimiter=";")}
    missing = []
    for entry in ENTRIES.values():
        code_texts = [(SQL_FOLDER / "core" / name).read_text(encoding="utf-8") for name in entry.core_sql]
        if entry.normaliser:
            code_texts.append(inspect.getsource(importlib.import_module(entry.normaliser.partition(":")[0])))
        for code in entry.indicators:
            if code not in codes:
                missing.append(f"{entry.id}: {code} is in no file of catalogue/ ({', '.join(CATALOGUE_FILES)})")
            elif not any(code in text for text in code_texts):
                missing.append(f"{entry.id}: {code} appears neither in its normaliser's module nor in its core SQL")
    assert not missing, missing


@pytest.mark.parametrize("entry", [e for e in ENTRIES.values() if e.dag is None], ids=lambda e: e.id)
def test_an_entry_with_its_own_dag_has_tags_from_the_vocabulary(entry):
    vocabulary = registry.tag_vocabulary()
    assert entry.tags, f"{entry.id}: give its DAG tags (registry.yaml, tags: of the entry)"
    assert set(entry.tags) <= set(vocabulary), f"{entry.id}: tags {set(entry.tags) - set(vocabulary)} not declared"


def test_every_file_entry_declares_its_layouts_the_real_ones_first():
    wrong = {}
    for entry in ENTRIES.values():
        if entry.kind == "workbook":
            continue  # the platform's workbook template, checked cell by cell (etl/submissions)
        kinds = [layout.real for layout in entry.layouts]
        if not kinds:
            wrong[entry.id] = "declares no layout"
        elif kinds != sorted(kinds, reverse=True):
            wrong[entry.id] = "a platform layout comes before a real one"
    assert not wrong, wrong


def test_the_layouts_of_the_readers_that_do_not_match_headers_are_the_columns_they_check():
    """The streamed extract and the GeoJSON perimeters are not read through etl/sources/layouts.py: their declared
    layout must be the columns (properties) their reader checks."""
    from etl.sources import anct_perimetres, france_travail_individus

    [extract] = ENTRIES["france_travail_individus"].layouts
    assert tuple(extract.columns) == france_travail_individus.COLUMNS
    [perimeters] = ENTRIES["anct_qpv_perimetres"].layouts
    assert tuple(perimeters.columns) == anct_perimetres.PROPERTIES
    required = tuple(name for name, column in perimeters.columns.items() if column.required)
    assert required == anct_perimetres.REQUIRED_PROPERTIES
