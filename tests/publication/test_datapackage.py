"""The Data Package of an edition (etl/publication/datapackage.py, written by etl/publication/editions.py).

A small table with every role is published into a temporary folder; the package is read back as JSON and its
expected properties are written out by hand; the CSV header is read with the csv module, hashes recomputed with
hashlib. Frictionless (the library and its command line) must find the package valid, and invalid once a CSV file
is broken (an unknown marker in a number cell, a repeated key, a changed file): so the check can fail.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from frictionless import Package, validate

from etl.publication import editions
from etl.publication.tables import LICENCE, Column, Table

NAN = math.nan
EDITION = "semestrielle-2024-S1-20240815T040000Z"
METADATA = {
    "kind": "semestrielle",
    "period": "2024-S1",
    "released_at": "2024-08-15T06:00:00+02:00",
    "sources": [
        {"batch_id": 3, "source_id": "france_travail_defm", "producer": "France Travail", "partition": "2024-07"},
        {"batch_id": 2, "source_id": "france_travail_defm", "producer": "France Travail", "partition": "2024-06"},
        {"batch_id": 9, "source_id": "paqte", "producer": None, "partition": "69/2024-S1"},
    ],
}
FRICTIONLESS = Path(sys.executable).with_name("frictionless")


def dashboard() -> Table:
    columns = (
        Column("niveau", "Code niveau", "code", "", "france ou region."),
        Column("code_territoire", "Code territoire", "code", "", "Code INSEE."),
        Column("territoire", "Territoire", "label", "", "Nom du territoire."),
        Column("annee", "Année", "period", "", "Année."),
        Column("semestre", "Semestre", "period", "", "Semestre."),
        Column("mois", "Mois", "period", "", "Mois de fin de semestre."),
        Column("date_etat", "Date de l'état", "period", "", "Date."),
        Column("demandeurs", "Demandeurs d'emploi", "count", "nombre", "Demandeurs.", "personnes"),
        Column("part", "Part en QPV", "share", "%", "Part en %."),
        Column("montant", "Montant", "amount", "euros", "Montant."),
        Column("statut", "Statut", "status", "", "Statut de la ligne."),
        Column("note", "=Note", "text", "", "Un en-tête qui ressemble à une formule."),
    )
    frame = pd.DataFrame(
        [
            ("france", "FR", "France", 2024, "2024-S1", "2024-06", "2024-06-30", 12345, 12.5, 1234.5, "ok", "x"),
            ("region", "11", "Île-de-France", 2024, "2024-S1", "2024-06", None, NAN, NAN, 250.0, "masked", "s"),
            ("region", "84", "Auvergne-Rhône-Alpes", 2024, "2024-S1", "2024-06", None, 0, -1.25, NAN, "missing", ""),
        ],
        columns=[column.name for column in columns],
    )
    return Table("emploi_qpv", "Demandeurs d'emploi", "Tableau de bord.", columns, frame, ("niveau", "code_territoire"))


def published(tmp_path: Path, tables=None, metadata=METADATA) -> Path:
    return editions.write_edition(tmp_path / "publication", EDITION, tables or [dashboard()], metadata=metadata)


def _errors(path: Path) -> list[list]:
    return validate(str(path)).flatten(["rowNumber", "fieldName", "type"])


def test_the_package_describes_the_csv_files(tmp_path):
    folder = published(tmp_path)
    text = (folder / "datapackage.json").read_text(encoding="utf-8")
    package = json.loads(text)
    assert text == json.dumps(package, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert package["profile"] == "tabular-data-package"
    assert (package["name"], package["version"]) == ("semestrielle-2024-s1-20240815t040000z", EDITION)
    assert package["title"] == "Observatoire QPV, édition semestrielle 2024-S1"
    assert package["created"] == "2024-08-15T04:00:00Z"
    assert package["licenses"] == [{"name": "etalab-2.0", "path": LICENCE["url"], "title": LICENCE["name"]}]
    assert package["sources"] == [
        {"title": "France Travail", "source_id": "france_travail_defm", "vintages": ["2024-06", "2024-07"]},
        {"title": "paqte", "source_id": "paqte", "vintages": ["69/2024-S1"]},
    ]
    assert "« s » marque une valeur masquée" in package["description"]

    (resource,) = package["resources"]
    content = (folder / "emploi_qpv.csv").read_bytes()
    assert {key: resource[key] for key in ("name", "path", "format", "mediatype", "encoding", "bytes", "hash")} == {
        "name": "emploi_qpv",
        "path": "emploi_qpv.csv",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "bytes": len(content),
        "hash": "sha256:" + hashlib.sha256(content).hexdigest(),
    }
    assert resource["dialect"] == {
        "delimiter": ";",
        "lineTerminator": "\r\n",
        "quoteChar": '"',
        "doubleQuote": True,
        "header": True,
    }
    schema = resource["schema"]
    header = next(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    assert [field["name"] for field in schema["fields"]] == header  # the French headers, as written
    assert header[-1] == "'=Note"  # a formula-like header is written neutralised: the field is named so too
    fields = {field["column"]: field for field in schema["fields"]}
    assert fields["note"]["title"] == "=Note"
    assert schema["missingValues"] == ["", "s"]
    assert schema["primaryKey"] == ["Code niveau", "Code territoire"]
    assert fields["niveau"]["constraints"] == {"required": True}
    assert {name: field["type"] for name, field in fields.items()} == {
        "niveau": "string",
        "code_territoire": "string",
        "territoire": "string",
        "annee": "year",
        "semestre": "string",
        "mois": "yearmonth",
        "date_etat": "date",
        "demandeurs": "integer",
        "part": "number",
        "montant": "number",
        "statut": "string",
        "note": "string",
    }
    assert fields["demandeurs"] == {
        "name": "Demandeurs d'emploi",
        "title": "Demandeurs d'emploi",
        "description": "Demandeurs.",
        "column": "demandeurs",
        "role": "count",
        "unit": "nombre",
        "counts": "personnes",
        "type": "integer",
        "constraints": {"minimum": 0},
    }
    assert fields["part"]["decimalChar"] == fields["montant"]["decimalChar"] == ","
    assert fields["statut"]["constraints"] == {
        "enum": ["publiée", "secret statistique", "non disponible", "sans objet", "rupture de série"]
    }

    report = validate(str(folder / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    rows = Package(str(folder / "datapackage.json")).get_resource("emploi_qpv").read_rows()  # `s`: no value
    numbers = [(row["Demandeurs d'emploi"], row["Part en QPV"]) for row in rows]
    assert numbers == [(12345, 12.5), (None, None), (0, -1.25)]
    assert [row["'=Note"] for row in rows] == ["x", "s", None]  # `s` only marks a number: in a text it is a text
    assert fields["note"]["missingValues"] == [""] and "missingValues" not in fields["part"]


def test_a_count_with_a_fraction_is_a_number_and_an_empty_period_a_string(tmp_path):
    columns = (
        Column("code", "Code", "code"),
        Column("foyers", "Foyers", "count", "nombre", counts="foyers"),
        Column("periode", "Période", "period"),
    )
    frame = pd.DataFrame({"code": ["a", "b"], "foyers": [2.5, 3.0], "periode": [None, None]})
    folder = published(tmp_path, [Table("t", "T", "", columns, frame, ("code",))], metadata={})
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    assert "created" not in package and package["sources"] == []
    fields = {field["column"]: field for field in package["resources"][0]["schema"]["fields"]}
    assert (fields["foyers"]["type"], fields["foyers"]["decimalChar"]) == ("number", ",")
    assert fields["periode"]["type"] == "string"
    assert validate(str(folder / "datapackage.json")).valid


def test_a_table_whose_key_is_repeated_or_empty_is_refused(tmp_path):
    columns = (Column("code", "Code", "code"), Column("valeur", "Valeur", "count", "nombre", counts="structures"))
    home = tmp_path / "publication"
    repeated = Table("t", "T", "", columns, pd.DataFrame({"code": ["a", "a"], "valeur": [1, 2]}), ("code",))
    with pytest.raises(ValueError, match=r"lines 2 and 3 .* same key \('a',\)"):
        editions.write_edition(home, "x-1", [repeated], metadata={})
    empty = Table("t", "T", "", columns, pd.DataFrame({"code": ["a", None], "valeur": [1, 2]}), ("code",))
    with pytest.raises(ValueError, match="line 3 .* no value in its key"):
        editions.write_edition(home, "x-2", [empty], metadata={})
    assert not home.exists() or list(home.iterdir()) == []
    with pytest.raises(ValueError, match="key"):
        Table("t", "T", "", columns, pd.DataFrame({"code": ["a"], "valeur": [1]}), ("absente",))


def test_the_package_is_not_a_data_file_and_the_report_step_cannot_write_it(tmp_path):
    folder = published(tmp_path)
    assert "datapackage.json" not in editions.data_files_digest(folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["datapackage"]["file"] == "datapackage.json"
    assert manifest["tables"][0]["key"] == ["niveau", "code_territoire"]
    assert "datapackage.json" not in {entry["file"] for entry in manifest["files"]}

    def extra(staging: Path) -> None:
        (staging / "datapackage.json").write_text("{}")

    with pytest.raises(ValueError, match="cannot write datapackage.json"):
        editions.write_edition(tmp_path / "other", "x-1", [dashboard()], metadata={}, extra=extra)


def _broken_copy(folder: Path, target: Path, edit, *, rehash: bool) -> Path:
    """A writable copy of the edition whose emploi_qpv.csv went through `edit` (text -> text); with `rehash`, the
    package's hash and size follow the new file, so that only its content is wrong."""
    shutil.copytree(folder, target)
    target.chmod(0o755)
    for path in target.iterdir():
        path.chmod(0o644)
    data = target / "emploi_qpv.csv"
    data.write_bytes(edit(data.read_bytes().decode("utf-8")).encode("utf-8"))
    if rehash:
        package = json.loads((target / "datapackage.json").read_text(encoding="utf-8"))
        content = data.read_bytes()
        package["resources"][0].update(bytes=len(content), hash="sha256:" + hashlib.sha256(content).hexdigest())
        (target / "datapackage.json").write_text(json.dumps(package), encoding="utf-8")
    return target / "datapackage.json"


