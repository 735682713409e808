"""The Frictionless Data Package (`datapackage.json`) of an edition: the edition's CSV files described for data tools.

`descriptor(edition_id, tables, csv_files, metadata)` gives the package (Data Package 1.0, profile
`tabular-data-package`) from the same `Table` / `Column` metadata as the files, and from the CSV bytes themselves,
so that it describes what the files hold:

- the package: `name` (the edition id in lower case), `title` and `description` in French, `version` (the edition
  id), `created` (the metadata's `released_at`, in UTC), `licenses` (`tables.LICENCE`, with its SPDX id
  `etalab-2.0`), `sources` (one per input source of the metadata's `sources`: the producer as `title`, the source
  id and the vintages, i.e. the partitions delivered) and one resource per table;
- a resource: the table's CSV file (`path`, `format`, `mediatype`, `encoding`, `dialect`: `;`, CRLF, `"`), its
  size (`bytes`) and `hash` (`sha256:<hex>`), and its Table Schema. The encoding is declared `utf-8`, the IANA name
  the specification asks for: the byte order mark the files start with (for Excel) is skipped by the readers
  (Frictionless included), and `utf-8-sig` is only a Python codec name;
- a field: `name` is the CSV header exactly as the file writes it (the French header, with the apostrophe a
  formula-like header gets), since Frictionless matches fields to the header row by name; `title` is the header,
  `description` the column's; the technical name (the Parquet and warehouse column) is the custom property
  `column`, with `role`, `unit` and `counts` beside it. The type follows the role and what the exports wrote:
  counts are `integer` (`number` when one is not whole, as in the Parquet file), amounts, shares and rates `number`
  with `decimalChar` `,`; a period column is `year`, `yearmonth` or `date` when every value written has that form,
  else `string`, like codes, labels and texts; a status column is a `string` whose values are the statuses' French
  words (`enum`). Counts have the constraint `minimum` 0. The schema's `missingValues` are `""` (no value) and `s`
  (secret statistique); a field that is not a number says its own, `""` only (field-level missing values, which
  Frictionless 5 and Table Schema 2 read), so that a text `s` stays a text;
- the `primaryKey` is the table's `key` (headers), checked here: a table whose key is empty or repeated in its CSV
  file is refused (ValueError).

The package only names files (no path outside the edition folder); it changes with the edition (`version`,
`created`), so it is not a data file (`editions.data_files_digest` leaves it out, like the manifest).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

from etl.publication import exports
from etl.publication.tables import LICENCE, NUMERIC_ROLES, SECRECY_RULE, STATUS_LABELS, STATUSES, Column, Table

DATAPACKAGE = "datapackage.json"
LICENCE_ID = "etalab-2.0"  # the SPDX identifier of the Licence Ouverte / Open Licence 2.0
ENCODING = "utf-8"
MISSING_VALUES = ("", exports.MASKED_MARK)
DIALECT = {
    "delimiter": exports.CSV_DELIMITER,
    "lineTerminator": exports.CSV_LINE_END,
    "quoteChar": '"',
    "doubleQuote": True,
    "header": True,
}
KEYWORDS = ("politique de la ville", "quartiers prioritaires", "QPV", "statistiques publiques")

_YEAR = re.compile(r"\d{4}")
_YEARMONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _is_date(text: str) -> bool:
    if not _DATE.fullmatch(text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


_PERIOD_TYPES = (  # the first that every value written has the form of
    ("year", _YEAR.fullmatch),
    ("yearmonth", _YEARMONTH.fullmatch),
    ("date", _is_date),
)
_WHOLE = re.compile(r"-?\d+")


def _rows(table: Table, content: bytes) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of a table's CSV file, as a reader sees them."""
    reader = csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=exports.CSV_DELIMITER)
    header, *rows = list(reader)
    expected = [exports.neutralised(column.header) for column in table.columns]
    if header != expected:
        raise ValueError(f"Table {table.name}: its CSV header ({header}) is not its columns' headers ({expected}).")
    return header, rows


def _field_type(column: Column, values: list[str]) -> dict[str, Any]:
    written = [value for value in values if value not in MISSING_VALUES]
    if column.role == "count":
        kind = "integer" if all(_WHOLE.fullmatch(value) for value in written) else "number"
        return {"type": kind, "constraints": {"minimum": 0}} | ({"decimalChar": ","} if kind == "number" else {})
    if column.role in NUMERIC_ROLES:
        return {"type": "number", "decimalChar": ","}
    if column.role == "status":
        return {"type": "string", "constraints": {"enum": [STATUS_LABELS[status] for status in STATUSES]}}
    if column.role == "period" and written:
        for kind, has_form in _PERIOD_TYPES:
            if all(has_form(value) for value in written):
                return {"type": kind}
    return {"type": "string"}


def _field(column: Column, name: str, values: list[str], in_key: bool) -> dict[str, Any]:
    field: dict[str, Any] = {"name": name, "title": column.header, "column": column.name, "role": column.role}
    field |= _field_type(column, values)
    if column.description:
        field["description"] = column.description
    if column.unit:
        field["unit"] = column.unit
    if column.counts:
        field["counts"] = column.counts
    if column.role not in NUMERIC_ROLES:  # `s` is a text there (readers of Table Schema 1.0 only: a missing value)
        field["missingValues"] = [""]
    if in_key:
        field["constraints"] = {**field.get("constraints", {}), "required": True}
    return field


