"""The independent disclosure check of a published table's value column (GX gate 3).

Written from the definitions only, separately from the suppression code (`etl/publication/disclosure.py`), so
that a mistake in one is not shared by the other. `disclosures(...)` lists what would disclose a cell;
`gate3_frame(...)` turns that into the frame the suite `expectations/publication.disclosure.json` validates (one
helper column per rule, set only on the offending rows, each expected null).

A cell is a row of the value column with its status (`ok`, `masked`, `missing`, `not_applicable`). Relations are
`(total_row, (part_row, ...))`: value[total] == sum(value[parts]) in the unmasked data (positional rows).

What is covered:

- `small_count` (kind `count` only): a value present, status not `masked`, strictly between 0 and the threshold
  (11 by default: a published count of 1 to 10 people). 0 is fine.
- `masked_with_value`: status `masked` but a value is present (it would leak through whatever ignores the status).
- `value_without_ok`: status `missing` or `not_applicable` with a value present.
- `unknown_status`: a status outside the four (or empty): the cell cannot be classified, so it is reported.
- `recomputable` (every kind): a masked cell uniquely determined by the published cells and the relations. Cells
  with a value and a status other than `masked` are constants (published); masked cells and cells without a value
  are unknowns; every relation is the linear equation x_total - sum(x_parts) = 0. All relations are solved
  together (rows, columns and territory levels at once) by exact Gaussian elimination over `fractions.Fraction` to
  reduced row echelon form: an unknown is determined iff a row of that form has its only non-zero coefficient in
  the unknown's column, which depends on the coefficients only (not on the published values, so rounding or
  inconsistent published figures cannot hide a disclosure). The recovered value is given in the detail.
- `narrow_interval` (kind `count` only, single relations only): a relation whose total is published with value T,
  whose published parts add up to S and which has at least two unpublished parts: by non-negativity every one of
  them lies in [0, T - S]; when 0 <= T - S < threshold each masked one among them is reported (an interval of
  width T - S). A single unpublished part is `recomputable` instead, and a cell already recomputable is not
  reported twice.

What is not covered: bounds obtained by combining several relations (linear programming over the whole table),
lower bounds other than 0, determination that holds only because counts are integers, non-negativity for kinds
other than `count` (amounts, shares and rates get the exact test only), relations between different columns or
tables, inequalities (category ABC >= A is not a relation), differencing between editions or against other
publications, and dominance of amounts (the contributors are not known here). Relations must state how totals
were actually computed: a part left out of a total must be left out of its relation (a declared part that is not
published is an unknown, so it protects the others).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import pandas as pd

KINDS = ("count", "amount", "share", "rate")
STATUSES = ("ok", "masked", "missing", "not_applicable")
DEFAULT_COUNT_THRESHOLD = 11

# reason -> helper column of the gate 3 frame (French technical names, as the suite's columns)
HELPER_COLUMNS = {
    "small_count": "petit_effectif_publie",
    "recomputable": "case_masquee_recalculable",
    "masked_with_value": "case_masquee_avec_valeur",
    "narrow_interval": "intervalle_etroit",
    "value_without_ok": "valeur_sans_statut_ok",
    "unknown_status": "statut_inconnu",
}
REASONS = tuple(HELPER_COLUMNS)

Relation = tuple[int, tuple[int, ...]]


@dataclass(frozen=True)
class Disclosure:
    """One problem found on one cell of the value column."""

    row: int  # positional row of the frame
    reason: str  # one of REASONS
    detail: str  # English, for logs
    shown: str = ""  # short value for the gate 3 helper column (the count, the recovered value, the interval)


def disclosures(
    values: Iterable[Any],
    statuses: Iterable[Any],
    kind: str,
    relations: Iterable[tuple[int, Sequence[int]]] = (),
    *,
    count_threshold: int = DEFAULT_COUNT_THRESHOLD,
) -> list[Disclosure]:
    """Every disclosure of the cells (see the module docstring for the rules), sorted by row then rule."""
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    if count_threshold < 1:
        raise ValueError(f"count_threshold must be >= 1, got {count_threshold}")
    vals = [_as_float(v) for v in values]
    stats = [_as_status(s) for s in statuses]
    if len(vals) != len(stats):
        raise ValueError(f"{len(vals)} values but {len(stats)} statuses")
    rels = _checked_relations(relations, len(vals))

    found: list[Disclosure] = []
    for row, (value, status) in enumerate(zip(vals, stats, strict=True)):
        present = not math.isnan(value)
        if status not in STATUSES:
            found.append(
                Disclosure(
                    row, "unknown_status", f"row {row}: status {status!r} is not one of {STATUSES}", shown=str(status)
                )
            )
        if status == "masked" and present:
            found.append(
                Disclosure(
                    row,
                    "masked_with_value",
                    f"row {row}: status masked but value {value!r} present",
                    shown=_shown(value),
                )
            )
        if status in ("missing", "not_applicable") and present:
            found.append(
                Disclosure(
                    row,
                    "value_without_ok",
                    f"row {row}: status {status} but value {value!r} present",
                    shown=f"{status} : {_shown(value)}",
                )
            )
        if kind == "count" and status != "masked" and present and 0 < value < count_threshold:
            found.append(
                Disclosure(
                    row,
                    "small_count",
                    f"row {row}: published count {value!r} is below {count_threshold}",
                    shown=_shown(value),
                )
            )

    published = [not math.isnan(v) and s != "masked" for v, s in zip(vals, stats, strict=True)]
    masked = {row for row, s in enumerate(stats) if s == "masked"}
    determined = _determined(vals, published, rels)
    for row in sorted(determined.keys() & masked):
        value = determined[row]
        found.append(
            Disclosure(
                row,
                "recomputable",
                f"row {row}: masked cell recomputable from the published cells and relations (= {_shown(value)})",
                shown=_shown(value),
            )
        )
    if kind == "count":
        for row, (width, total) in sorted(_narrow(vals, published, rels, count_threshold).items()):
            if row in masked and row not in determined:
                found.append(
                    Disclosure(
                        row,
                        "narrow_interval",
                        f"row {row}: masked part of total row {total} lies in [0, {_shown(width)}], "
                        f"narrower than {count_threshold}",
                        shown=f"[0 ; {_shown(width)}]",
                    )
                )
    found.sort(key=lambda d: (d.row, REASONS.index(d.reason)))
    return found


def gate3_frame(
    table_frame: pd.DataFrame,
    value_column: str,
    status_column: str,
    kind: str,
    relations: Iterable[tuple[int, Sequence[int]]] = (),
    count_threshold: int = DEFAULT_COUNT_THRESHOLD,
) -> pd.DataFrame:
    """The frame of suite `publication.disclosure`: `line_no` (1..n, positional) and one helper column per rule,
    holding a short text (the count, the recovered value, the interval, ...) on the offending rows, null elsewhere."""
    for column in (value_column, status_column):
        if column not in table_frame.columns:
            raise KeyError(
                f"column {column!r} is not in the table's frame ({', '.join(map(str, table_frame.columns))})"
            )
    found = disclosures(
        table_frame[value_column].tolist(),
        table_frame[status_column].tolist(),
        kind,
        relations,
        count_threshold=count_threshold,
    )
    n = len(table_frame)
    cells: dict[str, list[str | None]] = {column: [None] * n for column in HELPER_COLUMNS.values()}
    for item in found:
        cells[HELPER_COLUMNS[item.reason]][item.row] = item.shown or item.reason
    frame = pd.DataFrame({"line_no": pd.Series(range(1, n + 1), dtype="int64")})
    for column, shown in cells.items():
        frame[column] = pd.Series(shown, dtype="string")
    return frame


def _as_float(value: Any) -> float:
    if value is None or value is pd.NA or value is pd.NaT:
        return math.nan
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"value {value!r} is not a number (use NaN for a cell with no value)") from exc
    if math.isinf(number):
        raise ValueError(f"value {value!r} is infinite")
    return number


def _as_status(status: Any) -> str | None:
    if status is None or status is pd.NA or (isinstance(status, float) and math.isnan(status)):
        return None
    return str(status)


def _checked_relations(relations: Iterable[tuple[int, Sequence[int]]], n: int) -> list[Relation]:
    out: list[Relation] = []
    for number, relation in enumerate(relations):
        try:
            total, parts = relation
            total = operator.index(total)
            parts = tuple(operator.index(p) for p in parts)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"relation {number} {relation!r} is not (total_row, (part_row, ...))") from exc
        if not parts:
            raise ValueError(f"relation {number}: total row {total} has no parts")
        bad = [r for r in (total, *parts) if not 0 <= r < n]
        if bad:
            raise ValueError(f"relation {number}: rows {bad} outside 0..{n - 1}")
        if total in parts:
            raise ValueError(f"relation {number}: total row {total} is also one of its parts")
        out.append((total, parts))
    return out


def _determined(values: list[float], published: list[bool], relations: list[Relation]) -> dict[int, Fraction]:
    """The unknowns (rows not published) uniquely determined by the relations, with their value.

    Each relation is sum(coefficient * x_unknown) = -sum(coefficient * published value), coefficients +1 for the
    total and -1 per part. Rows are kept in reduced row echelon form as they are added (sparse: column -> Fraction):
    a new row is reduced by the existing pivot rows, then its pivot is eliminated from all of them."""
    pivots: dict[int, tuple[dict[int, Fraction], Fraction]] = {}
    for total, parts in relations:
        coefficients: dict[int, Fraction] = {}
        known = 0  # sum(coefficient * published value), exact: an integral value (a count) as an int, else a Fraction
        for row, sign in ((total, 1), *((p, -1) for p in parts)):
            if published[row]:
                value = values[row]
                known += sign * (int(value) if value.is_integer() else Fraction(value))
            else:
                coefficients[row] = coefficients.get(row, Fraction(0)) + sign
        rhs = Fraction(-known)
        coefficients = {c: v for c, v in coefficients.items() if v}
        for column in [c for c in coefficients if c in pivots]:
            factor = coefficients.get(column)
            if not factor:
                continue
            pivot_row, pivot_rhs = pivots[column]
            for c, v in pivot_row.items():
                updated = coefficients.get(c, Fraction(0)) - factor * v
                if updated:
                    coefficients[c] = updated
                else:
                    coefficients.pop(c, None)
            rhs -= factor * pivot_rhs
        if not coefficients:
            continue  # dependent on the rows already there (or inconsistent published figures): adds nothing
        column = min(coefficients)
        lead = coefficients[column]
        new_row = {c: v / lead for c, v in coefficients.items()}
        new_rhs = rhs / lead
        for other, (other_row, other_rhs) in list(pivots.items()):
            factor = other_row.get(column)
            if not factor:
                continue
            for c, v in new_row.items():
                updated = other_row.get(c, Fraction(0)) - factor * v
                if updated:
                    other_row[c] = updated
                else:
                    other_row.pop(c, None)
            pivots[other] = (other_row, other_rhs - factor * new_rhs)
        pivots[column] = (new_row, new_rhs)
    return {column: rhs for column, (row, rhs) in pivots.items() if len(row) == 1}


def _narrow(
    values: list[float], published: list[bool], relations: list[Relation], threshold: int
) -> dict[int, tuple[Fraction, int]]:
    """Row -> (width, total row) of the narrowest interval [0, width] with width < threshold that a single relation
    with a published total gives to each of its (at least two) unpublished parts, by non-negativity."""
    out: dict[int, tuple[float, int]] = {}
    for total, parts in relations:
        if not published[total]:
            continue
        unknown = {p for p in parts if not published[p]}
        if len(unknown) < 2:
            continue
        width = Fraction(values[total]) - sum((Fraction(values[p]) for p in parts if published[p]), Fraction(0))
        if not 0 <= width < threshold:
            continue  # wide, or published figures inconsistent with the relation (no non-negative solution)
        for row in unknown:
            if row not in out or width < out[row][0]:
                out[row] = (width, total)
    return out


def _shown(value: float | Fraction) -> str:
    """A number as a person reads it, to 15 significant digits: 7, 12.5, 1/3 as 0.333333333333333."""
    number = float(value)
    if number.is_integer():
        return str(int(number))
    return f"{number:.15g}"
