"""The source registry: every declared entry is valid, and a broken entry fails only the DAG using it."""

from __future__ import annotations

import textwrap

import pytest

from etl.sources import registry


def test_every_declared_source_is_valid_and_its_files_exist():
    valid, broken = registry.all_sources()
    assert broken == {}
    assert {"cog_regions", "cog_departements", "anct_qpv", "catalogue_indicateurs"} <= set(valid)
    for entry in valid.values():
        assert all(path.is_file() for path in entry.declared_files())
        if entry.kind == "file":
            for dotted in (entry.reader, entry.normaliser):
                assert callable(entry.resolve(dotted)), dotted


def test_an_invalid_entry_is_reported_in_one_sentence_naming_it_and_the_field(tmp_path, monkeypatch):
    bad = tmp_path / "registry.yaml"
    good = registry.source_entry("cog_regions")
    import yaml

    document = {
        "tags": registry.tag_vocabulary(),
        "sources": {"good": good, "bad": {**good, "raw_table": "public.oops"}},
    }
    bad.write_text(yaml.safe_dump(document, allow_unicode=True))
    monkeypatch.setattr(registry, "REGISTRY_FILE", bad)
    registry.clear_cache()
    try:
        assert registry.source("good").raw_table == "raw.cog_region"
        with pytest.raises(registry.RegistryError, match=r"source 'bad' .* invalid at raw_table: .*raw.<table>"):
            registry.source("bad")
        valid, broken = registry.all_sources()
        assert set(valid) == {"good"} and set(broken) == {"bad"}
        with pytest.raises(registry.RegistryError, match="no source 'missing'"):
            registry.source("missing")
    finally:
        registry.clear_cache()


def test_a_dag_asking_for_a_broken_source_fails_alone(tmp_path):
    from airflow.dag_processing.dagbag import DagBag

    template = textwrap.dedent(
        """
        from airflow.sdk import dag
        from etl.orchestration.defaults import DEFAULT_ARGS, START_DATE
        from etl.orchestration.source_tasks import ingest_task

        @dag(dag_id="{dag_id}", schedule=None, start_date=START_DATE, default_args=DEFAULT_ARGS, tags=["t"])
        def build():
            ingest_task("{source}")()

        build()
        """
    )
    (tmp_path / "good_dag.py").write_text(template.format(dag_id="good", source="cog_regions"))
    (tmp_path / "broken_dag.py").write_text(template.format(dag_id="broken", source="no_such_source"))
    bag = DagBag(dag_folder=str(tmp_path))
    assert set(bag.dags) == {"good"}
    assert list(bag.import_errors) == [str(tmp_path / "broken_dag.py")]
    assert "no source 'no_such_source'" in next(iter(bag.import_errors.values()))


def _registry_with(tmp_path, monkeypatch, **entries):
    import yaml

    path = tmp_path / "registry.yaml"
    document = {"tags": registry.tag_vocabulary(), "sources": entries}
    path.write_text(yaml.safe_dump(document, allow_unicode=True))
    monkeypatch.setattr(registry, "REGISTRY_FILE", path)
    registry.clear_cache()


def test_a_file_entry_needs_its_functions_and_a_workbook_entry_its_dag(tmp_path, monkeypatch):
    good = registry.source_entry("cog_regions")
    workbook = registry.source_entry("regional")
    no_reader = {k: v for k, v in good.items() if k != "reader"}
    no_dag = {k: v for k, v in workbook.items() if k != "dag"}
    _registry_with(tmp_path, monkeypatch, no_reader=no_reader, workbook=workbook, no_dag=no_dag)
    try:
        assert registry.source("workbook").reader is None
        with pytest.raises(registry.RegistryError, match=r"source 'no_reader' .*a file entry needs reader"):
            registry.source("no_reader")
        with pytest.raises(registry.RegistryError, match=r"source 'no_dag' .*names the DAG"):
            registry.source("no_dag")
    finally:
        registry.clear_cache()


def test_a_tag_outside_the_vocabulary_is_refused_naming_it(tmp_path, monkeypatch):
    caf = registry.source_entry("caf_creches")
    _registry_with(tmp_path, monkeypatch, odd={**caf, "tags": ["caf", "creches"]})
    try:
        with pytest.raises(registry.RegistryError, match=r"source 'odd' .* at tags: creches not declared"):
            registry.source("odd")
    finally:
        registry.clear_cache()


def test_the_disclosure_field_is_gone(tmp_path, monkeypatch):
    """Publication's secrecy rules come from the catalogue's unit per indicator, not from the registry."""
    _registry_with(tmp_path, monkeypatch, old={**registry.source_entry("caf_creches"), "disclosure": {"applies": True}})
    try:
        with pytest.raises(registry.RegistryError, match=r"source 'old' .* at disclosure"):
            registry.source("old")
    finally:
        registry.clear_cache()
