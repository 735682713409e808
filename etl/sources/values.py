"""The long frame every indicator-value source produces, and the cell parsers its normalisers share.

A normaliser turns a producer's file into `values`: one row per figure with the columns of
`staging.indicator_value` (batch_id aside), in file order. Cells are parsed here, vectorised, and never
repaired: a cell that is not what the producer's rule says becomes status `invalid` (value NaN), which the
rows gate rejects with its line; a masked cell is status `masked` with no value, never 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

VALUE_COLUMNS = (
    "line_no",
    "indicator_code",
    "territory_level",
    "territory_code",
    "period_code",
    "breakdown",
    "value",
    "status",
)


def text(values) -> pd.Series:
    """Stripped text, positionally (whatever the index of `values`); an empty cell stays an empty string."""
    return pd.Series(values).reset_index(drop=True).astype("str").str.strip()


def counts(cells, mask: str | None = "s", *, thousands: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(value, status) of count cells: digits -> float and `ok`; `mask` -> NaN and `masked`; else NaN, `invalid`.

    With `thousands`, a space, no-break space or narrow no-break space between digit groups is accepted
    (`1 245`), as spreadsheet exports write them."""
    cells = text(cells)
    if thousands:
        grouped = cells.str.fullmatch(r"[0-9]{1,3}(?:[ \u00a0\u202f][0-9]{3})+").fillna(False).astype(bool)
        cells = cells.where(~grouped, cells.str.replace(r"[ \u00a0\u202f]", "", regex=True))
    digits = cells.str.fullmatch(r"[0-9]+").fillna(False).astype(bool).to_numpy()
    masked = (cells == mask).fillna(False).astype(bool).to_numpy() if mask is not None else np.zeros(len(cells), bool)
    value = pd.to_numeric(cells.where(digits), errors="coerce").to_numpy(dtype="float64")
    status = np.select([digits, masked], ["ok", "masked"], default="invalid")
    return value, status


def decimals(cells, mask: str | None = "s") -> tuple[np.ndarray, np.ndarray]:
    """(value, status) of French decimal cells: `12 500,50`, `-3,2`, `30`, `30.5` -> float and `ok`.

    Digit groups may be separated by a space, a no-break or a narrow no-break space; the decimal separator is a
    comma (a dot is accepted when no comma is present). `mask` -> `masked`; anything else -> `invalid`."""
    cells = text(cells)
    compact = cells.str.replace(r"(?<=[0-9])[ \u00a0\u202f](?=[0-9]{3}(?:[^0-9]|$))", "", regex=True)
    shaped = compact.str.fullmatch(r"-?[0-9]+(?:[,.][0-9]+)?").fillna(False).astype(bool).to_numpy()
    masked = (cells == mask).fillna(False).astype(bool).to_numpy() if mask is not None else np.zeros(len(cells), bool)
    value = pd.to_numeric(compact.where(shaped).str.replace(",", ".", regex=False), errors="coerce")
    status = np.select([shaped, masked], ["ok", "masked"], default="invalid")
    return value.to_numpy(dtype="float64"), status


def values_frame(columns: dict[str, object]) -> pd.DataFrame:
    """The long frame with the declared dtypes: line_no int64, value float64, every other column text.

    Extra columns (e.g. a unit that a suite checks) are kept after the declared ones; they are not loaded."""
    names = list(VALUE_COLUMNS) + [c for c in columns if c not in VALUE_COLUMNS]
    frame = pd.DataFrame(columns, columns=names)
    for name in names:
        if name == "line_no":
            frame[name] = frame[name].astype("int64")
        elif name == "value":
            frame[name] = frame[name].astype("float64")
        elif frame[name].dtype == object or name in VALUE_COLUMNS:
            frame[name] = frame[name].astype("str")
    return frame


def latest_period(staged: dict[str, pd.DataFrame], frame: str = "values") -> str:
    """The latest non-empty `period_code` of a staged frame (a delivery's vintage), `unknown` if none."""
    periods = staged[frame]["period_code"]
    periods = periods[periods.str.len() > 0]
    return str(periods.max()) if len(periods) else "unknown"


NATIONAL_VALUES_COLUMNS = ("indicator_code", "period_code", "value", "status")


def latest_national_values(national_values: pd.DataFrame, region_code: str) -> dict[str, tuple[str, float]]:
    """{indicator_code: (period_code, value)}: the latest period with a known value (status `ok`) of each indicator.

    `national_values` has the columns indicator_code, period_code, value and status (the warehouse's long values).
    When it also has `territory_code` (and `territory_level`), only the rows of the région are kept; without them,
    the rows are taken as the région's. When it has `breakdown`, only `total` rows are kept. Periods compare as text
    (`2023` < `2024`); equal periods keep the largest value, so that the result does not depend on row order."""
    missing = [name for name in NATIONAL_VALUES_COLUMNS if name not in national_values.columns]
    if missing:
        raise ValueError(f"national_values lacks the column(s) {', '.join(missing)}.")
    frame = national_values
    if "territory_code" in frame.columns:
        keep = frame["territory_code"].astype(str) == region_code
        if "territory_level" in frame.columns:
            keep &= frame["territory_level"].astype(str) == "region"
        frame = frame[keep]
    if "breakdown" in frame.columns:
        frame = frame[frame["breakdown"].fillna("total").astype(str) == "total"]
    known = pd.DataFrame(
        {
            "indicator_code": frame["indicator_code"].astype(str).str.strip(),
            "period_code": frame["period_code"].astype(str).str.strip(),
            "value": pd.to_numeric(frame["value"], errors="coerce"),
            "status": frame["status"].astype(str).str.strip(),
        }
    )
    known = known[(known["status"] == "ok") & known["value"].notna() & (known["period_code"] != "")]
    known = known.sort_values(["indicator_code", "period_code", "value"], kind="stable")
    latest = known.drop_duplicates("indicator_code", keep="last")
    return {row.indicator_code: (row.period_code, float(row.value)) for row in latest.itertuples(index=False)}
