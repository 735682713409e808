"""What the warehouse tells a workbook template: the figures a région's or a département's workbook shows.

`national_values(engine, region)` is the long frame of the région's national indicators (core.indicator_value) that
the regional template's `Indicateurs nationaux` sheet draws its latest values from. `paqte_context(engine,
departement, semester)` fills the `Contexte` sheet of a PAQTE report (`paqte.PaqteContext`): the QPV in force at the
end of the semester and the job seekers (DEFM) living in them, with period, source, availability and remarks; the
QPV population and the PRU of national interest are not in the warehouse. Both raise `ObservatoireError` with one
sentence when the warehouse has no tables yet. The command line and the portal call them, so that a workbook is the
same bytes whichever serves it.
"""

from __future__ import annotations

from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from etl.errors import ObservatoireError
from etl.referentiels.periods import month_label, months_of_semester, semester_bounds
from etl.referentiels.territories import departement_names
from etl.submissions import submission_sql
from etl.submissions.kit import grouped
from etl.submissions.paqte import NOT_IN_WAREHOUSE, ContextValue, PaqteContext, parse_semester


@contextmanager
def _connection(engine, missing: str, remedy: str):
    """A connection of `engine`; a query on a table the warehouse does not have yet raises ObservatoireError."""
    import sqlalchemy as sa

    try:
        with engine.connect() as conn:
            yield conn
    except sa.exc.ProgrammingError:
        raise ObservatoireError(f"the warehouse has no {missing} tables yet: {remedy}.") from None


def national_values(engine, region_code: str):
    """The région's values of the national indicators of the 2014 conventions (a DataFrame), None when none."""
    import pandas as pd
    import sqlalchemy as sa

    with _connection(engine, "indicator", "run `observatoire migrate` and the source DAGs") as conn:
        rows = conn.execute(sa.text(submission_sql("national_values")), {"region": region_code}).mappings().all()
    return pd.DataFrame(rows) if rows else None


def _number(value: Any) -> int | float | None:
    if value is None:
        return None
    value = float(value) if isinstance(value, Decimal) else value
    return int(value) if float(value).is_integer() else float(value)


DEFM_INDICATORS = {"defm_a": "FT_DEFM_A", "defm_abc": "FT_DEFM_ABC"}
MASKED_BELOW = 5  # France Travail masks counts under 5 (catalogue/indicateurs_operateurs.csv)


def _defm_value(row: dict | None, qpv_in_force: int) -> ContextValue:
    if row is None:
        return ContextValue(
            source="France Travail (DEFM par QPV)",
            note="Aucune donnée France Travail dans l'entrepôt pour les QPV du département au cours du semestre.",
        )
    month = row["period_code"]
    known, masked, missing = int(row["known"]), int(row["masked"]), int(row["missing"])
    absent = max(qpv_in_force - known - masked - missing, 0)
    total = _number(row["total"]) if known else None
    notes = [f"Dernier mois du semestre présent dans l'entrepôt : {month_label(month)}."]
    if total is not None:
        notes.append(f"Somme des {known} QPV du département dont l'effectif est connu.")
    if masked:
        note = f"{masked} QPV à effectif masqué par France Travail (moins de {MASKED_BELOW} chacun), non comptés"
        if missing or absent:
            notes.append(note + ".")
        else:  # every QPV is known or masked: the real total is bounded
            upper = (total or 0) + (MASKED_BELOW - 1) * masked
            notes.append(f"{note} : le total réel est compris entre {grouped(total or 0)} et {grouped(upper)}.")
    if missing or absent:
        notes.append(f"{missing + absent} QPV sans donnée pour ce mois, non comptés.")
    return ContextValue(
        value=total,
        period=month,
        source=f"France Travail (DEFM par QPV, livraison {row['vintage']})",
        note=" ".join(notes),
        partial=total is not None and bool(masked or missing or absent),
    )


def paqte_context(engine, departement_code: str, semester: str) -> PaqteContext:
    """The context of `departement_code` for `semester`, read from the warehouse behind `engine` (SQLAlchemy).

    QPV: those of the département in force on the last day of the semester (`valid_from` / `valid_to` of
    core.qpv: the 2024 geography from 2024 in metropolitan France, from 2025 overseas), `non disponible` when the
    warehouse holds no QPV in force that day. DEFM (FT_DEFM_A and FT_DEFM_ABC, total): the latest month of the
    semester with a figure for one of those QPV, summed over them (latest vintage, core.indicator_value). A masked
    or missing QPV figure is not counted as 0: the value is the sum of the known ones, marked `partielle`, and the
    remark says how many are masked and between which bounds the real total lies. The département-level rows of
    France Travail count the whole département, not its QPV, and are not used. QPV population and PRU of national
    interest: not in the warehouse, `non disponible`."""
    import sqlalchemy as sa

    departement_names(departement_code)
    parse_semester(semester)
    _, last_day = semester_bounds(semester)
    params = {"departement": departement_code, "day": last_day}
    with _connection(engine, "territory", "run `observatoire migrate` and the referentiels DAG") as conn:
        loaded = bool(conn.execute(sa.text(submission_sql("paqte_context_loaded")), params).scalar())
        counts = conn.execute(sa.text(submission_sql("paqte_context_qpv")), params).all()
        defm_rows = (
            conn.execute(
                sa.text(submission_sql("paqte_context_defm")),
                {**params, "indicators": list(DEFM_INDICATORS.values()), "months": months_of_semester(semester)},
            )
            .mappings()
            .all()
        )
    in_force = sum(int(count) for _, count in counts)
    if loaded:
        geographies = ", ".join(str(geography) for geography, _ in counts)
        qpv_count = ContextValue(
            value=in_force,
            period=semester,
            source="Référentiel des QPV (ANCT)" + (f", géographie prioritaire {geographies}" if geographies else ""),
            note=f"QPV en vigueur au {last_day:%d/%m/%Y}.",
        )
    else:
        qpv_count = ContextValue(
            source="Référentiel des QPV (ANCT)",
            note=f"Aucun QPV en vigueur au {last_day:%d/%m/%Y} dans l'entrepôt (référentiel non chargé).",
        )
    latest: dict[str, dict] = {}
    for row in defm_rows:
        key = row["indicator_code"]
        if key not in latest or row["period_code"] > latest[key]["period_code"]:
            latest[key] = dict(row)
    defm = {key: _defm_value(latest.get(code), in_force) for key, code in DEFM_INDICATORS.items()}
    return PaqteContext(
        departement_code=departement_code,
        semester=semester,
        qpv_count=qpv_count,
        qpv_population=ContextValue(note=NOT_IN_WAREHOUSE),
        pru_national=ContextValue(note=NOT_IN_WAREHOUSE),
        **defm,
    )
