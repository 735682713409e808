"""Plausibility rules shared by both checkers: figures a territory cannot, or hardly, hold.

`too_many_qpv` (PLAUSIBILITE-QPV, error): a count of QPV above the QPV in force in its territory on 31 December of
the campaign (skipped, with a warning, without a warehouse that knows them); `out_of_range` (PLAUSIBILITE-FOURCHETTE,
warning): a count outside `etl.referentiels.catalogue.PLAUSIBLE_RANGES`; `part_above_whole` (PLAUSIBILITE-PARTIE,
error). Only cells read as numbers are looked at; shapes and signs are the GX suites' rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from etl.referentiels.catalogue import PLAUSIBLE_RANGES
from etl.submissions import submission_sql
from etl.submissions.verdict import ERROR, WARNING, Finding, found_in

QPV_RULE = "PLAUSIBILITE-QPV"
RANGE_RULE = "PLAUSIBILITE-FOURCHETTE"
PART_RULE = "PLAUSIBILITE-PARTIE"


@dataclass(frozen=True)
class QpvInForce:
    """The QPV in force on `day`, per région and per département."""

    day: dt.date
    regions: dict[str, int]
    departements: dict[str, int]


def reference_day(campaign: int) -> dt.date:
    """The day a campaign's counts of QPV are compared with the geography: 31 December of the campaign."""
    return dt.date(campaign, 12, 31)


def qpv_in_force(engine, day: dt.date) -> tuple[QpvInForce | None, str]:
    """(the QPV in force on `day` read from core.qpv, "") or (None, why the rule cannot run)."""
    import sqlalchemy as sa

    if engine is None:
        return None, "vérification faite sans accès à l'entrepôt"
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(submission_sql("qpv_in_force")), {"day": day}).all()
    except sa.exc.ProgrammingError:
        return None, "l'entrepôt n'a pas de référentiel des QPV (base non migrée)"
    if not rows:
        return None, f"aucun QPV en vigueur au {day:%d/%m/%Y} dans l'entrepôt (référentiel non chargé)"
    regions: dict[str, int] = {}
    departements: dict[str, int] = {}
    for region, departement, count in rows:
        regions[region] = regions.get(region, 0) + int(count)
        departements[departement] = departements.get(departement, 0) + int(count)
    return QpvInForce(day, regions, departements), ""


def number(value: float) -> str:
    """A count as French text: `2215`, `12 500` (groups of digits from 10 000), `12,5`."""
    if float(value).is_integer():
        whole = int(value)
        return f"{whole:,}".replace(",", "\u00a0") if abs(whole) >= 10_000 else str(whole)
    return format(float(value), ".15g").replace(".", ",")


def _where(row: Mapping[str, Any]) -> str:
    return f"{row['sheet']}!{row['cell']}"


def _finding(rule: str, severity: str, message: str, row: Mapping[str, Any], territory, expected: str) -> Finding:
    return Finding(
        rule,
        severity,
        message,
        sheet=row["sheet"],
        cell=row["cell"],
        indicator=row.get("indicator_code") or None,
        territory=territory,
        found=found_in(row),
        expected=expected,
    )


def too_many_qpv(
    row: Mapping[str, Any], in_force: int, territory: str, day: dt.date, *, departement: str | None = None
) -> Finding | None:
    """The error of a count of QPV above the `in_force` QPV of `territory` (`la région Île-de-France`)."""
    if row["value"] <= in_force:
        return None
    return _finding(
        QPV_RULE,
        ERROR,
        f"la cellule {_where(row)} déclare {number(row['value'])} QPV, or {territory} en compte {number(in_force)} "
        f"au {day:%d/%m/%Y} : un nombre de QPV ne peut pas dépasser celui des QPV en vigueur dans le territoire ; "
        "corriger la valeur.",
        row,
        departement,
        f"au plus {number(in_force)}",
    )


def skipped(reason: str, cells: list[str]) -> Finding:
    """The warning that the QPV counts of `cells` were not compared with the territory's QPV, and why."""
    shown = ", ".join(cells[:5]) + (f" et {len(cells) - 5} autre(s)" if len(cells) > 5 else "")
    return Finding(
        QPV_RULE,
        WARNING,
        f"nombre de QPV déclaré ({shown}) non comparé au nombre de QPV du territoire : {reason}.",
    )


def out_of_range(row: Mapping[str, Any], key: str, *, departement: str | None = None) -> Finding | None:
    """The warning of a count outside the plausible range `PLAUSIBLE_RANGES[key]`."""
    plausible = PLAUSIBLE_RANGES[key]
    if plausible.low <= row["value"] <= plausible.high:
        return None
    bounds = f"de {number(plausible.low)} à {number(plausible.high)} {plausible.what} {plausible.scope}"
    return _finding(
        RANGE_RULE,
        WARNING,
        f"la cellule {_where(row)} déclare {number(row['value'])} {plausible.what}, hors de la fourchette plausible "
        f"{bounds} ({plausible.basis}) : vérifier la valeur (zéro en trop, unité) ; elle est acceptée en l'état.",
        row,
        departement,
        f"une valeur {bounds}",
    )


def part_above_whole(part: Mapping[str, Any], whole: Mapping[str, Any], what: str) -> Finding | None:
    """The error of a part above its whole; `what` names the whole (`les entreprises signataires`)."""
    if part["value"] <= whole["value"]:
        return None
    return _finding(
        PART_RULE,
        ERROR,
        f"la cellule {_where(part)} déclare {number(part['value'])}, plus que {what} ({number(whole['value'])}, "
        f"cellule {_where(whole)}) : une partie ne peut pas dépasser son total ; corriger l'une des deux valeurs.",
        part,
        None,
        f"au plus {number(whole['value'])}",
    )
