"""Releasing an edition: tables -> disclosure control -> gate 3 -> files on disk -> the publication schema.

`publish_annual(engine, year)` builds the annual tables (etl.publication.annual), masks what statistical secrecy
requires (etl.publication.disclosure: primary then secondary suppression, on the year's values and on the N-1 and
N-3 columns; a gap or change computed from a masked value is blanked too), proves with the independent check
(etl.quality.disclosure_check, GX suite `publication.disclosure`: gate 3) that no published cell discloses
anything, then writes the edition (etl.publication.editions: CSV, XLSX, Parquet, dictionary, manifest, read-only)
and loads its rows into the publication schema in one transaction. The edition folder also holds the HTML report
(etl.publication.report: `index.html`, one page per région, in the annual edition a portrait per QPV under `qpv/`,
etl.publication.report_qpv) and the fiche méthodologique of every indicator
(etl.publication.fiches: `fiches/<code>.html`, and a row each in the dictionary), listed in the manifest apart from
the data files.
The annual edition also holds, from 2024, the table of the QPV in veille active (etl.publication.veille), masked and
checked by gate 3 the same way.
The annual manifest also says the date of the roadmap measures' statuses it publishes (metadata `mesures`).

A run whose inputs did not change since the latest edition of the same kind and period makes no new edition (the
warehouse and the folder stay as they are) unless `force`: then the new edition's data files are byte-identical
to the previous one's. The inputs digest is the sha256 of the tables before disclosure control and of the rules.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from etl.config import Home
from etl.errors import ObservatoireError

DISCLOSURE_SUITE = "publication.disclosure"
YEAR_COLUMNS = ("valeur", "valeur_n1", "valeur_n3")  # value columns of the bilan under disclosure control
DERIVED = {"ecart_cible": ("valeur",), "evolution_n1": ("valeur", "valeur_n1"), "evolution_n3": ("valeur", "valeur_n3")}


class PublicationBlocked(ObservatoireError):
    """Gate 3 found a disclosive cell: nothing was released."""


@dataclass
class Published:
    edition_id: str
    new: bool
    folder: Path
    masked: dict[str, int] = field(default_factory=dict)  # table.column -> cells masked


def _digest(tables, rules) -> str:
    digest = hashlib.sha256(json.dumps(rules.__dict__, sort_keys=True).encode())
    for table in tables:
        digest.update(table.name.encode() + b"\n")
        digest.update(table.frame.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    return digest.hexdigest()


def _latest(engine, kind: str, period: str):
    import sqlalchemy as sa

    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT edition_id, inputs_digest, folder FROM publication.edition "
                "WHERE kind = :kind AND period_code = :period ORDER BY released_at DESC, edition_id DESC LIMIT 1"
            ),
            {"kind": kind, "period": period},
        ).first()


def protect_bilan(built, rules):
    """The bilan with its secret cells masked: returns (frame, {column: cells masked}, gate-3 frames)."""
    from etl.publication import disclosure
    from etl.quality.disclosure_check import gate3_frame

    frame = built.table.frame.copy()
    counts = np.zeros(len(frame), dtype=bool)
    counts[built.count_rows] = True
    source_masked = (frame["statut"] == "masked").to_numpy()
    masked_by_column: dict[str, np.ndarray] = {}
    for column in YEAR_COLUMNS:
        values = frame[column].to_numpy(dtype="float64")
        already = source_masked if column == "valeur" else np.zeros(len(frame), dtype=bool)
        result = disclosure.suppress(
            np.where(counts, values, np.nan), "count", built.relations, rules, already_masked=already
        )
        masked_by_column[column] = result.masked & (counts | already)
    for column, sources in DERIVED.items():
        hidden = np.logical_or.reduce([masked_by_column[s] for s in sources])
        frame.loc[hidden, column] = np.nan
    for column in YEAR_COLUMNS:
        frame.loc[masked_by_column[column], column] = np.nan
    frame.loc[masked_by_column["valeur"], "statut"] = "masked"

    checks = []
    for column in YEAR_COLUMNS:
        status = np.where(masked_by_column[column], "masked", np.where(frame[column].isna(), "missing", "ok"))
        if column == "valeur":
            status = frame["statut"].to_numpy()
        view = pd.DataFrame({column: frame[column].where(counts), "status": status})
        checks.append((column, gate3_frame(view, column, "status", "count", built.relations, rules.count_threshold)))
    return frame, {c: int(m.sum()) for c, m in masked_by_column.items()}, checks


def publish_annual(
    engine, year: int, *, home: Home | None = None, force: bool = False, now: datetime | None = None
) -> Published:
    """Release the annual edition of `year` (see the module doc); returns what was released or kept."""
    from etl.publication import annual, disclosure, qpv_data, report_maps, veille

    rules = disclosure.Rules()
    bilan = annual.bilan_conventions(engine, year)
    listing, synthese = annual.measures(engine)
    campaign = annual.completeness(engine, year)
    indicators = annual.measure_indicators(engine, year)
    qpv_inputs = qpv_data.inputs(engine, year)
    watched = veille.veille_active(engine, year)  # None before the 2024 geography
    places = qpv_data.places(qpv_inputs)
    perimeters = report_maps.read_perimeters(engine, places["code_qpv"].tolist())  # the report's maps
    period = str(year)
    others = [listing.table, synthese.table, indicators.table, campaign.table]
    inputs = [bilan.table, *others, *([watched.table] if watched else []), *qpv_inputs.frames]
    if not perimeters.empty:
        inputs.append(SimpleNamespace(name="qpv_perimetres", frame=perimeters[["code_qpv", "geometrie_simplifiee"]]))
    batches = bilan.batches | (watched.batches if watched else set()) | qpv_inputs.batches
    batches |= {int(batch) for batch in perimeters["batch_id"].unique()}

    def protected():
        frame, masked, checks = protect_bilan(bilan, rules)
        table = dataclasses.replace(bilan.table, frame=frame)
        checks = [("bilan_conventions", c, f) for c, f in checks]
        tables = [table, *others]
        if watched:
            frame, masked[f"{veille.TABLE_NAME}.valeur"], check = veille.protect(watched, rules)
            tables.append(dataclasses.replace(watched.table, frame=frame))
            checks.append((veille.TABLE_NAME, "valeur", check))
        qpv_tables, qpv_checks = qpv_data.build(qpv_inputs, rules)
        for qpv_table in qpv_tables:
            masked[f"{qpv_table.name}.valeur"] = int((qpv_table.frame["statut"] == "masked").sum())
        return [*tables, *qpv_tables], masked, checks + qpv_checks

    return _release(
        engine, "annuelle", period, inputs, protected, batches, rules, home=home, force=force, now=now,
        places=places, perimeters=perimeters,
    )  # fmt: skip


def publish_semestrial(
    engine, semester: str, *, home: Home | None = None, force: bool = False, now: datetime | None = None
) -> Published:
    """Release the semestrial edition of `semester` (`2024-S1`): the employment dashboard, its series and the
    départements' PAQTE results."""

    from etl.publication import disclosure, semestrial
    from etl.referentiels import periods

    rules = disclosure.Rules()
    months = periods.semester_end_months(semester)
    all_months = sorted(
        {*months, *(periods.semester_end_months(s)[0] for s in periods.semesters_ending_with(semester, 6))}
    )
    raw, batches = semestrial.read_counts_with_batches(engine, all_months)
    if raw.empty or not (raw["mois"] == months[0]).any():
        raise ObservatoireError(
            f"no France Travail figures for {months[0]}: the semester {semester} cannot be published."
        )
    paqte_inputs = semestrial.read_paqte(engine, semester)
    inputs = [
        SimpleNamespace(name="france_travail_counts", frame=raw),
        # the figures, not the batch numbers: those follow the files' arrival order (the batches are listed below)
        SimpleNamespace(name="paqte", frame=paqte_inputs.drop(columns=["accepted_batch_id"], errors="ignore")),
    ]
    if not paqte_inputs.empty:
        batches |= {int(b) for b in paqte_inputs["accepted_batch_id"].dropna().unique()}

    def protected():
        # the counts of every month the edition needs were read once, above
        frame, masked, months_protected = semestrial.dashboard(engine, semester, rules, counts=raw)
        serie = semestrial.series(engine, semester, rules, months_protected, counts=raw)
        paqte, masked["paqte_valeur"], paqte_check = semestrial.paqte_table(engine, semester, rules, paqte_inputs)
        checks = [("emploi_qpv", month, semestrial.month_check(p, rules)) for month, p in months_protected.items()]
        checks.append(("paqte_departements", "valeur", paqte_check))
        return semestrial.tables(frame, serie, paqte), masked, checks

    return _release(
        engine, "semestrielle", semester, inputs, protected, batches, rules, home=home, force=force, now=now
    )


