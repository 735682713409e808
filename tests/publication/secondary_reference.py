"""The secondary suppression of etl/publication/disclosure.py as it was before its incremental rewrite, kept as
the reference of the differential test (test_disclosure.py): every system solved again from scratch, with rational
arithmetic (`fractions.Fraction`), after every complement. Slow on large components; inputs are taken as valid."""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from fractions import Fraction

import numpy as np

from etl.publication.disclosure import REASON_PRIMARY, REASON_SECONDARY, Suppression

_MAX_TRIALS = 25


def _reduced_rows(rows: Iterable[dict[int, int]]) -> dict[int, dict[int, Fraction]]:
    """Sparse reduced row echelon form: pivot column -> its row (pivot 1, no other pivot column in it)."""
    pivots: dict[int, dict[int, Fraction]] = {}
    for row in rows:
        r = {c: Fraction(x) for c, x in row.items() if x}
        for c in [c for c in r if c in pivots]:
            factor = r.get(c)
            if not factor:
                continue
            for cc, x in pivots[c].items():
                y = r.get(cc, 0) - factor * x
                if y:
                    r[cc] = y
                else:
                    r.pop(cc, None)
        if not r:
            continue
        p = min(r)
        scale = r[p]
        r = {c: x / scale for c, x in r.items()}
        for prow in pivots.values():
            factor = prow.get(p)
            if factor:
                for cc, x in r.items():
                    y = prow.get(cc, 0) - factor * x
                    if y:
                        prow[cc] = y
                    else:
                        prow.pop(cc, None)
        pivots[p] = r
    return pivots


class _System:
    """The relations seen by the attacker: which cells are masked, and which relations hold each cell."""

    def __init__(self, relations: list[tuple[int, tuple[int, ...]]], masked: np.ndarray):
        self.relations = relations
        self.masked = set(np.flatnonzero(masked).tolist())
        self.of_cell: dict[int, list[int]] = {}
        for k, (total, parts) in enumerate(relations):
            for row in (total, *parts):
                self.of_cell.setdefault(row, []).append(k)
        self._cache: dict[frozenset[int], frozenset[int]] = {}

    def coefficients(self, k: int) -> dict[int, int]:
        total, parts = self.relations[k]
        out = {p: 1 for p in parts}
        out[total] = -1
        return out

    def component(self, seed: int, masked: set[int]) -> tuple[set[int], set[int]]:
        """The masked cells connected to `seed` through relations, and those relations."""
        cells, rels, todo = {seed}, set(), [seed]
        while todo:
            cell = todo.pop()
            for k in self.of_cell.get(cell, ()):
                if k in rels:
                    continue
                rels.add(k)
                for other in self.coefficients(k):
                    if other in masked and other not in cells:
                        cells.add(other)
                        todo.append(other)
        return cells, rels

    def determined_in(self, cells: set[int], rels: set[int], masked: set[int]) -> frozenset[int]:
        """The cells of a component that its relations determine uniquely."""
        key = frozenset(cells)
        if masked is self.masked and key in self._cache:
            return self._cache[key]
        rows = []
        for k in sorted(rels):
            row = {c: x for c, x in self.coefficients(k).items() if c in masked}
            if row:
                rows.append(row)
        pivots = _reduced_rows(rows)
        found = frozenset(p for p, row in pivots.items() if len(row) == 1)
        if masked is self.masked:
            self._cache[key] = found
        return found

    def determined(self) -> list[int]:
        """Every masked cell the published cells and the relations determine, sorted."""
        seen: set[int] = set()
        out: set[int] = set()
        for cell in sorted(self.masked):
            if cell in seen:
                continue
            cells, rels = self.component(cell, self.masked)
            seen |= cells
            out |= self.determined_in(cells, rels, self.masked)
        return sorted(out)

    def is_determined(self, cell: int, masked: set[int]) -> bool:
        cells, rels = self.component(cell, masked)
        return cell in self.determined_in(cells, rels, masked)


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


def _choose_complement(system: _System, cell: int, publishable, values, cost) -> int | None:
    """The cell to mask so that `cell` stops being determined, or None when nothing publishable is left."""
    candidates = _candidates(system, system.of_cell.get(cell, ()), publishable, values, cost)
    if not candidates:
        _, rels = system.component(cell, system.masked)
        candidates = _candidates(system, rels, publishable, values, cost)
    if not candidates:
        return None
    for candidate in candidates[:_MAX_TRIALS]:
        if not system.is_determined(cell, system.masked | {candidate}):
            return candidate
    return candidates[0]


# --------------------------------------------------------------------------------------------------------------------
# Secondary suppression


def reference_secondary(values, masked, relations, *, cost=None) -> Suppression:
    """Complementary suppression: mask published cells until no masked cell can be recomputed through `relations`.

    `masked` is the primary outcome (a `Suppression`, whose reasons are kept, or a bool per row, reason `primary`).
    `relations` are `(total_row, (part_row, ...))` with positional rows. `cost` (per row) orders the complements,
    smallest first; by default the absolute value. Complements get reason `secondary`.
    """
    v = np.asarray(values, dtype=float)
    if isinstance(masked, Suppression):
        flags = masked.masked.copy()
        reason = list(masked.reason)
    else:
        flags = np.asarray(masked, dtype=bool).copy()
        reason = [REASON_PRIMARY if f else None for f in flags]
    c = np.abs(v) if cost is None else np.asarray(cost, dtype=float)
    c = np.where(np.isnan(c), np.inf, c)
    rels = sorted({(int(t), tuple(sorted(int(p) for p in parts))) for t, parts in relations})
    publishable = ~np.isnan(v)
    system = _System(rels, flags)

    def mask(row: int) -> None:
        flags[row] = True
        reason[row] = REASON_SECONDARY
        system.masked.add(row)

    stuck: set[int] = set()  # disclosed cells around which nothing publishable is left

    # 1. No relation may hold exactly one masked cell: resolved relation by relation, lowest masked row first.
    def single(k: int) -> int | None:
        total, parts = rels[k]
        inside = [r for r in (total, *parts) if r in system.masked]
        return inside[0] if len(inside) == 1 else None

    def close_singles() -> None:
        heap = []
        for k in range(len(rels)):
            lone = single(k)
            if lone is not None:
                heap.append((lone, rels[k], k))
        heapq.heapify(heap)
        while heap:
            lone, _, k = heapq.heappop(heap)
            if single(k) != lone:
                continue
            choice = _candidates(system, [k], publishable, v, c)
            if not choice:
                stuck.add(lone)
                continue
            mask(choice[0])
            for kk in system.of_cell.get(choice[0], ()):
                other = single(kk)
                if other is not None:
                    heapq.heappush(heap, (other, rels[kk], kk))

    # 2. No masked cell may be determined by the whole system: one complement at a time, to a fixed point.
    while True:
        close_singles()
        disclosed = [cell for cell in system.determined() if cell not in stuck]
        if not disclosed:
            break
        cell = disclosed[0]
        choice = _choose_complement(system, cell, publishable, v, c)
        if choice is None:
            stuck.add(cell)
            continue
        mask(choice)
    return Suppression(flags, reason)
