"""The données QPV tables drawn for `make bench` (pieces 8 and 9 of etl.samples.bench), and piece 9: secrecy on
many small cells, `qpv_data.build` timed with 5 % of the QPV figures under 11 against 0.3 % (the reference)."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path


def portrait_inputs(territory_dir: Path, year: int = 2024, seed: int = 8, small: float = 0.003):
    """The données QPV inputs (etl.publication.qpv_data.Inputs) of `year` on the sample 2024 geography of
    `territory_dir` (every QPV with its communes, EPCI, département, région), with a figure drawn for every indicator
    and breakdown of the tables in `year` and `year - 1` (a share `small` of them under 11, so that secrecy masks some)
    and the population of every QPV; no warehouse needed."""
    import numpy as np
    import pandas as pd

    from etl.config import PROJECT_ROOT
    from etl.publication import qpv_data
    from etl.referentiels.territories import normalise_qpv, read_anct

    frames = normalise_qpv(read_anct(territory_dir / "qpv_2024.csv"))
    qpv, communes, epci = frames["qpv"], frames["qpv_commune"], frames["qpv_epci"]
    rows = []
    for q in qpv.itertuples(index=False):
        base = (q.code_qp, "2024", q.insee_dep, q.insee_reg)
        rows += [("qpv", q.code_qp, q.lib_qp, *base), ("departement", q.insee_dep, q.lib_dep, *base),
                 ("region", q.insee_reg, q.lib_reg, *base), ("france", "FR", "France", *base)]  # fmt: skip
    departement = dict(zip(qpv["code_qp"], zip(qpv["insee_dep"], qpv["insee_reg"], strict=True), strict=True))
    for c in communes.itertuples(index=False):
        rows.append(("commune", c.insee_com, c.lib_com, c.code_qp, "2024", *departement[c.code_qp]))
    for e in epci.itertuples(index=False):
        rows.append(("epci", e.siren_epci, e.lib_epci, e.code_qp, "2024", None, None))
    one_year = pd.DataFrame(rows, columns=["niveau", "code_territoire", "territoire", "code_qpv", "geography",
                                           "code_departement", "code_region"])  # fmt: skip
    territories = pd.concat([one_year.assign(annee=y) for y in (year, year - 1)], ignore_index=True)
    territories = territories[["annee", *one_year.columns]]
    rng = np.random.default_rng(seed)
    lines = [(m.code, b) for theme in qpv_data.THEMES for m in theme.measures for b in m.breakdowns]
    lines += [(qpv_data.POPULATION, "total"), (qpv_data.POPULATION, qpv_data.AGE_15_64)]
    codes = qpv["code_qp"].to_numpy()
    values = []
    for y in (year, year - 1):
        for code, breakdown in lines:
            scale = 3000 if code == qpv_data.POPULATION else 300
            drawn = np.where(
                rng.random(len(codes)) < small, rng.integers(1, 11, len(codes)), rng.integers(11, scale, len(codes))
            )
            note = str(year - 4) if code == qpv_data.POPULATION else None
            values.append(
                pd.DataFrame({"code_indicateur": code, "ventilation": breakdown, "code_qpv": codes, "annee": y,
                              "valeur": drawn.astype("float64"), "statut": "ok", "note_valeur": note, "batches": "1"})
            )  # fmt: skip
    columns = ["code", "libelle", "producteur", "unite_statistique"]
    catalogue = pd.concat(
        pd.read_csv(PROJECT_ROOT / "catalogue" / name, sep=";", dtype=str, usecols=columns)
        for name in ("indicateurs_operateurs.csv", "indicateurs_2014.csv")
    ).rename(columns={"code": "code_indicateur", "libelle": "indicateur"})
    return qpv_data.Inputs(year, territories, pd.concat(values, ignore_index=True), catalogue)


SMALL_SHARES = (0.003, 0.05)


def bench_secrecy(territory_dir: Path) -> dict:
    """`qpv_data.build` timed on `portrait_inputs` with each share of small figures of `SMALL_SHARES` (the first is
    the reference), with the count of masked cells (the inputs are drawn, not timed)."""
    from etl.publication import disclosure, qpv_data

    out = {}
    for small in SMALL_SHARES:
        given = portrait_inputs(territory_dir, small=small)
        started = time.perf_counter()
        tables, _ = qpv_data.build(given, disclosure.Rules())
        seconds = time.perf_counter() - started
        masked = sum(int((t.frame[column] == "masked").sum()) for t in tables for column in t.frame.columns
                     if column.startswith("statut"))  # fmt: skip
        out[f"{small:g}"] = {"small": small, "seconds": seconds, "masked": masked,
                             "rows": sum(len(t.frame) for t in tables)}  # fmt: skip
    return out


def secrecy_lines(secrecy: dict) -> list[str]:
    runs = list(secrecy.values())
    reference = runs[0]["seconds"]
    return [
        f"| données QPV tables ({run['rows']:,} rows) with {format(100 * run['small'], 'g')} % "
        "of the QPV figures under 11: "
        f"qpv_data.build, primary and secondary suppression ({run['masked']:,} masked values, N and earlier years)"
        f"{' (reference)' if i == 0 else ''} | {run['seconds']:.1f} s | | {run['seconds'] / reference:.2f} | | "
        f"{'' if i == 0 else '< 60 s'} |"
        for i, run in enumerate(runs)
    ]


def run_secrecy() -> dict:
    """Piece 9 alone: the sample geography generated into a throw-away folder, no warehouse."""
    from etl.samples.generators import territories

    tmp = Path(tempfile.mkdtemp(prefix="obs-bench-"))
    try:
        territories.generate(tmp)
        return bench_secrecy(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