def _release(
    engine, kind, period, inputs, protected, batches, rules, *, home, force, now, places=None, perimeters=None
) -> Published:
    """Make the edition of `inputs` unless the latest one of the same kind and period has the same inputs digest:
    `protected()` gives (tables after disclosure control, cells masked, gate-3 frames), each frame checked by the
    GX suite before anything is written; `places`: the communes and EPCI of each QPV, for the report's portraits;
    `perimeters`: the QPV perimeters, for its maps."""
    from etl.publication import editions
    from etl.quality import gates

    home = home or Home.from_env()
    digest = _digest(inputs, rules)
    latest = _latest(engine, kind, period)
    if latest is not None and latest.inputs_digest == digest and not force:
        return Published(latest.edition_id, False, Path(latest.folder))
    tables, masked, checks = protected()
    gate_results = []
    for table, column, check in checks:
        result = gates.run_suite(DISCLOSURE_SUITE, check, gate="publication", home=home, complete=True)
        gate_results.append({"table": table, "column": column, "passed": result.passed,
                             "expectations": len(result.outcomes)})  # fmt: skip
        if not result.passed:
            failure = result.blocking_failures[0]
            raise PublicationBlocked(
                f"gate 3 refused the {kind} edition {period}: {table} ({column}), {failure.describe()}; "
                "nothing was released."
            )
    released = now or datetime.now(UTC)
    edition = editions.edition_id(kind, period, released)
    sources, latency = _inputs(engine, batches, released)
    metadata = {
        "kind": kind,
        "period": period,
        "released_at": released.isoformat(),
        "inputs_digest": digest,
        "sources": sources,
        "disclosure": {"rules": rules.__dict__, "masked_cells": masked, "gate3": gate_results},
        "latency_seconds": latency,
    }
    if kind == "semestrielle":
        from etl.publication.semestrial import comparability

        metadata["comparability"] = comparability(tables)
    if kind == "annuelle":
        from etl.publication.annual import measure_status_dates, status_dates_text

        dates = measure_status_dates(tables)
        metadata["mesures"] = {"dates_statut": dates, "etat": status_dates_text(dates)}
    from etl.publication import fiches
    from etl.publication.report import render_report

    sheets = fiches.read_fiches(engine, tables, kind=kind, period=period, rules=rules)

    def report(folder: Path) -> None:
        linked = fiches.write_fiches(sheets, folder, edition_id=edition, kind=kind, period=period)
        render_report(
            tables, folder, edition_id=edition, kind=kind, period=period, fiches=linked, places=places,
            perimeters=perimeters,
        )  # fmt: skip

    folder = editions.write_edition(
        home.folder("publication"), edition, tables, metadata=metadata, extra=report,
        dictionary_rows=fiches.dictionary_rows(sheets),
    )  # fmt: skip
    try:
        _load(engine, kind, edition, period, released, digest, folder, latency, tables)
    except BaseException:
        _withdraw(folder)  # not released: an edition is released once it is in the warehouse too
        raise
    return Published(edition, True, folder, masked)