def test_frictionless_reports_a_broken_edition_invalid(tmp_path):
    folder = published(tmp_path)
    assert _errors(folder / "datapackage.json") == []

    def x_for_s(text: str) -> str:  # a masked cell marked `x` instead of `s`
        return text.replace(";Île-de-France;2024;2024-S1;2024-06;;s;s;", ";Île-de-France;2024;2024-S1;2024-06;;x;s;")

    original = (folder / "emploi_qpv.csv").read_text(encoding="utf-8")
    assert x_for_s(original) != original
    marked_x = _broken_copy(folder, tmp_path / "x", x_for_s, rehash=True)
    assert _errors(marked_x) == [[3, "Demandeurs d'emploi", "type-error"]]

    def repeated_key(text: str) -> str:
        return text.replace(";84;Auvergne-Rhône-Alpes;", ";11;Auvergne-Rhône-Alpes;")

    assert _errors(_broken_copy(folder, tmp_path / "key", repeated_key, rehash=True)) == [[4, None, "primary-key"]]

    def unknown_status(text: str) -> str:
        return text.replace(";non disponible;", ";inconnu;")

    assert _errors(_broken_copy(folder, tmp_path / "status", unknown_status, rehash=True)) == [
        [4, "Statut", "constraint-error"]
    ]
    # the same broken file with the package left as published: its hash and size no longer match either
    stale = {error[2] for error in _errors(_broken_copy(folder, tmp_path / "stale", x_for_s, rehash=False))}
    assert stale == {"type-error", "hash-count"}


def test_the_frictionless_command_validates_the_package(tmp_path):
    folder = published(tmp_path)
    done = subprocess.run(
        [str(FRICTIONLESS), "validate", str(folder / "datapackage.json")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0 and "VALID" in done.stdout and "INVALID" not in done.stdout, done.stdout + done.stderr
    broken = _broken_copy(folder, tmp_path / "broken", lambda text: text.replace(";s;s;", ";x;s;"), rehash=False)
    done = subprocess.run(
        [str(FRICTIONLESS), "validate", str(broken)], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode != 0 and "INVALID" in done.stdout and "hash-count" in done.stdout, done.stdout
