"""Differential test of secondary suppression: the incremental implementation (etl/publication/disclosure.py) masks
exactly the cells, with the reasons, of the reference that solves every system again with rational arithmetic
(secondary_reference.py), on seeded random tables with hierarchical and overlapping relations."""

from __future__ import annotations

import numpy as np
import pytest

from etl.publication.disclosure import REASON_SOURCE, Suppression, secondary
from tests.publication.secondary_reference import reference_secondary
from tests.publication.test_disclosure import recomputable as determined  # numpy rank, independent of both

BREAKDOWNS = [[], [(0, (1, 2))], [(0, (1, 2, 3))], [(0, (1, 2)), (0, (3, 4, 5))]]  # total = women + men, age bands


def random_table(rng: np.random.Generator, size: int, small: float):
    """(values, masked, relations, cost) of a table of about `size` cells: territories (France, régions, départements,
    leaves, and groups of leaves that cross the départements, like communes or EPCI) × a breakdown."""
    breakdown = BREAKDOWNS[rng.integers(len(BREAKDOWNS))]
    width = 1 + max((max(parts) for _, parts in breakdown), default=0)
    territories = max(size // width, 4)
    leaves = max(territories * 3 // 5, 2)
    departements = max(leaves // int(rng.integers(2, 6)), 1)
    regions = max(departements // int(rng.integers(1, 4)), 1)
    groups = max(territories - 1 - regions - departements - leaves, 0)
    region_of = rng.integers(regions, size=departements)
    departement_of = rng.integers(departements, size=leaves)
    # territory rows: 0 France, then régions, départements, leaves, groups
    first_region, first_departement = 1, 1 + regions
    first_leaf = first_departement + departements
    first_group = first_leaf + leaves
    geography = [(0, [first_region + r for r in range(regions)])]
    geography += [
        (first_region + r, [first_departement + d for d in np.flatnonzero(region_of == r)]) for r in range(regions)
    ]
    geography += [(first_departement + d, [first_leaf + q for q in np.flatnonzero(departement_of == d)])
                  for d in range(departements)]  # fmt: skip
    for g in range(groups):
        members = rng.choice(leaves, size=int(rng.integers(1, min(leaves, 6) + 1)), replace=False)
        geography.append((first_group + g, [first_leaf + int(q) for q in members]))
    n_territories = first_group + groups

    def cell(territory: int, line: int) -> int:
        return territory * width + line

    leaf_values = np.where(rng.random((leaves, width)) < small, rng.integers(1, 11, (leaves, width)),
                           rng.integers(11, 300, (leaves, width))).astype(float)  # fmt: skip
    leaf_values[rng.random((leaves, width)) < 0.04] = 0
    values = np.zeros(n_territories * width)
    for q in range(leaves):
        for line in range(width):
            values[cell(first_leaf + q, line)] = leaf_values[q, line]
    for total, parts in reversed(geography):  # groups, départements, régions, France: sums of their parts
        for line in range(width):
            values[cell(total, line)] = sum(values[cell(p, line)] for p in parts)
    relations = [(cell(t, line), tuple(cell(p, line) for p in parts)) for t, parts in geography if parts
                 for line in range(width)]  # fmt: skip
    relations += [(cell(t, total), tuple(cell(t, p) for p in parts)) for t in range(n_territories)
                  for total, parts in breakdown]  # fmt: skip
    values[rng.random(len(values)) < 0.02] = np.nan  # missing figures: known to the attacker, never complements
    masked = (values > 0) & (values < 11)
    reasons = ["primary:count<11" if m else None for m in masked]
    for row in np.flatnonzero(rng.random(len(values)) < 0.01):
        masked[row], reasons[row] = True, REASON_SOURCE
    cost = None if rng.random() < 0.7 else rng.integers(0, 5, len(values)).astype(float)
    order = rng.permutation(len(relations))
    return values, Suppression(masked, reasons), [relations[i] for i in order], cost


@pytest.mark.parametrize("batch", range(4))
def test_secondary_masks_exactly_what_the_reference_masks(batch):
    """50 tables of 20 to 70 cells per batch (the reference solves everything again after each complement: larger
    tables take it seconds each; they were compared once, 300 tables of 20 to 300 cells, by hand)."""
    rng = np.random.default_rng(20240 + batch)
    compared = masked_beyond_primary = 0
    for _ in range(50):
        values, first, relations, cost = random_table(rng, int(rng.integers(20, 71)), float(rng.uniform(0.05, 0.3)))
        got = secondary(values, first, relations, cost=cost)
        expected = reference_secondary(values, first, relations, cost=cost)
        assert got.masked.tolist() == expected.masked.tolist()
        assert got.reason == expected.reason
        compared += 1
        masked_beyond_primary += int(got.masked.sum() - first.masked.sum())
    assert compared == 50
    assert masked_beyond_primary > 0  # the cases do exercise secondary suppression


def test_on_larger_tables_no_masked_cell_is_determined_and_primary_masks_are_kept():
    rng = np.random.default_rng(7)
    for _ in range(60):
        values, first, relations, cost = random_table(rng, int(rng.integers(80, 301)), float(rng.uniform(0.05, 0.3)))
        got = secondary(values, first, relations, cost=cost)
        assert got.masked[first.masked].all()
        assert [r for f, r in zip(first.masked, first.reason, strict=True) if f] == [
            r for f, r in zip(first.masked, got.reason, strict=True) if f
        ]
        added = got.masked & ~first.masked
        assert all(got.reason[i] == "secondary" for i in np.flatnonzero(added))
        assert not np.isnan(values[added]).any()  # missing values are never complements
        # a determined cell is left only beside a relation with nothing publishable left (the rest masked or missing)
        for cell in determined(values, got.masked, relations):
            holding = [(t, parts) for t, parts in relations if cell in (t, *parts)]
            assert any(all(got.masked[c] or np.isnan(values[c]) for c in (t, *parts)) for t, parts in holding), cell
