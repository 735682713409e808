"""Editions: the immutable folders a publication run releases under `$OBSERVATOIRE_HOME/publication/<edition-id>/`.

An edition folder holds, for each table, `<name>.csv` and `<name>.parquet`, then `tables.xlsx` (one sheet per table),
`dictionnaire.csv` (every column of every table), `datapackage.json` (the Frictionless Data Package describing the
CSV files: etl.publication.datapackage) and `manifest.json`: the edition id, its licence (`licence`: name and URL),
every table (name, title, description, key, columns with header, role, unit, what a count counts (`counts`) and
description, row count, XLSX sheet, files with sha256 and size), every data file with its sha256 and size, the Data
Package (`datapackage`: sha256 and size), the units statistical secrecy covers (`statistical_secrecy`), the French
word the files write for each status code (`statuses`), and the caller's `metadata` as given (source vintages, batch
ids, DQ runs, disclosure rules, latency...). The manifest and the Data Package are JSON with sorted keys and an
indent of 2.

The folder is written under a hidden temporary name beside its final place, its files are made read-only (0444),
then it is renamed to its final name in one step (readers never see a half-written edition) and made read-only
itself (0555). An edition is never overwritten: `write_edition` refuses an id that exists (`EditionExists`); a new
run makes a new edition. The data files depend only on the tables (the exports stamp no time), so two editions of
the same tables have byte-identical data files (`data_files_digest`); only the manifest and the Data Package name
their edition.

`write_edition(..., extra=callable)` lets the caller add files beside the data files (the HTML report,
etl.publication.report): `extra` is called with the temporary folder once the data files are written, before the
manifest (the workbook, the longest file, is built meanwhile in a worker process, `workbook_aside.xlsx_bytes_aside`: its
file is there for `extra` to see, empty and read-only, and gets its bytes afterwards); the files it adds (at any
depth, not named like a data file, the Data Package or the manifest) are listed in the manifest under `report`
(sha256 and size), made read-only like the rest, and left out of `data_files_digest` (which hashes the data files
only: every file but the manifest, the Data Package and the `*.html` pages).
`dictionary_rows` are appended to the dictionary (exports.dictionary_bytes: one row per indicator fiche).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from etl.errors import ObservatoireError
from etl.publication import datapackage, exports, parquet_export, workbook_aside
from etl.publication.tables import LICENCE, SECRECY_RULE, SECRET_UNITS, STATUS_LABELS, Table

MANIFEST = "manifest.json"
WORKBOOK = "tables.xlsx"
DICTIONARY = "dictionnaire.csv"
DATAPACKAGE = datapackage.DATAPACKAGE
MANIFEST_VERSION = 1
FILE_MODE = 0o444
FOLDER_MODE = 0o555

_EDITION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_ID_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_TABLE_NAME = re.compile(r"[a-z][a-z0-9_]*")
_RESERVED_NAMES = {Path(DICTIONARY).stem}


class EditionExists(ObservatoireError, FileExistsError):
    """An edition with this id is already on disk (editions are never overwritten)."""


def edition_id(kind: str, period: str, created: dt.datetime) -> str:
    """The id of an edition: `<kind>-<period>-<created in UTC, YYYYMMDDTHHMMSSZ>`, e.g.
    `annuelle-2024-20261122T101500Z`; `created` must carry its time zone."""
    for label, part in (("kind", kind), ("period", period)):
        if not isinstance(part, str) or not _ID_PART.fullmatch(part):
            raise ValueError(f"The edition {label} {part!r} must be letters, digits, - or _ (e.g. annuelle, 2024-S1).")
    if created.tzinfo is None or created.utcoffset() is None:
        raise ValueError(f"The edition time {created.isoformat()} has no time zone (give an aware datetime).")
    return f"{kind}-{period}-{created.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _described(name: str, content: bytes) -> dict[str, Any]:
    return {"file": name, "sha256": _sha256(content), "size": len(content)}


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"The edition metadata holds a {type(value).__name__}, which JSON cannot represent.")


def _json_bytes(document: dict) -> bytes:
    """A JSON file of the edition: sorted keys, an indent of 2, UTF-8, a final line end."""
    return (json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False, default=_json_default) + "\n").encode()


def _check(edition: str, tables: Sequence[Table]) -> None:
    if not isinstance(edition, str) or not _EDITION_ID.fullmatch(edition):
        raise ValueError(f"The edition id {edition!r} must be letters, digits, ., - or _ (see edition_id).")
    if not tables:
        raise ValueError(f"Edition {edition} has no table to publish.")
    seen: set[str] = set()
    for table in tables:
        if not isinstance(table, Table):
            raise ValueError(f"Edition {edition}: {type(table).__name__} is not a publication Table.")
        if not _TABLE_NAME.fullmatch(table.name) or table.name in _RESERVED_NAMES:
            raise ValueError(
                f"Edition {edition}: the table name {table.name!r} cannot name its files (snake_case, not "
                f"{', '.join(sorted(_RESERVED_NAMES))})."
            )
        if table.name in seen:
            raise ValueError(f"Edition {edition}: two tables are named {table.name}.")
        seen.add(table.name)


def _write_file(folder: Path, name: str, content: bytes) -> None:
    path = folder / name
    with path.open("xb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())


def _fill_reserved(path: Path, content: bytes, edition_id: str) -> None:
    """Write `content` into the empty read-only file `path` reserved for it before the extra files step."""
    if path.is_symlink() or not path.is_file() or path.stat().st_size:
        raise ValueError(f"Edition {edition_id}: the extra files step changed or removed the data file {path.name}.")
    path.chmod(0o644)
    with path.open("r+b") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    path.chmod(FILE_MODE)


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _exists_error(edition: str, target: Path) -> EditionExists:
    return EditionExists(
        f"The edition {edition} already exists in {target.parent} and editions are never overwritten: publish a new "
        "edition (a new id) instead."
    )


def write_edition(
    home_publication_dir: str | Path,
    edition_id: str,
    tables: Sequence[Table],
    *,
    metadata: dict,
    extra: Callable[[Path], None] | None = None,
    dictionary_rows: Sequence[Sequence[str]] = (),
) -> Path:
    """Write the edition `edition_id` of `tables` into `home_publication_dir` (created if needed) and return its
    folder; see the module docstring (`extra`: a function adding files to the temporary folder, e.g. the report).
    Raises `EditionExists` when that edition is already there."""
    tables = list(tables)
    _check(edition_id, tables)
    home = Path(home_publication_dir)
    target = home / edition_id
    if target.exists() or target.is_symlink():
        raise _exists_error(edition_id, target)
    # the workbook is started first and built beside the rest (etl.publication.workbook_aside), then everything is
    # computed in a temporary folder removed on any error: a table that cannot be exported leaves no trace
    workbook = workbook_aside.xlsx_bytes_aside(tables)
    files: list[tuple[str, bytes]] = []
    described_tables = []
    for table, sheet in zip(tables, exports.sheet_names(tables), strict=True):
        table_files = [
            (f"{table.name}.csv", exports.csv_bytes(table)),
            (f"{table.name}.parquet", parquet_export.parquet_bytes(table)),
        ]
        files.extend(table_files)
        described_tables.append(
            {
                "name": table.name,
                "title": table.title,
                "description": table.description,
                "key": list(table.key),
                "row_count": len(table.frame),
                "columns": [column.described() for column in table.columns],
                "xlsx_sheet": sheet,
                "files": [_described(name, content) for name, content in table_files],
            }
        )
    files.append((DICTIONARY, exports.dictionary_bytes(tables, dictionary_rows)))

    home.mkdir(parents=True, exist_ok=True)
    staging = home / f".{edition_id}.partial-{uuid.uuid4().hex[:12]}"
    staging.mkdir()
    try:
        for name, content in (*files, (WORKBOOK, b"")):
            _write_file(staging, name, content)
            (staging / name).chmod(FILE_MODE)
        if extra is not None:
            extra(staging)  # while the workbook is being built: its file is there, empty, for the report to link
        files.append((WORKBOOK, workbook()))
        _fill_reserved(staging / WORKBOOK, files[-1][1], edition_id)
        package_bytes = _json_bytes(datapackage.descriptor(edition_id, tables, dict(files), metadata))
        manifest = {
            "manifest_version": MANIFEST_VERSION,
            "edition_id": edition_id,
            "licence": LICENCE,
            "statistical_secrecy": {"units": list(SECRET_UNITS), "rule": SECRECY_RULE},
            "statuses": STATUS_LABELS,
            "tables": described_tables,
            "files": [_described(name, content) for name, content in sorted(files)],
            "datapackage": _described(DATAPACKAGE, package_bytes),
            "metadata": metadata,
        }
        if extra is not None:
            manifest["report"] = _extra_files(edition_id, staging, files)
        for name, content in ((DATAPACKAGE, package_bytes), (MANIFEST, _json_bytes(manifest))):
            _write_file(staging, name, content)
            (staging / name).chmod(FILE_MODE)
        _fsync_folder(staging)
        if target.exists() or target.is_symlink():
            raise _exists_error(edition_id, target)
        try:
            staging.rename(target)  # atomic; fails when a non-empty folder took the name meanwhile
        except OSError as exc:
            raise _exists_error(edition_id, target) from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for folder in sorted((path for path in target.rglob("*") if path.is_dir()), reverse=True):
        folder.chmod(FOLDER_MODE)  # the extra files' subfolders, once the edition is in place
    target.chmod(FOLDER_MODE)
    _fsync_folder(home)
    return target


def _extra_files(edition: str, staging: Path, files: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
    """The files `extra` added to the temporary folder (described, sorted), made read-only; refuses an `extra`
    that changed, removed or shadowed a data file or wrote the Data Package or the manifest."""
    data = dict(files)
    for name, content in files:
        path = staging / name
        if not path.is_file() or path.read_bytes() != content:
            raise ValueError(f"Edition {edition}: the extra files step changed or removed the data file {name}.")
    added = []
    for path in sorted(staging.rglob("*")):
        relative = path.relative_to(staging).as_posix()
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            raise ValueError(f"Edition {edition}: the extra files step left {relative}, which is not a plain file.")
        if path.is_dir() or relative in data:
            continue
        if relative in (MANIFEST, DATAPACKAGE):
            raise ValueError(f"Edition {edition}: the extra files step cannot write {relative}.")
        added.append((relative, path.read_bytes()))
        path.chmod(FILE_MODE)
    return [_described(name, content) for name, content in added]


def data_files_digest(edition_dir: str | Path) -> dict[str, str]:
    """sha256 (hex) of every data file of an edition folder (every file except its manifest, its Data Package and the
    `*.html` pages of the report), by path relative to the folder (POSIX separators, sorted)."""
    folder = Path(edition_dir)
    digest = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_file() and relative not in (MANIFEST, DATAPACKAGE) and not relative.endswith(".html"):
            digest[relative] = _sha256(path.read_bytes())
    return digest
