"""The in-memory form of a published table, shared by disclosure control, the exports, the editions and the warehouse.

A `Table` is a pandas frame plus, for each of its columns, a `Column` saying what the column is: its French header in
the files, its role (one of `ROLES`: what kind of value it holds, which decides how it is typed, formatted and
aggregated), its unit and a French description for the dictionary and `COMMENT ON COLUMN`.

A masked cell holds no value (NaN / None) in the frame, and the status column of its row says `masked`; the statuses
a status column may hold are `STATUSES`. The exports turn a masked cell into `s` (CSV, XLSX) or null (Parquet).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

ROLES = ("code", "label", "period", "count", "amount", "share", "rate", "status", "text")
NUMERIC_ROLES = ("count", "amount", "share", "rate")

STATUS_OK = "ok"
STATUS_MASKED = "masked"
STATUS_MISSING = "missing"
STATUS_NOT_APPLICABLE = "not_applicable"
STATUSES = (STATUS_OK, STATUS_MASKED, STATUS_MISSING, STATUS_NOT_APPLICABLE)


@dataclass(frozen=True)
class Column:
    """One column of a published table."""

    name: str  # column of the frame (snake_case technical name)
    header: str  # French header in the files ("Code territoire", "Demandeurs d'emploi")
    role: str  # one of ROLES
    unit: str = ""  # "nombre", "%", "euros", "" ...
    description: str = ""  # French, for the dictionary file and COMMENT ON COLUMN


@dataclass(frozen=True)
class Table:
    """A published table: its name (unique in an edition), French title and description, columns and frame."""

    name: str  # snake_case, unique in an edition ("bilan_conventions")
    title: str  # French title
    description: str  # French
    columns: tuple[Column, ...]
    frame: pd.DataFrame  # exactly the columns, in order; masked cells hold NaN and the row's status says `masked`

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError("A table needs a non-empty name.")
        columns = tuple(self.columns)
        object.__setattr__(self, "columns", columns)
        for column in columns:
            if not isinstance(column, Column):
                raise ValueError(f"Table {self.name}: every column must be a Column, not {type(column).__name__}.")
            if column.role not in ROLES:
                raise ValueError(
                    f"Table {self.name}: column {column.name} has the unknown role {column.role!r} "
                    f"(expected one of {', '.join(ROLES)})."
                )
        names = [column.name for column in columns]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        if duplicated:
            raise ValueError(
                f"Table {self.name}: the column names {', '.join(duplicated)} are declared more than once."
            )
        if not isinstance(self.frame, pd.DataFrame):
            raise ValueError(
                f"Table {self.name}: the frame must be a pandas DataFrame, not {type(self.frame).__name__}."
            )
        actual = list(self.frame.columns)
        if actual != names:
            raise ValueError(
                f"Table {self.name}: the frame's columns ({', '.join(map(str, actual))}) are not the declared "
                f"columns in their order ({', '.join(names)})."
            )

    def column(self, name: str) -> Column:
        """The declared column called `name`."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"Table {self.name} has no column {name!r}.")


def table_from_spec(name: str, title: str, description: str, spec, frame: pd.DataFrame) -> Table:
    """A Table whose columns are given as (name, header, role, unit, description) tuples, the frame cut to them in
    that order (index reset)."""
    columns = tuple(Column(*item) for item in spec)
    return Table(name, title, description, columns, frame[[c.name for c in columns]].reset_index(drop=True))
