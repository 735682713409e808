"""The Parquet file of a published table, as etl.publication.exports' docstring ("Parquet") describes it: the table's
prepared cells (`exports.prepared_columns`, shared with the CSV and the XLSX) as typed Arrow columns, each with its
description as field metadata and the table's under `PARQUET_METADATA_KEY`; the same bytes for the same table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from etl.publication.exports import MASKED, STATUS_MEANINGS, cell_text, prepared_columns, write_bytes
from etl.publication.tables import LICENCE, NUMERIC_ROLES, STATUS_LABELS, STATUS_MASKED, Column, Table

PARQUET_METADATA_KEY = "observatoire_qpv"
PARQUET_COMPRESSION = "zstd"


def _parquet_array(table: Table, position: int, column: Column, values: list[Any]) -> pa.Array:
    if column.role in NUMERIC_ROLES:
        numbers_ = [None if value is None or value is MASKED else value for value in values]
        if column.role == "count" and all(isinstance(value, int) for value in numbers_ if value is not None):
            return pa.array(numbers_, type=pa.int64())
        return pa.array([None if value is None else float(value) for value in numbers_], type=pa.float64())
    dtype = table.frame.iloc[:, position].dtype
    if pd.api.types.is_bool_dtype(dtype):
        return pa.array(values, type=pa.bool_())
    if pd.api.types.is_integer_dtype(dtype):
        return pa.array(values, type=pa.int64())
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return pa.array(table.frame.iloc[:, position], from_pandas=True)
    return pa.array([None if value is None else cell_text(value, ".") for value in values], type=pa.string())


def parquet_bytes(table: Table) -> bytes:
    """The Parquet file of `table` (see the module docstring), the same bytes for the same table."""
    columns = prepared_columns(table)
    arrays, fields = [], []
    for position, (column, values) in enumerate(zip(table.columns, columns, strict=True)):
        array = _parquet_array(table, position, column, values)
        metadata = {key: value for key, value in column.described().items() if key != "name"}
        arrays.append(array)
        fields.append(pa.field(column.name, array.type, nullable=True, metadata=metadata))
    described = {
        "table": table.name,
        "title": table.title,
        "description": table.description,
        "columns": [column.described() for column in table.columns],
        "statuses": {STATUS_LABELS[code]: meaning for code, meaning in STATUS_MEANINGS.items()},
        "masked": "les cellules masquées (secret statistique) sont nulles ; la colonne de statut indique "
        f"« {STATUS_LABELS[STATUS_MASKED]} »",
        "licence": LICENCE,
    }
    schema = pa.schema(
        fields, metadata={PARQUET_METADATA_KEY: json.dumps(described, ensure_ascii=False, sort_keys=True)}
    )
    arrow_table = pa.Table.from_arrays(arrays, schema=schema)
    sink = pa.BufferOutputStream()
    pq.write_table(arrow_table, sink, compression=PARQUET_COMPRESSION)
    return sink.getvalue().to_pybytes()


def write_parquet(table: Table, path: str | Path) -> Path:
    """Write `parquet_bytes(table)` to `path` (parent folders created); returns the path."""
    return write_bytes(path, parquet_bytes(table))
