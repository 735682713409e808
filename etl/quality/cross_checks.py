"""Cross-source checks on indicator values, per period, against what the warehouse already knows.

They run after gate 2 on the typed long frame (`staging.indicator_value` shape) and report like GX
expectations (`gates.Outcome`, gate `cross`, stored in audit.dq_result), so a blocking failure quarantines
the file with the lines concerned:

- `qpv_within_departement` (blocking): for each indicator, period and breakdown, the QPV of a département
  never add up to more than the département's own figure in the same file;
- `territory_in_force` (blocking): a QPV figure's period lies within that QPV's validity (2015 codes until
  2023, 2024 codes from 2024; overseas one year later): no figure for a territory that did not exist then. For a
  source that declares `veille_active` (etl/sources/registry.yaml), a 2015 QPV that left the geography
  (core.qpv_veille_active) is accepted after it left: the producer still follows it. Unknown codes and any other
  code outside its validity stay refused. Such figures never count among the QPV in force (the checks below,
  sql/core/aggregate_qpv_counts.sql, sql/publication/emploi_qpv.sql);
- `qpv_coverage` (blocking): every QPV in force for a period has a row for each indicator (a masked cell
  is a row: masked is an explicit status, absence is not);
- `qpv_within_ensemble` (blocking, for a source that declares `ensembles`): the producer's "ensemble des QPV"
  figure of a département, région or France is at least the sum of its published QPV figures, and the gap is within
  what its masked QPV can hold (each below the producer's mask threshold, a sex or age cell at most its QPV's
  total): else the total or the QPV lines are wrong;
- `month_on_month` (warning): a QPV total whose change from the previous month (latest vintage in the
  warehouse, or the same file) exceeds the bound is named, so a suspicious series is looked at.
"""

from __future__ import annotations

import pandas as pd

from etl.quality.gates import GateResult, Outcome

SUITE = "cross_source"
CHANGE_BOUND = 0.5  # |month-on-month change| above 50 % of the previous value is a warning
SAMPLE = 20


def _outcome(check: str, column: str, blocking: bool, bad: pd.DataFrame, value_col: str, kwargs=None) -> Outcome:
    sample = [{"line_no": int(r.line_no), "value": str(r[value_col])} for _, r in bad.head(SAMPLE).iterrows()]
    return Outcome(
        suite=SUITE,
        expectation_type=f"expect_{check}",
        column=column,
        blocking=blocking,
        success=bad.empty,
        unexpected_count=len(bad),
        sample=sample,
        kwargs=kwargs or {},
    )


def _qpv_reference(engine) -> pd.DataFrame:
    import sqlalchemy as sa

    from etl.warehouse.frames import result_frame

    with engine.connect() as conn:
        frame = result_frame(
            conn.execute(
                sa.text(
                    "SELECT code AS territory_code, departement_code, region_code, valid_from, valid_to, "
                    "code IN (SELECT code FROM core.qpv_veille_active) AS veille FROM core.qpv"
                )
            ),
            ["territory_code", "departement_code", "region_code", "valid_from", "valid_to", "veille"],
        )
    frame["valid_from"] = pd.to_datetime(frame["valid_from"])
    frame["valid_to"] = pd.to_datetime(frame["valid_to"])
    return frame


def _period_start(codes: pd.Series) -> pd.Series:
    """First day of a period code (`2024-03`, `2024-Q2`, `2024`); other kinds are not compared. Each distinct code
    is parsed once (a file holds a few periods over many rows)."""
    distinct = pd.Series(codes.unique())
    months = pd.to_datetime(distinct.where(distinct.str.fullmatch(r"\d{4}-\d{2}")), format="%Y-%m", errors="coerce")
    years = pd.to_datetime(distinct.where(distinct.str.fullmatch(r"\d{4}")), format="%Y", errors="coerce")
    quarter = distinct.str.extract(r"^(\d{4})-Q([1-4])$")
    quarters = pd.to_datetime(
        quarter[0] + "-" + (quarter[1].astype("float") * 3 - 2).astype("Int64").astype("str").str.zfill(2),
        format="%Y-%m",
        errors="coerce",
    )
    starts = pd.Series(months.fillna(years).fillna(quarters).to_numpy(), index=distinct.to_numpy())
    return pd.Series(starts.reindex(codes.to_numpy()).to_numpy(), index=codes.index)