def _withdraw(folder: Path) -> None:
    """Remove the files of an edition whose load failed: its folder and subfolders (`fiches/`, `qpv/`) are read-only,
    so each is made writable, top down, before it is emptied."""
    import os
    import shutil

    folder.chmod(0o755)
    for root, subfolders, _ in os.walk(folder):
        for name in subfolders:
            Path(root, name).chmod(0o755)
    shutil.rmtree(folder)


def _inputs(engine, batches: set[int], released: datetime) -> tuple[list[dict], int | None]:
    """The input batches (source, its producer, file, partition, received, DQ results) and the latency to release."""
    import sqlalchemy as sa

    if not batches:
        return [], None
    with engine.connect() as conn:
        rows = (
            conn.execute(
                sa.text(
                    "SELECT b.batch_id, b.source_id, b.original_name, b.partition_key, b.sha256, b.received_at, "
                    "count(d.*) AS expectations, count(d.*) FILTER (WHERE NOT d.success) AS unmet "
                    "FROM audit.batch b LEFT JOIN audit.dq_result d USING (batch_id) "
                    "WHERE b.batch_id = ANY(:batch_ids) GROUP BY b.batch_id ORDER BY b.batch_id"
                ),
                {"batch_ids": sorted(batches)},
            )
            .mappings()
            .all()
        )
    sources = [
        {
            "batch_id": r["batch_id"],
            "source_id": r["source_id"],
            "producer": _producer(r["source_id"]),
            "file": r["original_name"],
            "partition": r["partition_key"],
            "sha256": r["sha256"],
            "received_at": r["received_at"].isoformat(),
            "dq_expectations": r["expectations"],
            "dq_unmet_warnings": r["unmet"],
        }
        for r in rows
    ]
    newest = max(r["received_at"] for r in rows)
    return sources, int((released - newest).total_seconds())


def _producer(source_id: str) -> str | None:
    """The producer the source registry names for `source_id` (None for a source it does not declare)."""
    from etl.sources.registry import RegistryError, source

    try:
        return source(source_id).producer
    except RegistryError:
        return None


def _load(engine, kind, edition, period, released, digest, folder, latency, tables) -> None:
    """The edition's row and its tables' rows, in one transaction."""
    import sqlalchemy as sa

    from etl.loading import copy_frame

    manifest = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO publication.edition (edition_id, kind, period_code, released_at, inputs_digest, folder, "
                "manifest, latency_seconds) VALUES (:edition_id, :kind, :period, :released_at, :inputs_digest, "
                ":folder, CAST(:manifest AS jsonb), :latency_seconds)"
            ),
            {
                "edition_id": edition,
                "kind": kind,
                "period": period,
                "released_at": released,
                "inputs_digest": digest,
                "folder": str(folder),
                "manifest": json.dumps(manifest),
                "latency_seconds": latency,
            },
        )
        dbapi = conn.connection.dbapi_connection
        for table in tables:
            copy_frame(dbapi, f"publication.{table.name}", table.frame.assign(edition_id=edition))
