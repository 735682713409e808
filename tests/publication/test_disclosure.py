"""Tests of statistical disclosure control (etl/publication/disclosure.py): primary and secondary suppression.

Whether a masked cell can be recomputed is checked here independently of the module: by the numerical rank of the
relations restricted to the masked cells (numpy SVD: cell i is determined iff adding e_i does not raise the rank),
and on small tables by enumerating every non-negative integer filling of the masked cells that agrees with the
published cells.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from etl.publication.disclosure import Rules, Suppression, apply, primary, secondary, suppress

# --------------------------------------------------------------------------------------------------------------------
# Independent checks


def recomputable(values, masked, relations) -> set[int]:
    """Masked cells that the published cells determine through the relations (missing values count as known)."""
    unknown = [int(i) for i in np.flatnonzero(masked)]
    if not unknown:
        return set()
    column = {cell: j for j, cell in enumerate(unknown)}
    rows = []
    for total, parts in relations:
        row = np.zeros(len(unknown))
        for cell, coefficient in [(total, -1.0)] + [(p, 1.0) for p in parts]:
            if cell in column:
                row[column[cell]] += coefficient
        if row.any():
            rows.append(row)
    if not rows:
        return set()
    matrix = np.array(rows)
    rank = np.linalg.matrix_rank(matrix)
    found = set()
    for cell, j in column.items():
        unit = np.zeros(len(unknown))
        unit[j] = 1.0
        if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
            found.add(cell)
    return found


def feasible_values(values, masked, relations) -> dict[int, set[int]]:
    """Every value each masked cell takes over the non-negative integer fillings consistent with the published cells.

    A masked part cannot exceed a published total it belongs to; that bounds the enumeration.
    """
    values = np.asarray(values, dtype=float)
    unknown = [int(i) for i in np.flatnonzero(masked)]
    published_total = float(np.nansum(np.where(masked, 0, values)))
    bounds = []
    for cell in unknown:
        limits = [values[t] for t, parts in relations if cell in parts and not masked[t]]
        bounds.append(int(min(limits, default=published_total)))
    grid = np.indices([b + 1 for b in bounds], dtype=np.int32).reshape(len(unknown), -1)
    ok = np.ones(grid.shape[1], dtype=bool)

    def term(cell):
        return grid[unknown.index(cell)] if cell in unknown else values[cell]

    for total, parts in relations:
        ok &= sum(term(p) for p in parts) == term(total)
    return {cell: set(np.unique(grid[j][ok]).tolist()) for j, cell in enumerate(unknown)}


def singles(masked, relations) -> list:
    """Relations holding exactly one masked cell."""
    return [(t, p) for t, p in relations if sum(bool(masked[c]) for c in (t, *p)) == 1]


def test_the_independent_check_sees_a_lone_masked_cell_and_a_triangle():
    # its own sanity: a lone masked part is determined; x, y, z with x+y, x+z, y+z published are all determined
    assert recomputable([3, 7, 10], [True, False, False], [(2, (0, 1))]) == {0}
    assert recomputable([3, 7, 10], [True, True, False], [(2, (0, 1))]) == set()
    triangle = [(3, (0, 1)), (4, (0, 2)), (5, (1, 2))]
    assert recomputable([3, 4, 5, 7, 8, 9], [True, True, True, False, False, False], triangle) == {0, 1, 2}
    assert feasible_values([3, 4, 5, 7, 8, 9], [True, True, True, False, False, False], triangle) == {
        0: {3},
        1: {4},
        2: {5},
    }


# --------------------------------------------------------------------------------------------------------------------
# Primary suppression


def test_counts_are_masked_from_1_to_threshold_minus_1():
    values = [0, 1, 5, 10, 11, 12, 250, np.nan, 10.5]
    result = primary(values, "count")
    rules = Rules()
    assert list(result.masked) == [False, True, True, True, False, False, False, False, True]
    assert result.reason[1] == f"primary:count<{rules.count_threshold}"
    assert result.reason[0] is None and result.reason[4] is None
    assert result.reason[7] is None  # missing: not masked (apply() gives it the status "missing")


def test_count_threshold_comes_from_the_rules():
    rules = Rules(count_threshold=5)
    result = primary([4, 5, 10], "count", rules)
    assert list(result.masked) == [True, False, False]
    assert result.reason[0] == "primary:count<5"


def test_amounts_with_few_contributors_or_one_dominant_unit_are_masked():
    values = [1000.0, 1000.0, 1000.0, 1000.0, 1000.0, 0.0, 50.0]
    contributors = [2, 3, 3, np.nan, 10, 0, 0]
    top_share = [0.5, 0.86, 0.85, 0.90, np.nan, np.nan, np.nan]
    result = primary(values, "amount", contributors=contributors, top_share=top_share)
    assert list(result.masked) == [True, True, False, True, False, False, True]
    assert result.reason[0] == "primary:contributors<3"
    assert result.reason[1] == "primary:dominance>85%"
    assert result.reason[3] == "primary:dominance>85%"
    assert result.reason[6] == "primary:contributors<3"  # a non-zero amount that nobody contributed: masked


def test_amounts_without_contributor_information_are_not_masked():
    result = primary([5.0, 1e6], "amount")
    assert not result.masked.any()


def test_shares_and_rates_are_never_primary_masked():
    for kind in ("share", "rate"):
        assert not primary([0.5, 3.0, 99.0], kind).masked.any()


def test_kind_per_row_and_unknown_kinds():
    result = primary([3, 3, 3], ["count", "share", "rate"])
    assert list(result.masked) == [True, False, False]
    with pytest.raises(ValueError):
        primary([3], "average")


def test_source_masks_are_kept_whatever_the_value():
    values = [np.nan, 500, 3, 40]
    result = primary(values, "count", already_masked=[True, True, False, False])
    assert list(result.masked) == [True, True, True, False]
    assert result.reason[:3] == ["source", "source", f"primary:count<{Rules().count_threshold}"]


def test_rules_are_validated():
    with pytest.raises(ValueError):
        Rules(count_threshold=0)
    with pytest.raises(ValueError):
        Rules(dominance_share=1.5)


# --------------------------------------------------------------------------------------------------------------------
# Secondary suppression


def two_by_two():
    """A 2x2 table with its margins: a b R1 / c d R2 / C1 C2 T (positions 0..8)."""
    a, b, c, d = 3, 12, 20, 15
    values = [a, b, a + b, c, d, c + d, a + c, b + d, a + b + c + d]
    relations = [(2, (0, 1)), (5, (3, 4)), (6, (0, 3)), (7, (1, 4)), (8, (2, 5)), (8, (6, 7))]
    return values, relations


def test_two_by_two_with_margins_masks_at_least_four_cells_and_none_is_recomputable():
    values, relations = two_by_two()
    result = suppress(values, "count", relations)
    assert result.masked[0]  # the small cell
    assert result.masked.sum() >= 4
    assert recomputable(values, result.masked, relations) == set()
    feasible = feasible_values(values, result.masked, relations)
    for cell, seen in feasible.items():
        assert values[cell] in seen
        assert len(seen) >= 2, f"cell {cell} can only be {seen}"
    # the grand total is never needed: the interior cells do
    assert not result.masked[8]
    assert {result.reason[i] for i in np.flatnonzero(result.masked) if i != 0} == {"secondary"}


def hierarchy(departements):
    """France (row 0) > régions (rows 1..r) > their départements; values of the départements per région."""
    regions = len(departements)
    values = [0.0] * (1 + regions)
    relations = []
    for r, deps in enumerate(departements):
        first = len(values)
        values.extend(float(v) for v in deps)
        values[1 + r] = float(sum(deps))
        relations.append((1 + r, tuple(range(first, first + len(deps)))))
    values[0] = float(sum(values[1 : 1 + regions]))
    relations.append((0, tuple(range(1, 1 + regions))))
    return values, relations


def test_territory_hierarchy_masks_one_more_departement_per_region_and_no_total():
    departements = [[5, 12, 20], [14, 8, 13]]
    values, relations = hierarchy(departements)
    result = suppress(values, "count", relations)
    threshold = Rules().count_threshold
    small = {i for i, v in enumerate(values) if 0 < v < threshold}
    assert small and all(result.masked[i] for i in small)
    assert not result.masked[:3].any()  # France and the régions stay published: a département will do
    for _total, parts in relations[:-1]:
        primary_parts = [p for p in parts if p in small]
        others = [p for p in parts if p not in small]
        expected = min(others, key=lambda p: (values[p], p))  # the smallest published département of the région
        assert set(np.flatnonzero(result.masked)) & set(parts) == {*primary_parts, expected}
    assert recomputable(values, result.masked, relations) == set()
    for cell, seen in feasible_values(values, result.masked, relations).items():
        assert len(seen) >= 2, f"cell {cell} can only be {seen}"


def test_a_masked_region_is_protected_at_both_levels():
    # région 2 is masked by its producer: France = R1 + R2 + R3 then needs a second région, and each masked
    # région needs a masked département (its own relation would otherwise give it away)
    departements = [[40, 60, 80], [30, 25, 45], [90, 70, 50]]
    values, relations = hierarchy(departements)
    source = np.zeros(len(values), dtype=bool)
    source[2] = True
    result = suppress(values, "count", relations, already_masked=source)
    assert result.reason[2] == "source"
    assert singles(result.masked, relations) == []
    assert recomputable(values, result.masked, relations) == set()
    assert not result.masked[0]


def test_triangle_needs_the_exact_check_not_only_the_lone_cell_rule():
    # x, y, z masked, x+y, x+z, y+z published: every relation has two masked cells, yet each cell is determined
    values = [3, 4, 5, 7, 8, 9]
    relations = [(3, (0, 1)), (4, (0, 2)), (5, (1, 2))]
    given = np.array([True, True, True, False, False, False])
    assert singles(given, relations) == []
    assert recomputable(values, given, relations) == {0, 1, 2}
    result = secondary(values, given, relations)
    assert result.masked[3:].any()
    assert recomputable(values, result.masked, relations) == set()
    for cell, seen in feasible_values(values, result.masked, relations).items():
        assert len(seen) >= 2, f"cell {cell} can only be {seen}"
    assert result.reason[:3] == ["primary"] * 3


def test_zero_parts_come_after_non_zero_ones_but_can_be_masked():
    values = [53, 3, 0, 50]  # total = 3 + 0 + 50
    result = suppress(values, "count", [(0, (1, 2, 3))])
    assert list(np.flatnonzero(result.masked)) == [1, 3]
    values = [30, 30, 0]  # total = 30 + 0 with the 30 masked: the zero part rather than the total
    result = secondary(values, [False, True, False], [(0, (1, 2))])
    assert list(np.flatnonzero(result.masked)) == [1, 2]


def test_missing_values_do_not_protect_and_are_not_masked():
    values = [100, 4, np.nan, 30, 20]  # 100 = 4 + ? + 30 + 20
    result = suppress(values, "count", [(0, (1, 2, 3, 4))])
    assert not result.masked[2]
    assert result.masked[1] and result.masked[4] and not result.masked[3]  # 20 is the smallest published part


def test_a_source_masked_cell_without_value_is_protected():
    values = [90, np.nan, 40, 20, 30]
    result = suppress(values, "count", [(0, (1, 2, 3, 4))], already_masked=[False, True, False, False, False])
    assert list(np.flatnonzero(result.masked)) == [1, 3]


def test_cost_orders_the_complements_and_ties_go_to_the_lowest_row():
    values = [103, 3, 40, 60]
    relations = [(0, (1, 2, 3))]
    cheap_last = suppress(values, "count", relations, cost=[0, 0, 9, 1])
    assert list(np.flatnonzero(cheap_last.masked)) == [1, 3]
    values = [83, 3, 40, 40]
    assert list(np.flatnonzero(suppress(values, "count", relations).masked)) == [1, 2]


def test_no_relation_means_primary_only():
    values = [0, 3, 12, 7, 100]
    first = primary(values, "count")
    both = suppress(values, "count")
    assert list(both.masked) == list(first.masked)
    assert both.reason == first.reason


def test_result_does_not_depend_on_the_order_of_relations_and_is_repeatable():
    departements = [[5, 12, 20, 12], [14, 8, 13, 8], [30, 30, 2, 40]]
    values, relations = hierarchy(departements)
    reference = suppress(values, "count", relations)
    shuffled = [(t, tuple(reversed(p))) for t, p in reversed(relations)]
    again = suppress(values, "count", shuffled)
    assert list(again.masked) == list(reference.masked)
    assert again.reason == reference.reason
    assert suppress(values, "count", relations).reason == reference.reason


def test_invalid_relations_are_refused():
    with pytest.raises(ValueError):
        secondary([1, 2, 3], [False, False, False], [(0, (1, 5))])
    with pytest.raises(ValueError):
        secondary([1, 2, 3], [False, False, False], [(0, (0, 1))])


def test_large_hierarchy_of_5000_departements():
    rng = np.random.default_rng(2024)
    departements = []
    for _ in range(100):
        deps = rng.integers(11, 400, size=50)
        small = rng.choice(50, size=rng.integers(0, 4), replace=False)
        deps[small] = rng.integers(1, 11, size=len(small))
        departements.append(deps.tolist())
    departements[7] = [int(v) for v in rng.integers(0, 6, size=50)]  # a région made only of small départements
    values, relations = hierarchy(departements)
    result = suppress(values, "count", relations)
    threshold = Rules().count_threshold
    values_array = np.asarray(values)
    assert result.masked[(values_array > 0) & (values_array < threshold)].all()
    assert singles(result.masked, relations) == []
    assert recomputable(values, result.masked, relations) == set()
    assert not result.masked[0]


# --------------------------------------------------------------------------------------------------------------------
# Applying the outcome


def test_apply_blanks_masked_values_and_sets_statuses():
    frame = pd.DataFrame({"code": ["01", "02", "03", "04"], "demandeurs": [3, 150, None, 40]})
    frame["demandeurs"] = frame["demandeurs"].astype("Int64")
    result = suppress(frame["demandeurs"], "count", [])
    out = apply(frame, "demandeurs", "statut", result)
    assert out["statut"].tolist() == ["masked", "ok", "missing", "ok"]
    assert out["demandeurs"].isna().tolist() == [True, False, True, False]
    assert out.loc[1, "demandeurs"] == 150
    assert "statut" not in frame.columns and frame.loc[0, "demandeurs"] == 3  # the input is not modified


def test_apply_keeps_existing_statuses():
    frame = pd.DataFrame(
        {
            "valeur": [5.0, np.nan, np.nan, 20.0, 30.0],
            "statut": ["ok", "not_applicable", None, "ok", "ok"],
        }
    )
    suppression = Suppression(np.array([True, False, False, False, True]), ["primary:count<11", None, None, None, "x"])
    out = apply(frame, "valeur", "statut", suppression)
    assert out["statut"].tolist() == ["masked", "not_applicable", "missing", "ok", "masked"]
    assert out["valeur"].isna().tolist() == [True, True, True, False, True]
    with pytest.raises(ValueError):
        apply(frame.iloc[:2], "valeur", "statut", suppression)


def test_counts_per_reason():
    values, relations = two_by_two()
    result = suppress(values, "count", relations)
    counts = result.counts()
    assert sum(counts.values()) == int(result.masked.sum())
    assert counts[f"primary:count<{Rules().count_threshold}"] == 1


def test_masked_parts_never_share_less_than_the_threshold_of_a_published_total():
    """Two small parts masked under a published total of 200 with a published part of 190: the two are known to sum
    to 10, so each is known to be at most 10 (and a residual of 0 would give them exactly): a third part goes."""
    values = np.array([200.0, 190.0, 5.0, 5.0])
    result = suppress(values, "count", [(0, (1, 2, 3))])
    assert result.masked[2] and result.masked[3]
    published = ~result.masked
    residual = values[0] - values[1:][published[1:]].sum() if published[0] else None
    assert residual is None or residual >= 11

    zeros = np.array([40.0, 40.0, 0.0, 0.0, 3.0])  # a masked 3 beside published zeros: residual 3
    result = suppress(zeros, "count", [(0, (1, 2, 3, 4))])
    published = ~result.masked
    assert not published[0] or zeros[0] - zeros[1:][published[1:]].sum() >= 11