# The latest QPV totals of some indicators and periods: served by the partial index of the QPV totals (migration
# 0033), which keeps `territory_level = 'qpv' AND breakdown = 'total'` as its condition (tests/test_core_sql_plans.py)
PREVIOUS_VALUES_SQL = (
    "SELECT indicator_code, territory_code, period_code, value FROM core.indicator_value "
    "WHERE territory_level = 'qpv' AND breakdown = 'total' AND status = 'ok' "
    "AND indicator_code = ANY(:indicator_codes) AND period_code = ANY(:period_codes)"
)


def _previous_values(engine, indicators: list[str], periods: list[str]) -> pd.DataFrame:
    import sqlalchemy as sa

    from etl.warehouse.frames import result_frame

    with engine.connect() as conn:
        return result_frame(
            conn.execute(sa.text(PREVIOUS_VALUES_SQL), {"indicator_codes": indicators, "period_codes": periods}),
            ["indicator_code", "territory_code", "period_code", "value"],
        )


def _within_ensemble(values: pd.DataFrame, in_force: pd.DataFrame, ensembles) -> pd.DataFrame:
    """The "ensemble des QPV" figures that their QPV lines contradict, with a `detail` (see the module doc).
    `in_force`: the file's QPV rows of the QPV in force for their period, with département and région."""
    given = values[values["indicator_code"].isin(list(ensembles.indicators)) & (values["status"] == "ok")]
    if given.empty:
        return pd.DataFrame(columns=["line_no", "detail"])
    qpv = in_force[in_force["indicator_code"].isin(list(ensembles.indicators.values()))].copy()
    totals = qpv[(qpv["breakdown"] == "total") & (qpv["status"] == "ok")]
    own_total = qpv.merge(
        totals[["indicator_code", "territory_code", "period_code", "value"]].rename(columns={"value": "own_total"}),
        on=["indicator_code", "territory_code", "period_code"],
        how="left",
    )
    # what a masked cell can hold: below the mask threshold, or for a sex or age cell at most its QPV's total
    ceiling = float(ensembles.masked_below - 1)
    own_total["known"] = own_total["value"].where(own_total["status"] == "ok", 0.0)
    own_total["most"] = own_total["known"].where(
        own_total["status"] == "ok",
        own_total["own_total"].where(own_total["breakdown"] != "total").fillna(ceiling).clip(lower=ceiling),
    )
    keys = ["indicator_code", "period_code", "breakdown"]
    parts = []
    for level, column in (("france", None), ("region", "region_code"), ("departement", "departement_code")):
        group = keys + ([column] if column else [])
        sums = own_total.groupby(group, as_index=False)[["known", "most"]].sum()
        sums["territory_level"] = level
        sums["territory_code"] = sums[column] if column else "FR"
        parts.append(sums[[*keys, "territory_level", "territory_code", "known", "most"]])
    sums = pd.concat(parts, ignore_index=True)
    sums["indicator_code"] = sums["indicator_code"].map({q: e for e, q in ensembles.indicators.items()})
    both = given.merge(sums, on=[*keys, "territory_level", "territory_code"], how="left")
    both[["known", "most"]] = both[["known", "most"]].fillna(0.0)
    bad = both[(both["value"] < both["known"]) | (both["value"] > both["most"])]
    return bad.assign(
        detail=bad["indicator_code"] + " " + bad["territory_level"] + " " + bad["territory_code"] + " "
        + bad["period_code"] + " " + bad["breakdown"] + ": " + bad["value"].astype(str) + " outside ["
        + bad["known"].astype(str) + ", " + bad["most"].astype(str) + "] (its QPV lines)"
    )  # fmt: skip


