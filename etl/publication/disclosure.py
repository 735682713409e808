"""Statistical disclosure control of the published tables: primary and secondary suppression.

A table's value column goes through two steps before anything leaves the warehouse:

1. **Primary suppression** (`primary`) masks the sensitive cells themselves: counts of people from 1 to
   `Rules.count_threshold - 1` (0 is published), amounts with 1 to `Rules.dominance_units - 1` contributing units or
   one unit above `Rules.dominance_share` of the cell. Shares and rates are never masked here: their numerators and
   denominators are. A cell the producer already masked (`s` in its file) stays masked, reason `source`.
2. **Secondary suppression** (`secondary`) masks complementary cells so that no masked cell can be recomputed from
   the published cells through the table's additive relations `(total_row, (part_row, ...))` (France = sum of the
   régions, a région = sum of its départements, total = women + men...).

The attacker of step 2 knows every published value and every relation, and solves the linear system the relations
form over the unknown (masked) cells. A masked cell is disclosed when it is uniquely determined by that system,
i.e. when the unit vector e_i lies in the row space of the unknowns' coefficient matrix. The system is kept solved
incrementally as cells are masked (each mask adds a column; trying a complement is one product, not a new
elimination), with integer arithmetic modulo the prime 2^61 - 1: ranks there equal the rational ones unless the
prime divides a non-zero minor of the relations' matrix (entries 0 and ±1), which needs a minor of at least 2^61,
so the outcome is exact in practice, not proven; tests compare it with a rational reference. A relation with exactly
one masked cell is the common case of disclosure; it is resolved first, without any matrix.

Missing values (NaN, not masked) are treated as *known* to the attacker: a total may have been computed with the
missing part counted as nothing, so a missing cell does not protect its neighbours. It is never chosen as a
complement either (masking it would not hide anything). When nothing publishable is left to mask around a disclosed
cell, it is left as it is (it can only be recomputed if the missing values were known).

The complement chosen for a disclosed cell is, among the published cells of the relations that hold it, a part
before a total (a total is only masked when no part will do), a non-zero value before a zero (a masked 0 next to a
small cell gives the small cell away as the upper bound of its interval), then the smallest `cost` (by default the
absolute value: small cells go first), then the smallest row index. When the cell is still disclosed through other
relations, the candidate that removes the disclosure is taken first. Masking goes on until no masked cell is
determined: the result is deterministic and does not depend on the order of the relations.

Only exact recomputation is prevented: the bounds that non-negativity puts on a masked cell (interval disclosure)
are not checked.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

KINDS = ("count", "amount", "share", "rate")
STATUS_OK = "ok"
STATUS_MASKED = "masked"
STATUS_MISSING = "missing"
STATUS_NOT_APPLICABLE = "not_applicable"
REASON_SOURCE = "source"
REASON_SECONDARY = "secondary"
REASON_PRIMARY = "primary"  # a cell given as masked to `secondary` without a reason

# Candidates tried, cheapest first, when a cell is disclosed through several relations (see `_choose_complement`).
_MAX_TRIALS = 25


@dataclass(frozen=True)
class Rules:
    """The disclosure rules applied to a table (recorded in the edition's manifest)."""

    count_threshold: int = 11  # counts of people: 1..threshold-1 are masked (0 is published)
    dominance_units: int = 3  # amounts: fewer than 3 contributing units -> masked
    dominance_share: float = 0.85  # amounts: one unit above 85 % of the cell -> masked

    def __post_init__(self) -> None:
        if self.count_threshold < 1:
            raise ValueError(f"count_threshold must be >= 1, got {self.count_threshold}")
        if self.dominance_units < 1:
            raise ValueError(f"dominance_units must be >= 1, got {self.dominance_units}")
        if not 0 < self.dominance_share <= 1:
            raise ValueError(f"dominance_share must be in ]0, 1], got {self.dominance_share}")

    @property
    def count_reason(self) -> str:
        return f"primary:count<{self.count_threshold}"

    @property
    def contributors_reason(self) -> str:
        return f"primary:contributors<{self.dominance_units}"

    @property
    def dominance_reason(self) -> str:
        return f"primary:dominance>{self.dominance_share * 100:g}%"


@dataclass
class Suppression:
    """The outcome of disclosure control for one value column: per row, masked or not, and why."""

    masked: np.ndarray  # bool per row: masked in the end
    reason: list[str | None]  # per row: "primary:...", "secondary", "source", or None (published)

    def __post_init__(self) -> None:
        self.masked = np.asarray(self.masked, dtype=bool)
        if self.masked.ndim != 1 or len(self.reason) != len(self.masked):
            raise ValueError("masked and reason must be one entry per row")

    def __len__(self) -> int:
        return len(self.masked)

    def counts(self) -> dict[str, int]:
        """Number of masked cells per reason (for the manifest), reasons sorted."""
        out: dict[str, int] = {}
        for flag, why in zip(self.masked, self.reason, strict=True):
            if flag:
                out[why or REASON_PRIMARY] = out.get(why or REASON_PRIMARY, 0) + 1
        return dict(sorted(out.items()))


# --------------------------------------------------------------------------------------------------------------------
# Inputs


def _as_float(values, n: int | None = None, name: str = "values") -> np.ndarray:
    """A float array (NaN for missing) from a list, array or Series, positional."""
    if isinstance(values, pd.Series | pd.Index):
        out = values.to_numpy(dtype=float, na_value=np.nan)
    else:
        out = np.asarray(
            [np.nan if v is None or v is pd.NA else v for v in values] if isinstance(values, list) else values,
            dtype=float,
        )
    out = np.atleast_1d(out).astype(float, copy=True)
    if out.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    if n is not None and len(out) != n:
        raise ValueError(f"{name} has {len(out)} entries, expected {n}")
    return out


def _as_bool(values, n: int, name: str) -> np.ndarray:
    if values is None:
        return np.zeros(n, dtype=bool)
    if isinstance(values, Suppression):
        values = values.masked
    if isinstance(values, pd.Series):
        values = values.fillna(False).to_numpy()
    out = np.asarray(values, dtype=bool)
    if out.shape != (n,):
        raise ValueError(f"{name} has shape {out.shape}, expected ({n},)")
    return out


def _kinds(kind: str | Sequence[str], n: int) -> list[str]:
    kinds = [kind] * n if isinstance(kind, str) else list(kind)
    if len(kinds) != n:
        raise ValueError(f"kind has {len(kinds)} entries, expected {n}")
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown kind(s) {unknown}; expected one of {KINDS}")
    return kinds


def _relations(relations, n: int) -> list[tuple[int, tuple[int, ...]]]:
    """Validated relations, with plain ints, in a canonical order (so the result never depends on their order)."""
    out = set()
    for relation in relations:
        total, parts = relation
        total = int(total)
        parts = tuple(int(p) for p in parts)
        if not parts:
            raise ValueError(f"relation of row {total} has no part")
        for row in (total, *parts):
            if not 0 <= row < n:
                raise ValueError(f"relation row {row} is outside 0..{n - 1}")
        if total in parts or len(set(parts)) != len(parts):
            raise ValueError(f"relation {total} = {parts} repeats a row")
        out.add((total, tuple(sorted(parts))))
    return sorted(out)


# --------------------------------------------------------------------------------------------------------------------
# Primary suppression


def primary(
    values,
    kind: str | Sequence[str],
    rules: Rules = Rules(),  # noqa: B008 - frozen dataclass, immutable default
    *,
    contributors=None,
    top_share=None,
    already_masked=None,
) -> Suppression:
    """Primary suppression of one value column.

    `kind` is `count`, `amount`, `share` or `rate` (or one of these per row, for a column mixing indicators).
    Counts: 0 < value < `count_threshold` is masked. Amounts: `contributors` (number of contributing units per row)
    from 1 to `dominance_units - 1`, or `top_share` (the largest unit's share of the cell, a fraction between 0
    and 1) above `dominance_share`, is masked; a missing (NaN) contributor count or share, or no array at all,
    masks nothing; an amount with 0 contributors is an empty cell (published like a count of 0) unless its value
    is not 0. Shares and rates are not masked here. A NaN value is missing, not masked. `already_masked` (bool per
    row) marks the cells the producer masked: they stay masked with reason `source`, whatever their value.
    """
    v = _as_float(values)
    n = len(v)
    kinds = _kinds(kind, n)
    source = _as_bool(already_masked, n, "already_masked")
    units = _as_float(contributors, n, "contributors") if contributors is not None else np.full(n, np.nan)
    top = _as_float(top_share, n, "top_share") if top_share is not None else np.full(n, np.nan)

    masked = np.zeros(n, dtype=bool)
    reason: list[str | None] = [None] * n
    for i in range(n):
        why = None
        if source[i]:
            why = REASON_SOURCE
        elif math.isnan(v[i]):
            why = None
        elif kinds[i] == "count":
            if 0 < v[i] < rules.count_threshold:
                why = rules.count_reason
        elif kinds[i] == "amount":
            if not math.isnan(units[i]) and units[i] < rules.dominance_units and (units[i] > 0 or v[i] != 0):
                why = rules.contributors_reason
            elif not math.isnan(top[i]) and top[i] > rules.dominance_share:
                why = rules.dominance_reason
        if why is not None:
            masked[i] = True
            reason[i] = why
    return Suppression(masked, reason)


# --------------------------------------------------------------------------------------------------------------------
# Linear algebra on the masked cells

_PRIME = 2**61 - 1  # the field of the computations: integers modulo this prime


class _System:
    """The relations seen by the attacker, solved incrementally over GF(p) as masked cells are added.

    A relation is a row (parts +1, total -1) over the masked cells (the columns). Two sets of combinations of
    relations (sparse dicts relation -> coefficient) are kept: `zero` rows, a basis of the combinations in which every
    masked cell cancels, and per determined cell the combination equal to that cell alone (`solved`). Masking a cell
    adds a column: its image through these combinations says whether it is independent of the masked cells (it is
    then determined, and the zero row used as its pivot is eliminated from the others) or a combination of them
    (every determined cell it touches is then free, for good: masking more never determines a cell again).
    """

    def __init__(self, relations: list[tuple[int, tuple[int, ...]]], masked: np.ndarray):
        self.relations = relations
        self.masked: set[int] = set()
        self.of_cell: dict[int, list[int]] = {}
        for k, (total, parts) in enumerate(relations):
            for row in (total, *parts):
                self.of_cell.setdefault(row, []).append(k)
        self.rows: dict[int, dict[int, int]] = {k: {k: 1} for k in range(len(relations))}
        self.using: dict[int, set[int]] = {k: {k} for k in range(len(relations))}  # relation -> rows using it
        self.zero: set[int] = set(self.rows)
        self.solved: dict[int, int] = {}  # determined cell -> its row
        self.cell_of: dict[int, int] = {}  # row -> the determined cell it gives
        for cell in np.flatnonzero(masked).tolist():
            self.add(cell)

    def coefficients(self, k: int) -> dict[int, int]:
        total, parts = self.relations[k]
        out = {p: 1 for p in parts}
        out[total] = -1
        return out

    def _image(self, cell: int) -> dict[int, int]:
        """The column of `cell` through every kept row: row -> coefficient (non-zero only)."""
        out: dict[int, int] = {}
        for k in self.of_cell.get(cell, ()):
            sign = -1 if self.relations[k][0] == cell else 1
            for r in self.using[k]:
                out[r] = (out.get(r, 0) + sign * self.rows[r][k]) % _PRIME
        return {r: x for r, x in out.items() if x}

    def _drop(self, r: int) -> None:
        for k in self.rows.pop(r):
            self.using[k].discard(r)

    def add(self, cell: int) -> None:
        """Mask `cell`: a new column."""
        self.masked.add(cell)
        image = self._image(cell)
        hits = [r for r in image if r in self.zero]
        if not hits:  # a combination of the masked cells: whatever determined cell it touches is free now
            for r in image:
                del self.solved[self.cell_of.pop(r)]
                self._drop(r)
            return
        pivot = min(hits, key=lambda r: (len(self.rows[r]), r))
        inverse = pow(image[pivot], -1, _PRIME)
        source = {k: x * inverse % _PRIME for k, x in self.rows[pivot].items()}
        self.rows[pivot] = source
        for r, factor in image.items():
            if r == pivot:
                continue
            row = self.rows[r]
            for k, x in source.items():
                y = (row.get(k, 0) - factor * x) % _PRIME
                if y:
                    if k not in row:
                        self.using[k].add(r)
                    row[k] = y
                elif k in row:
                    del row[k]
                    self.using[k].discard(r)
        self.zero.discard(pivot)
        self.solved[cell] = pivot
        self.cell_of[pivot] = cell

    def frees(self, cell: int, candidate: int) -> bool:
        """Whether masking `candidate` would make the determined `cell` free (its value no longer given)."""
        row = self.rows[self.solved[cell]]
        share = sum(row.get(k, 0) * (-1 if self.relations[k][0] == candidate else 1) for k in self.of_cell[candidate])
        if not share % _PRIME:
            return False
        return not any(r in self.zero for r in self._image(candidate))


class _Components:
    """The connected components of the masked cells (two are connected when a relation holds both), merged as cells
    are masked, each with the complements its relations offer: a heap of (`_candidate_key`, row), one entry per role
    of a cell in a relation, from which masked cells and worse roles of a cell are dropped as they come up."""

    def __init__(self, system: _System, publishable: np.ndarray, values: np.ndarray, cost: np.ndarray):
        self.system = system
        self.offset = len(system.relations)  # node of relation k: k; node of masked cell x: offset + x
        self.parent: dict[int, int] = {}
        self.heaps: dict[int, list[tuple]] = {}
        for k, (total, parts) in enumerate(system.relations):
            roles = [(total, True)] + [(p, False) for p in parts]
            self.heaps[k] = [(_candidate_key(r, t, values, cost), r) for r, t in roles if publishable[r]]
            heapq.heapify(self.heaps[k])
        for cell in sorted(system.masked):
            self.add(cell)

    def _root(self, node: int) -> int:
        root = node
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while node != root:
            node, self.parent[node] = self.parent[node], root
        return root

    def add(self, cell: int) -> None:
        """`cell` is masked: its component takes in every relation holding it."""
        root = self._root(self.offset + cell)
        self.heaps.setdefault(root, [])
        for k in self.system.of_cell.get(cell, ()):
            other = self._root(k)
            if other == root:
                continue
            if len(self.heaps[other]) > len(self.heaps[root]):
                root, other = other, root
            self.parent[other] = root
            for entry in self.heaps.pop(other):
                heapq.heappush(self.heaps[root], entry)
        self.parent[self.offset + cell] = root

    def candidates(self, cell: int, limit: int) -> list[int]:
        """The `limit` best complements of the relations of the component of the masked `cell`, best first."""
        heap = self.heaps[self._root(self.offset + cell)]
        kept, seen = [], set()
        while heap and len(kept) < limit:
            entry = heapq.heappop(heap)
            if entry[1] in self.system.masked or entry[1] in seen:
                continue  # masked for good, or a worse role of a cell already taken
            seen.add(entry[1])
            kept.append(entry)
        for entry in kept:
            heapq.heappush(heap, entry)
        return [row for _, row in kept]


def _candidate_key(row: int, is_total: bool, values: np.ndarray, cost: np.ndarray) -> tuple:
    return (is_total, values[row] == 0, cost[row], row)


def _candidates(system: _System, rels: Iterable[int], publishable: np.ndarray, values, cost) -> list[int]:
    """The publishable cells of `rels`, best complement first (a cell's best role over these relations counts)."""
    best: dict[int, tuple] = {}
    for k in rels:
        total, parts = system.relations[k]
        for row, is_total in [(total, True)] + [(p, False) for p in parts]:
            if row in system.masked or not publishable[row]:
                continue
            key = _candidate_key(row, is_total, values, cost)
            if row not in best or key < best[row]:
                best[row] = key
    return sorted(best, key=best.__getitem__)


def _choose_complement(system: _System, components: _Components, cell: int, publishable, values, cost) -> int | None:
    """The cell to mask so that `cell` stops being determined, or None when nothing publishable is left."""
    candidates = _candidates(system, system.of_cell.get(cell, ()), publishable, values, cost)
    if not candidates:
        candidates = components.candidates(cell, _MAX_TRIALS)
    if not candidates:
        return None
    for candidate in candidates[:_MAX_TRIALS]:
        if system.frees(cell, candidate):
            return candidate
    return candidates[0]


# --------------------------------------------------------------------------------------------------------------------
# Secondary suppression


def secondary(values, masked, relations, *, cost=None) -> Suppression:
    """Complementary suppression: mask published cells until no masked cell can be recomputed through `relations`.

    `masked` is the primary outcome (a `Suppression`, whose reasons are kept, or a bool per row, reason `primary`).
    `relations` are `(total_row, (part_row, ...))` with positional rows. `cost` (per row) orders the complements,
    smallest first; by default the absolute value. Complements get reason `secondary`.
    """
    v = _as_float(values)
    n = len(v)
    if isinstance(masked, Suppression):
        if len(masked) != n:
            raise ValueError(f"masked has {len(masked)} entries, expected {n}")
        flags = masked.masked.copy()
        reason = list(masked.reason)
    else:
        flags = _as_bool(masked, n, "masked")
        reason = [REASON_PRIMARY if f else None for f in flags]
    c = np.abs(v) if cost is None else _as_float(cost, n, "cost")
    c = np.where(np.isnan(c), np.inf, c)
    rels = _relations(relations, n)
    publishable = ~np.isnan(v)
    system = _System(rels, flags)
    components = _Components(system, publishable, v, c)

    def mask(row: int) -> None:
        flags[row] = True
        reason[row] = REASON_SECONDARY
        system.add(row)
        components.add(row)

    stuck: set[int] = set()  # disclosed cells around which nothing publishable is left

    # 1. No relation may hold exactly one masked cell: resolved relation by relation, lowest masked row first.
    def single(k: int) -> int | None:
        total, parts = rels[k]
        inside = [r for r in (total, *parts) if r in system.masked]
        return inside[0] if len(inside) == 1 else None

    heap = [(lone, rels[k], k) for k in range(len(rels)) if (lone := single(k)) is not None]
    heapq.heapify(heap)

    def mask_and_watch(row: int) -> None:  # only the relations holding `row` can turn single
        mask(row)
        for k in system.of_cell.get(row, ()):
            other = single(k)
            if other is not None:
                heapq.heappush(heap, (other, rels[k], k))

    def close_singles() -> None:
        while heap:
            lone, _, k = heapq.heappop(heap)
            if single(k) != lone:
                continue
            choice = _candidates(system, [k], publishable, v, c)
            if not choice:
                stuck.add(lone)
                continue
            mask_and_watch(choice[0])

    # 2. No masked cell may be determined by the whole system: one complement at a time, to a fixed point.
    while True:
        close_singles()
        cell = min((cell for cell in system.solved if cell not in stuck), default=None)
        if cell is None:
            break
        choice = _choose_complement(system, components, cell, publishable, v, c)
        if choice is None:
            stuck.add(cell)
            continue
        mask_and_watch(choice)
    return Suppression(flags, reason)


def suppress(
    values,
    kind: str | Sequence[str],
    relations=(),
    rules: Rules = Rules(),  # noqa: B008 - frozen dataclass, immutable default
    *,
    cost=None,
    **primary_options,
) -> Suppression:
    """Primary then secondary suppression of one value column (`primary_options`: contributors, top_share,
    already_masked; `cost` goes to `secondary`). For counts, the protection interval is then widened: when a
    published total minus its published parts leaves less than the threshold to share among masked parts, each of
    them is known to be that small (and a residual of 0 gives them all exactly): one more part is masked, and
    secondary suppression runs again, until no relation is that narrow."""
    first = primary(values, kind, rules, **primary_options)
    result = secondary(values, first, relations, cost=cost)
    if not all(k == "count" for k in _kinds(kind, len(result))):
        return result
    values = _as_float(values, len(result))
    checked = _relations(relations, len(result))
    for _ in range(len(result)):
        extra = _narrow_interval_complements(values, result.masked, checked, rules.count_threshold)
        if not extra:
            return result
        reasons = list(result.reason)
        for row in extra:
            reasons[row] = REASON_SECONDARY
        masked = result.masked.copy()
        masked[sorted(extra)] = True
        result = secondary(values, Suppression(masked, reasons), checked, cost=cost)
    return result


def _narrow_interval_complements(values, masked, relations, threshold: int) -> set[int]:
    """One published part per narrow relation, to mask so that its masked parts share at least `threshold` (none
    when no relation is narrow): the smallest part that widens the interval enough, else the largest."""
    published = ~masked & ~np.isnan(values)
    chosen: set[int] = set()
    for total, parts in relations:
        hidden = [p for p in parts if not published[p]]
        if not published[total] or not any(masked[p] for p in hidden):
            continue
        residual = values[total] - sum(values[p] for p in parts if published[p])
        if residual >= threshold:
            continue
        candidates = sorted((values[p], p) for p in parts if published[p])
        if not candidates:
            continue
        enough = [(v, p) for v, p in candidates if residual + v >= threshold]
        chosen.add((enough[0] if enough else candidates[-1])[1])
    return chosen


# --------------------------------------------------------------------------------------------------------------------
# Applying the outcome to a table


def apply(table_frame: pd.DataFrame, value_column: str, status_column: str, suppression: Suppression) -> pd.DataFrame:
    """A copy of `table_frame` with the masked values set to NaN and their status `masked`.

    The status column is created when absent (`ok`, or `missing` where the value is NaN); when present, its
    statuses are kept except that masked rows become `masked` and unmasked rows without a value and with status
    `ok` or no status become `missing`. Rows are matched by position.
    """
    if len(suppression) != len(table_frame):
        raise ValueError(f"suppression has {len(suppression)} rows, the table {len(table_frame)}")
    out = table_frame.copy()
    masked = np.asarray(suppression.masked, dtype=bool)
    values = out[value_column]
    missing = values.isna().to_numpy() & ~masked
    out[value_column] = values.where(~pd.Series(masked, index=out.index))
    if status_column in out.columns:
        status = out[status_column].astype(object).to_numpy(copy=True)
        unset = pd.isna(status) | (status == STATUS_OK)
        status[missing & unset] = STATUS_MISSING
        status[pd.isna(status)] = STATUS_OK
    else:
        status = np.where(missing, STATUS_MISSING, STATUS_OK).astype(object)
    status[masked] = STATUS_MASKED
    out[status_column] = pd.Series(status, index=out.index, dtype=object)
    return out
