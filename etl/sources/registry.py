"""The declared source registry: `registry.yaml` parsed and validated with pydantic.

Reading it does no I/O beyond that one YAML file and imports nothing heavy: DAG files call `source(id)` at
parse time. Entries are validated one by one, so a broken entry raises `RegistryError` (one sentence naming
the entry and the field) only for the DAGs that ask for it; the others parse normally.
"""

from __future__ import annotations

import functools
import importlib
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from etl.config import EXPECTATIONS_FOLDER, PROJECT_ROOT, SQL_FOLDER
from etl.errors import ObservatoireError

REGISTRY_FILE = Path(__file__).with_name("registry.yaml")
CORE_SQL_FOLDER = SQL_FOLDER / "core"
_CALLABLE = re.compile(r"^[a-z_][\w.]*:[a-z_]\w*$")
_TABLE = re.compile(r"^(raw|staging|core)\.[a-z_][a-z0-9_]*$")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class RegistryError(ObservatoireError):
    """An entry of registry.yaml is missing or invalid."""


class Suites(BaseModel):
    model_config = ConfigDict(extra="forbid")
    file: str
    rows: dict[str, str]


class Disclosure(BaseModel):
    model_config = ConfigDict(extra="forbid")
    applies: bool = True
    count_threshold: int = Field(default=11, ge=1)
    dominance_units: int = Field(default=3, ge=1)
    dominance_share: float = Field(default=0.85, gt=0, le=1)


class Ensembles(BaseModel):
    """The producer's own totals over the QPV of a territory ("Ensemble des quartiers prioritaires" lines)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    indicators: dict[str, str] = Field(min_length=1)  # "ensemble des QPV" indicator -> the QPV indicator it sums
    masked_below: int = Field(ge=1)  # the producer writes `s` for a count below this


class Source(BaseModel):
    """One declared source: what arrives, how it is read, checked and loaded, what it emits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    producer: str
    description: str
    cadence: str
    # Days after the expected date (the run's queue time) before a missing file is mailed as late (DeadlineAlert).
    tolerance_days: int = Field(default=3, ge=0, le=60)
    patterns: list[str] = Field(min_length=1)
    reader: str
    normaliser: str
    partition: str
    raw_table: str
    staging_tables: dict[str, str] = Field(min_length=1)
    core_sql: list[str] = Field(min_length=1)  # files of sql/core/, run in order in the load transaction
    suites: Suites
    parameters: list[str] = Field(default_factory=list)
    assets: list[str] = Field(default_factory=list)
    disclosure: Disclosure = Field(default_factory=Disclosure)
    repository_files: list[str] = Field(default_factory=list)
    cross_checks: bool = False  # indicator values checked against the warehouse (etl/quality/cross_checks.py)
    ensembles: Ensembles | None = None  # checked against the QPV rows they sum (cross_checks.py)
    # The period a delivery covers: the last complete one before the DAG run (a run on 2024-05-05 is for 2024-04).
    # A run for a period already loaded (backfill, re-run) reloads it from the archive; None = not period-based.
    period: Literal["month", "quarter", "year"] | None = None

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("must be lower_snake_case")
        return value

    @field_validator("reader", "normaliser")
    @classmethod
    def _callable_shape(cls, value: str) -> str:
        if not _CALLABLE.match(value):
            raise ValueError("must be 'package.module:function'")
        return value

    @field_validator("partition")
    @classmethod
    def _partition_shape(cls, value: str) -> str:
        if not (value.startswith("literal:") and len(value) > 8) and not _CALLABLE.match(value):
            raise ValueError("must be 'literal:<key>' or 'package.module:function'")
        return value

    @field_validator("core_sql", mode="before")
    @classmethod
    def _core_sql_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("raw_table")
    @classmethod
    def _raw_table(cls, value: str) -> str:
        if not _TABLE.match(value) or not value.startswith("raw."):
            raise ValueError("must be a raw.<table> name")
        return value

    @field_validator("staging_tables")
    @classmethod
    def _staging_tables(cls, value: dict[str, str]) -> dict[str, str]:
        for table in value.values():
            if not _TABLE.match(table) or not table.startswith("staging."):
                raise ValueError(f"{table!r} must be a staging.<table> name")
        return value

    def model_post_init(self, _context: Any) -> None:
        missing = [str(p) for p in self.declared_files() if not p.is_file()]
        if missing:
            raise ValueError(f"declared file(s) not found: {', '.join(missing)}")
        if set(self.suites.rows) != set(self.staging_tables):
            raise ValueError("suites.rows must name one suite per staging frame")

    def declared_files(self) -> list[Path]:
        files = [CORE_SQL_FOLDER / name for name in self.core_sql] + [suite_path(self.suites.file)]
        files += [suite_path(s) for s in self.suites.rows.values()]
        files += [PROJECT_ROOT / f for f in self.repository_files]
        return files

    def resolve(self, dotted: str):
        """The function named 'module:function' (imported on use, never at parse time)."""
        module, _, name = dotted.partition(":")
        return getattr(importlib.import_module(module), name)


def suite_path(name: str) -> Path:
    return EXPECTATIONS_FOLDER / f"{name}.json"


@functools.cache
def _raw_entries() -> dict[str, Any]:
    import yaml

    try:
        # libyaml's loader when PyYAML was built with it: ten times faster, and every DAG file parse reads this file
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        document = yaml.load(REGISTRY_FILE.read_text(encoding="utf-8"), Loader=loader) or {}  # noqa: S506 (safe)
    except yaml.YAMLError as exc:
        raise RegistryError(f"{REGISTRY_FILE} is not valid YAML: {exc}") from exc
    entries = document.get("sources")
    if not isinstance(entries, dict):
        raise RegistryError(f"{REGISTRY_FILE} must hold a 'sources:' mapping of source id to entry.")
    return entries


def _validate(source_id: str, entry: Any) -> Source:
    if not isinstance(entry, dict):
        raise RegistryError(f"source {source_id!r} in {REGISTRY_FILE.name} must be a mapping of fields.")
    try:
        return Source(id=source_id, **entry)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "entry"
        raise RegistryError(
            f"source {source_id!r} in {REGISTRY_FILE.name} is invalid at {where}: {first['msg']}."
        ) from exc


@functools.cache
def source(source_id: str) -> Source:
    """One validated entry; raises RegistryError if it is missing or invalid."""
    entries = _raw_entries()
    if source_id not in entries:
        raise RegistryError(f"no source {source_id!r} in {REGISTRY_FILE.name} (known: {', '.join(sorted(entries))}).")
    return _validate(source_id, entries[source_id])


def source_ids() -> list[str]:
    return sorted(_raw_entries())


def all_sources() -> tuple[dict[str, Source], dict[str, str]]:
    """(valid entries, {id: error message} of the invalid ones)."""
    valid, broken = {}, {}
    for source_id in source_ids():
        try:
            valid[source_id] = source(source_id)
        except RegistryError as exc:
            broken[source_id] = str(exc)
    return valid, broken