def run(engine, values: pd.DataFrame, ensembles=None, veille_active: bool = False) -> GateResult:
    """The cross-source checks of one file's indicator values (`ensembles`: the source's declared "ensemble des
    QPV" indicators, `registry.Ensembles`, or None; `veille_active`: the source declares that it still reports the
    veille-active QPV under their 2015 codes)."""
    result = GateResult(suite=SUITE, gate="cross")
    qpv = values[values["territory_level"] == "qpv"]
    if qpv.empty:
        return result
    reference = _qpv_reference(engine)
    known = qpv.merge(reference, on="territory_code", how="left")
    start = _period_start(known["period_code"])
    after_leaving = (
        known["veille"].fillna(False).astype(bool) & known["valid_to"].notna() & (start >= known["valid_to"])
    )
    followed = after_leaving & veille_active  # a veille-active QPV reported after it left: not a QPV in force

    # qpv_within_departement (the QPV in force: a veille-active QPV's figure is not part of their sum)
    ok = known[(known["status"] == "ok") & ~followed]
    sums = ok.groupby(["indicator_code", "period_code", "breakdown", "departement_code"], as_index=False)["value"].sum()
    deps = values[(values["territory_level"] == "departement") & (values["status"] == "ok")].rename(
        columns={"territory_code": "departement_code", "value": "dep_value"}
    )
    both = sums.merge(deps, on=["indicator_code", "period_code", "breakdown", "departement_code"])
    over = both[both["value"] > both["dep_value"]].assign(
        detail=lambda f: (
            f["departement_code"]
            + " "
            + f["period_code"]
            + ": QPV "
            + f["value"].astype(str)
            + " > "
            + f["dep_value"].astype(str)
        )
    )
    result.outcomes.append(_outcome("qpv_within_departement", "value", True, over, "detail"))

    # territory_in_force
    unknown_or_out = known[
        known["valid_from"].isna()
        | (start < known["valid_from"])
        | (known["valid_to"].notna() & (start >= known["valid_to"]) & ~followed)
    ]
    unknown_or_out = unknown_or_out.assign(
        detail=unknown_or_out["territory_code"] + " in " + unknown_or_out["period_code"]
    )
    result.outcomes.append(_outcome("territory_in_force", "territory_code", True, unknown_or_out, "detail"))

    # qpv_coverage
    missing_rows = []
    periods = dict(zip(known["period_code"].to_numpy(), start.to_numpy(), strict=True))  # each code parsed once
    codes = reference["territory_code"].to_numpy(dtype=object)
    for (indicator, period), group in qpv.groupby(["indicator_code", "period_code"]):
        when = periods[period]
        if pd.isna(when):
            continue
        in_force = codes[
            (
                (reference["valid_from"] <= when) & (reference["valid_to"].isna() | (reference["valid_to"] > when))
            ).to_numpy()
        ]
        absent = sorted(set(in_force) - set(group["territory_code"].to_numpy(dtype=object)))
        first_line = int(group["line_no"].min())
        missing_rows += [
            {"line_no": first_line, "detail": f"{indicator} {period}: no row for {code}"} for code in absent
        ]
    result.outcomes.append(
        _outcome(
            "qpv_coverage", "territory_code", True, pd.DataFrame(missing_rows, columns=["line_no", "detail"]), "detail"
        )
    )

    # qpv_within_ensemble
    if ensembles is not None:
        in_force = known[
            known["valid_from"].notna()
            & (start >= known["valid_from"])
            & (known["valid_to"].isna() | (start < known["valid_to"]))
        ]
        contradicted = _within_ensemble(values, in_force, ensembles)
        result.outcomes.append(_outcome("qpv_within_ensemble", "value", True, contradicted, "detail"))

    # month_on_month (warning)
    totals = qpv[(qpv["breakdown"] == "total") & (qpv["status"] == "ok")][
        ["line_no", "indicator_code", "territory_code", "period_code", "value"]
    ]
    months = totals[totals["period_code"].str.fullmatch(r"\d{4}-\d{2}")].copy()
    if not months.empty:
        distinct = pd.Series(months["period_code"].unique())
        previous_of = dict(zip(distinct, (pd.PeriodIndex(distinct, freq="M") - 1).strftime("%Y-%m"), strict=True))
        months["previous"] = months["period_code"].map(previous_of)
        in_file = months[["indicator_code", "territory_code", "period_code", "value"]].rename(
            columns={"period_code": "previous", "value": "previous_value"}
        )
        stored = _previous_values(
            engine, sorted(months["indicator_code"].unique()), sorted(months["previous"].unique())
        )
        stored = stored.rename(columns={"period_code": "previous", "value": "previous_value"})
        previous = pd.concat([in_file, stored]).drop_duplicates(["indicator_code", "territory_code", "previous"])
        compared = months.merge(previous, on=["indicator_code", "territory_code", "previous"])
        compared["previous_value"] = compared["previous_value"].astype(float)
        jump = compared[
            (compared["previous_value"] > 0)
            & ((compared["value"] - compared["previous_value"]).abs() > CHANGE_BOUND * compared["previous_value"])
        ]
        jump = jump.assign(
            detail=jump["territory_code"]
            + " "
            + jump["period_code"]
            + ": "
            + jump["previous_value"].astype(str)
            + " -> "
            + jump["value"].astype(str)
        )
        result.outcomes.append(
            _outcome("month_on_month_change_within_bound", "value", False, jump, "detail", {"bound": CHANGE_BOUND})
        )
    return result