def _checked_key(table: Table, header: list[str], rows: list[list[str]]) -> list[str]:
    """The headers of the table's key, after checking that it identifies every row of the file."""
    positions = [[column.name for column in table.columns].index(name) for name in table.key]
    seen: dict[tuple[str, ...], int] = {}
    for number, row in enumerate(rows, start=2):
        values = tuple(row[position] for position in positions)
        if any(value in MISSING_VALUES for value in values):
            raise ValueError(f"Table {table.name}: line {number} of its CSV file has no value in its key {values}.")
        if values in seen:
            raise ValueError(
                f"Table {table.name}: lines {seen[values]} and {number} of its CSV file have the same key {values} "
                f"({', '.join(table.key)})."
            )
        seen[values] = number
    return [header[position] for position in positions]


def resource(table: Table, file_name: str, content: bytes) -> dict[str, Any]:
    """The Data Package resource of `table`'s CSV file `file_name` holding `content`."""
    header, rows = _rows(table, content)
    key = _checked_key(table, header, rows) if table.key else []
    fields = [
        _field(column, name, [row[position] for row in rows], column.name in table.key)
        for position, (column, name) in enumerate(zip(table.columns, header, strict=True))
    ]
    schema: dict[str, Any] = {"fields": fields, "missingValues": list(MISSING_VALUES)}
    if key:
        schema["primaryKey"] = key
    return {
        "name": table.name,
        "path": file_name,
        "profile": "tabular-data-resource",
        "title": table.title,
        "description": table.description,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": ENCODING,
        "dialect": dict(DIALECT),
        "bytes": len(content),
        "hash": f"sha256:{hashlib.sha256(content).hexdigest()}",
        "schema": schema,
    }


def _sources(metadata: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One entry per input source named by the metadata's `sources`: the batches an edition was made from (a list of
    {source_id, producer, partition...}, as etl.publication.publish writes it) or a mapping of source ids to their
    details ({producer, vintage...}); anything else names no source."""
    given = metadata.get("sources") or []
    if isinstance(given, Mapping):
        given = [{**details, "source_id": key} for key, details in given.items() if isinstance(details, Mapping)]
    by_source: dict[str, dict[str, Any]] = {}
    for batch in given:
        if not isinstance(batch, Mapping) or not batch.get("source_id"):
            continue
        source_id = str(batch["source_id"])
        entry = by_source.setdefault(
            source_id, {"title": str(batch.get("producer") or source_id), "source_id": source_id, "vintages": set()}
        )
        vintage = batch.get("partition") or batch.get("vintage")
        if vintage:
            entry["vintages"].add(str(vintage))
    return [{**entry, "vintages": sorted(entry["vintages"])} for _, entry in sorted(by_source.items())]


def _created(metadata: Mapping[str, Any]) -> str | None:
    released = metadata.get("released_at")
    if released is None:
        return None
    when = released if isinstance(released, dt.datetime) else dt.datetime.fromisoformat(str(released))
    if when.tzinfo is None:
        raise ValueError(f"The edition's release time {when.isoformat()} has no time zone.")
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _edition_words(edition_id: str, metadata: Mapping[str, Any]) -> str:
    kind, period = metadata.get("kind"), metadata.get("period")
    return f"édition {kind} {period}" if kind and period else f"édition {edition_id}"


def descriptor(
    edition_id: str, tables: Sequence[Table], csv_files: Mapping[str, bytes], metadata: Mapping[str, Any]
) -> dict[str, Any]:
    """The Data Package of an edition: `csv_files` maps each table's CSV file name (`<name>.csv`) to its bytes;
    `metadata` is the edition's (its `kind`, `period`, `released_at` and `sources` are read)."""
    words = _edition_words(edition_id, metadata)
    description = (
        f"Tables de l'{words} de l'Observatoire QPV (politique de la ville) : "
        + " ; ".join(table.title for table in tables)
        + ". Fichiers CSV en UTF-8 (avec BOM), séparateur point-virgule, fins de ligne CRLF, virgule décimale ; "
        f"« {exports.MASKED_MARK} » marque une valeur masquée par le secret statistique, une cellule vide une valeur "
        "non disponible, sans objet ou non calculée (la colonne de statut dit laquelle). Les mêmes tables sont dans "
        "les fichiers Parquet et le classeur tables.xlsx ; dictionnaire.csv décrit chaque colonne et manifest.json "
        f"l'édition (empreintes, sources, contrôles). {SECRECY_RULE}"
    )
    package: dict[str, Any] = {
        "profile": "tabular-data-package",
        "name": edition_id.lower(),
        "title": f"Observatoire QPV, {words}",
        "description": description,
        "version": edition_id,
        "keywords": list(KEYWORDS),
        "licenses": [{"name": LICENCE_ID, "path": LICENCE["url"], "title": LICENCE["name"]}],
        "sources": _sources(metadata),
        "resources": [resource(table, f"{table.name}.csv", csv_files[f"{table.name}.csv"]) for table in tables],
    }
    created = _created(metadata)
    if created is not None:
        package["created"] = created
    return package
