"""Releasing an edition: tables -> disclosure control -> gate 3 -> files on disk -> the publication schema.

`publish_annual(engine, year)` builds the annual tables (etl.publication.annual), masks what statistical secrecy
requires (etl.publication.disclosure: primary then secondary suppression, on the year's values and on the N-1 and
N-3 columns; a gap or change computed from a masked value is blanked too), proves with the independent check
(etl.quality.disclosure_check, GX suite `publication.disclosure`: gate 3) that no published cell discloses
anything, then writes the edition (etl.publication.editions: CSV, XLSX, Parquet, dictionary, manifest, read-only)
and loads its rows into the publication schema in one transaction.

A run whose inputs did not change since the latest edition of the same kind and period makes no new edition (the
warehouse and the folder stay as they are) unless `force`: then the new edition's data files are byte-identical
to the previous one's. The inputs digest is the sha256 of the tables before disclosure control and of the rules.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

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
                "WHERE kind = :k AND period_code = :p ORDER BY released_at DESC, edition_id DESC LIMIT 1"
            ),
            {"k": kind, "p": period},
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
    from etl.publication import annual, disclosure, editions
    from etl.publication.tables import Table
    from etl.quality import gates

    home = home or Home.from_env()
    rules = disclosure.Rules()
    bilan = annual.bilan_conventions(engine, year)
    listing, synthese = annual.measures(engine)
    period = str(year)
    digest = _digest([bilan.table, listing.table, synthese.table], rules)
    latest = _latest(engine, "annuelle", period)
    if latest is not None and latest.inputs_digest == digest and not force:
        return Published(latest.edition_id, False, Path(latest.folder))

    frame, masked, checks = protect_bilan(bilan, rules)
    gate_results = []
    for column, check in checks:
        result = gates.run_suite(DISCLOSURE_SUITE, check, gate="publication", home=home, complete=True)
        gate_results.append({"table": "bilan_conventions", "column": column, "passed": result.passed,
                             "expectations": len(result.outcomes)})  # fmt: skip
        if not result.passed:
            failure = result.blocking_failures[0]
            raise PublicationBlocked(
                f"gate 3 refused the annual edition {year}: column {column} of bilan_conventions, "
                f"{failure.describe()}; nothing was released."
            )
    protected = Table(bilan.table.name, bilan.table.title, bilan.table.description, bilan.table.columns, frame)
    tables = [protected, listing.table, synthese.table]

    released = now or datetime.now(UTC)
    edition = editions.edition_id("annuelle", period, released)
    sources, latency = _inputs(engine, bilan.batches, released)
    metadata = {
        "kind": "annuelle",
        "period": period,
        "released_at": released.isoformat(),
        "inputs_digest": digest,
        "sources": sources,
        "disclosure": {"rules": rules.__dict__, "masked_cells": masked, "gate3": gate_results},
        "latency_seconds": latency,
    }
    folder = editions.write_edition(home.folder("publication"), edition, tables, metadata=metadata)
    _load(engine, edition, period, released, digest, folder, latency, tables)
    return Published(edition, True, folder, masked)


def _inputs(engine, batches: set[int], released: datetime) -> tuple[list[dict], int | None]:
    """The input batches (source, file, partition, received, DQ results) and the latency to release."""
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
                    "WHERE b.batch_id = ANY(:b) GROUP BY b.batch_id ORDER BY b.batch_id"
                ),
                {"b": sorted(batches)},
            )
            .mappings()
            .all()
        )
    sources = [
        {
            "batch_id": r["batch_id"],
            "source_id": r["source_id"],
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


TABLES_OF_EDITION = ("bilan_conventions", "mesures_feuille_de_route", "mesures_synthese")


def _load(engine, edition, period, released, digest, folder, latency, tables) -> None:
    """The edition's row and its tables' rows, in one transaction."""
    import sqlalchemy as sa

    from etl.loading import copy_frame

    manifest = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO publication.edition (edition_id, kind, period_code, released_at, inputs_digest, folder, "
                "manifest, latency_seconds) VALUES (:e, 'annuelle', :p, :r, :d, :f, CAST(:m AS jsonb), :l)"
            ),
            {
                "e": edition,
                "p": period,
                "r": released,
                "d": digest,
                "f": str(folder),
                "m": json.dumps(manifest),
                "l": latency,
            },  # fmt: skip
        )
        dbapi = conn.connection.dbapi_connection
        for table in tables:
            copy_frame(dbapi, f"publication.{table.name}", table.frame.assign(edition_id=edition))


def run_annual(params: dict, logical_date) -> dict:
    """Body of the publication_annuelle task: the `year` param, else the year before the run's logical date."""
    from etl.orchestration.connections import warehouse_engine

    year = int(params.get("year") or (logical_date.year - 1 if logical_date else datetime.now(UTC).year - 1))
    released = publish_annual(warehouse_engine(), year, force=bool(params.get("force")))
    state = "released" if released.new else "unchanged inputs: kept"
    print(f"annual edition {year}: {state} {released.edition_id} in {released.folder}")
    for column, count in released.masked.items():
        print(f"  bilan_conventions.{column}: {count} cell(s) masked by statistical secrecy")
    return {"edition_id": released.edition_id, "new": released.new, "folder": str(released.folder)}
