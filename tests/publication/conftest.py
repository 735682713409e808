"""Fixtures shared by the publication tests: the check of an edition's Data Package against the Frictionless library
and against the warehouse's primary keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

PRIMARY_KEY_SQL = (
    "SELECT a.attname FROM pg_constraint c "
    "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) "
    "WHERE c.conrelid = CAST(:table AS regclass) AND c.contype = 'p' ORDER BY array_position(c.conkey, a.attnum)"
)


@pytest.fixture(scope="session")
def released_datapackage():
    """`check(engine, folder)`: the edition in `folder` has a datapackage.json that Frictionless finds valid (no error
    at all), with one resource per table of its manifest whose primary key is the warehouse table's primary key
    without `edition_id`; returns the package (dict)."""
    from frictionless import validate

    def check(engine, folder: Path) -> dict:
        report = validate(str(folder / "datapackage.json"))
        errors = report.flatten(["taskNumber", "rowNumber", "fieldName", "type", "note"])
        assert report.valid and errors == [], errors[:20]
        assert report.stats["tasks"] == len(report.tasks) > 0
        package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        assert [resource["name"] for resource in package["resources"]] == [t["name"] for t in manifest["tables"]]
        with engine.connect() as conn:
            for resource in package["resources"]:
                key = conn.execute(sa.text(PRIMARY_KEY_SQL), {"table": f"publication.{resource['name']}"}).scalars()
                columns = {field["name"]: field["column"] for field in resource["schema"]["fields"]}
                declared = [columns[name] for name in resource["schema"].get("primaryKey", [])]
                assert ["edition_id", *declared] == list(key), resource["name"]
        return package

    return check
