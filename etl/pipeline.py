"""The path every file takes: inbox -> archive + audit -> read -> gate 1 -> normalise -> gate 2 -> load.

`ingest(source)` receives what waits in the source's inbox (etl.landing), then processes every batch still
`received` (including one left by a crash) from its archive copy; `reload(source, period)` runs the loaded
batches of one period through the path again (backfill, re-run), replacing exactly their own rows. A batch
that breaks a blocking rule, or cannot even be read, is quarantined: a copy of the file and a human-readable
report (rule, column, lines and values) go to `quarantine/<source>/`, the batch is marked with the reason,
nothing of it reaches the warehouse tables, and the next batch carries on. The caller (an Airflow task) fails
if any was quarantined.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from etl import ahead, landing, loading
from etl.config import Home
from etl.landing import safe_file_name
from etl.quality import gates
from etl.quality.parameters import parameters_for
from etl.readers import FileShapeError
from etl.sources.registry import Source


@dataclass
class BatchOutcome:
    source_id: str
    batch_id: int
    original_name: str
    status: str  # loaded | quarantined
    partition: str | None = None
    rows: int = 0
    reason: str | None = None
    report: Path | None = None
    layout: str | None = None  # the declared layout the file was read with (etl/sources/layouts.py)
    warnings: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # time per stage, for `make bench` and logs


@dataclass
class IngestReport:
    source_id: str
    received: list[landing.Receipt] = field(default_factory=list)
    batches: list[BatchOutcome] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # landing and Data Docs, paid once per run

    @property
    def duplicates(self) -> list[landing.Receipt]:
        return [r for r in self.received if not r.is_new]

    @property
    def quarantined(self) -> list[BatchOutcome]:
        return [b for b in self.batches if b.status == "quarantined"]

    def summary(self) -> str:
        loaded = [b for b in self.batches if b.status == "loaded"]
        parts = [f"{self.source_id}: {len(loaded)} loaded"]
        if self.duplicates:
            parts.append(f"{len(self.duplicates)} already received (skipped)")
        if self.quarantined:
            parts.append(f"{len(self.quarantined)} quarantined")
        return ", ".join(parts)


# a source's batches: preparing one (reading, both gates) takes less than committing it (cross-checks, load), so one
# worker keeps ahead of the commits
PREPARING_WORKERS = 1


class BatchQuarantined(Exception):
    """Raised by tasks after all batches ran, when at least one was quarantined."""


def ingest(engine, source: Source, *, home: Home | None = None, run_id: str | None = None) -> IngestReport:
    home = home or Home.from_env()
    report = IngestReport(source.id)
    started = time.perf_counter()
    report.received = receive_pending(engine, source, home)
    report.seconds["landing"] = time.perf_counter() - started
    report.batches = process_received(
        engine,
        source.id,
        home,
        lambda _batch_id, name, archive: prepare_batch(engine, source, name, archive, home=home),
        lambda batch_id, name, archive, prepared: commit_batch(
            engine, source, batch_id, name, archive, prepared, home=home, run_id=run_id
        ),
        functools.partial(_prepare_aside, ahead.url_of(engine), source, home),
        workers=PREPARING_WORKERS,
        seconds=report.seconds,
    )
    return report


def receive_pending(engine, source: Source, home: Home) -> list[landing.Receipt]:
    """Land every file waiting in the source's inbox (archive by sha256, register, open a batch).

    A file gone from the inbox after it was listed was taken by another run of the source going on at the same time:
    landing removes a file from the inbox only once its archive copy and registry row exist, so that run registered
    it, and its batch is processed by whichever run finds it `received` (the load is serialised per partition)."""
    receipts = []
    for path in landing.pending(home, source.id, source.patterns):
        try:
            receipts.append(landing.receive(engine, home, source.id, path))
        except FileNotFoundError:
            if path.exists():
                raise
    return receipts


def process_received(
    engine,
    source_id: str,
    home: Home,
    here,
    commit,
    aside=None,
    *,
    workers: int = 1,
    seconds: dict | None = None,
) -> list:
    """Every batch of the source still `received` (a crash included), oldest first: `here(batch_id, original_name,
    archive_path)` prepares it (reads and checks its file, writes nothing), then `commit(batch_id, original_name,
    archive_path, prepared)` records and loads or quarantines it, one batch after the other. With a backlog worth it
    (`ahead.worth_a_worker`), `aside` (the same preparation, picklable: it connects by URL) prepares the next ones in
    `workers` worker processes meanwhile (etl.ahead). Then the Data Docs pages of the validations this made are
    rendered (their time in `seconds["data_docs"]` when given); returns the outcomes."""
    batches = [(batch_id, name, Path(archive)) for batch_id, name, archive in _received_batches(engine, source_id)]
    if not batches:
        return []
    known = gates.validation_keys(home)
    if aside is None or not ahead.worth_a_worker([archive for _, _, archive in batches]):
        workers = 0
    warm = functools.partial(_warm_gates, home)
    with contextlib.closing(ahead.prepared(batches, here, aside, workers=workers, warm=warm)) as ready:
        outcomes = [commit(*batch, prepared) for batch, prepared in zip(batches, ready, strict=True)]
    started = time.perf_counter()
    gates.build_data_docs(home, only=gates.validation_keys(home) - known)
    if seconds is not None:
        seconds["data_docs"] = time.perf_counter() - started
    return outcomes


def mark_quarantined(engine, batch_id: int, message: str, report: Path, run_id: str | None) -> None:
    """Record a batch as quarantined by this run, with the first problem (2 000 characters at most) and its report's
    path (the run's alert finds its batches by run id)."""
    import sqlalchemy as sa

    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE audit.batch SET status = 'quarantined', finished_at = now(), message = :message, "
                "report_path = :report, run_id = :run_id WHERE batch_id = :batch_id"
            ),
            {"message": message[:2000], "report": str(report), "batch_id": batch_id, "run_id": run_id},
        )


def reload(engine, source: Source, period: str, *, home: Home | None = None, run_id: str | None = None) -> IngestReport:
    """Reload the partitions of `period` from their archived files: a backfill or re-run of one period.

    The batches currently loaded for the period (partition equal to it, or ending in `/<period>` for sources whose
    partitions also name the file's indicators) go through the whole path again, gates included, each replacing
    its own rows: the tables end as they were, other periods untouched."""
    import sqlalchemy as sa

    home = home or Home.from_env()
    report = IngestReport(source.id)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT b.batch_id, b.original_name, f.archive_path FROM audit.batch b "
                "JOIN audit.file_registry f USING (source_id, sha256) "
                "WHERE b.source_id = :source_id AND b.status = 'loaded' "
                "AND (b.partition_key = :period OR b.partition_key LIKE :tail) "
                "ORDER BY b.batch_id"
            ),
            {"source_id": source.id, "period": period, "tail": f"%/{period}"},
        ).all()
    for batch_id, name, archive in rows:
        report.batches.append(process_batch(engine, source, batch_id, name, Path(archive), home=home, run_id=run_id))
    return report


def loaded_partitions(engine, source_id: str) -> set[str]:
    """The partitions of a source with a loaded batch."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        return set(
            conn.execute(
                sa.text(
                    "SELECT DISTINCT partition_key FROM audit.batch WHERE source_id = :source_id AND status = 'loaded'"
                ),
                {"source_id": source_id},
            ).scalars()
        )


def _received_batches(engine, source_id: str) -> list[tuple[int, str, str]]:
    import sqlalchemy as sa

    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.text(
                    "SELECT b.batch_id, b.original_name, f.archive_path FROM audit.batch b "
                    "JOIN audit.file_registry f USING (source_id, sha256) "
                    "WHERE b.source_id = :source_id AND b.status = 'received' ORDER BY b.batch_id"
                ),
                {"source_id": source_id},
            )
        ]


def process_batch(
    engine, source: Source, batch_id: int, original_name: str, archive: Path, *, home: Home, run_id: str | None
) -> BatchOutcome:
    """One batch through the whole path: `prepare_batch`, then `commit_batch`."""
    prepared = prepare_batch(engine, source, original_name, archive, home=home)
    return commit_batch(engine, source, batch_id, original_name, archive, prepared, home=home, run_id=run_id)


@dataclass
class Prepared:
    """What a batch's file gave before anything of it is written: its frames and gate results, or why it could not be
    read (`unreadable`: the blocking problem and its details)."""

    raw: Any = None
    staged: dict | None = None
    results: list = field(default_factory=list)
    layout: str | None = None
    unreadable: tuple[str, tuple[str, ...]] | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def prepare_batch(engine, source: Source, original_name: str, archive: Path, *, home: Home) -> Prepared:
    """The part of a batch that reads only its file and the warehouse's reference data (the suites' value sets): the
    reading, gate 1, the normalisation and gate 2. It writes nothing to the warehouse (a worker process may run it
    for the next batches: etl.ahead)."""
    prepared = Prepared()
    clock = _Clock(prepared.seconds)
    try:
        with clock("read"):
            reader = source.resolve(source.reader)
            # a reader that takes `name` gets the file name as sent (the archive copy is `<sha256>.<extension>`)
            takes_name = "name" in inspect.signature(reader).parameters
            raw = reader(archive, name=original_name) if takes_name else reader(archive)
    except FileShapeError as exc:
        where = f"line {exc.line}" if exc.line else "file"
        col = f", column {exc.column}" if exc.column else ""
        # the reader read the archive copy (`<sha256>.csv`): the message names the file as the producer sent it
        message = str(exc).replace(archive.name, original_name)
        prepared.unreadable = (f"[{exc.rule}] {where}{col}: {message}", tuple(exc.details))
        return prepared
    prepared.raw, prepared.layout = raw, raw.attrs.get("layout")
    with clock("gate_file"):
        prepared.results.append(gates.run_suite(source.suites.file, raw, gate="file", home=home))
    if prepared.results[0].passed:
        params = parameters_for(engine, source.parameters)
        with clock("normalise"):
            normaliser = source.resolve(source.normaliser)
            # a normaliser that takes `parameters` gets the suites' value sets (a name to resolve against the warehouse)
            if "parameters" in inspect.signature(normaliser).parameters:
                prepared.staged = normaliser(raw, parameters=params)
            else:
                prepared.staged = normaliser(raw)
        with clock("gate_rows"):
            for frame_name, suite in source.suites.rows.items():
                prepared.results.append(
                    gates.run_suite(suite, prepared.staged[frame_name], gate="rows", parameters=params, home=home)
                )
    return prepared


def commit_batch(
    engine,
    source: Source,
    batch_id: int,
    original_name: str,
    archive: Path,
    prepared: Prepared,
    *,
    home: Home,
    run_id: str | None,
) -> BatchOutcome:
    """The part of a batch that reads and writes the warehouse, in arrival order: its layout, the cross-checks (which
    compare it with what is loaded), the gates' results, then its quarantine or its load."""
    outcome = BatchOutcome(source.id, batch_id, original_name, "received", seconds=dict(prepared.seconds))
    clock = _Clock(outcome.seconds)
    if prepared.unreadable:
        problem, details = prepared.unreadable
        return _quarantine_batch(engine, source, outcome, archive, home, [problem], [], run_id, details)
    outcome.layout = prepared.layout
    if outcome.layout:
        record_layout(engine, batch_id, outcome.layout)
    results, staged = list(prepared.results), prepared.staged
    if source.cross_checks and all(r.passed for r in results):
        from etl.quality import cross_checks

        with clock("cross_checks"):
            results.append(
                cross_checks.run(
                    engine, staged["values"], ensembles=source.ensembles, veille_active=source.veille_active
                )
            )
    gates.record(engine, results, batch_id, run_id)
    failures = [o for r in results for o in r.blocking_failures]
    outcome.warnings = [f"{o.suite}: {o.describe()}" for r in results for o in r.warnings]
    if failures:
        return _quarantine_batch(
            engine,
            source,
            outcome,
            archive,
            home,
            [f"{o.suite}: {o.describe()}" for o in failures],
            outcome.warnings,
            run_id,
        )

    partition = _partition(source, staged)
    with clock("load"):
        loaded = loading.replace_partition(engine, source, batch_id, partition, prepared.raw, staged, run_id)
    outcome.status, outcome.partition, outcome.rows = "loaded", partition, loaded.rows_raw
    return outcome


def _prepare_aside(url: str, source: Source, home: Home, _batch_id: int, original_name: str, archive: Path) -> Prepared:
    """`prepare_batch` in a worker process (etl.ahead), on its own engine."""
    return prepare_batch(ahead.worker_engine(url), source, original_name, archive, home=home)


def _warm_gates(home: Home) -> None:
    """What a worker preparing batches builds once: Great Expectations' context."""
    gates.gx_context(str(home.root))


class _Clock:
    """`with clock("stage"):` adds the stage's wall time to a dict."""

    def __init__(self, into: dict[str, float]):
        self.into = into

    @contextlib.contextmanager
    def __call__(self, stage: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.into[stage] = self.into.get(stage, 0.0) + time.perf_counter() - started


def _partition(source: Source, staged: dict) -> str:
    if source.partition.startswith("literal:"):
        return source.partition.removeprefix("literal:")
    return str(source.resolve(source.partition)(staged))


def quarantine(
    engine, home: Home, source_id: str, batch_id: int, original_name: str, archive: Path, message: str, run_id, report
) -> Path:
    """Copy the file to `quarantine/<source>/<batch>-<safe name>`, write its report beside it (`report(folder, stem)`
    writes it and returns its path), and mark the batch quarantined with `message`; returns the report's path."""
    folder = home.folder("quarantine") / source_id
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{batch_id:06d}-{safe_file_name(original_name)}"  # a 250-byte name cannot get a prefix
    copy = folder / stem
    if not copy.exists():
        shutil.copyfile(archive, copy)
    path = report(folder, stem)
    mark_quarantined(engine, batch_id, message, path, run_id)
    return path


def record_layout(engine, batch_id: int, layout: str) -> None:
    """Record the layout the batch's file was read with (`audit.batch.layout`, "Format détecté")."""
    import sqlalchemy as sa

    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE audit.batch SET layout = :layout WHERE batch_id = :batch_id"),
            {"layout": layout, "batch_id": batch_id},
        )


def _quarantine_batch(engine, source, outcome, archive, home, failures, warnings, run_id, details=()) -> BatchOutcome:
    """Quarantine a batch with a plain-text report of its blocking problems (and their `details`) and warnings."""

    def text_report(folder: Path, stem: str) -> Path:
        lines = [
            f"Quarantined file: {outcome.original_name}",
            f"Source: {source.id} ({source.producer})",
            f"Batch: {outcome.batch_id}   archive copy: {archive}",
            "",
            "Blocking problems (the file was not loaded; the warehouse is unchanged):",
            *[f"  - {f}" for f in failures],
            *[f"    {line}" for line in details],
        ]
        if warnings:
            lines += ["", "Warnings:", *[f"  - {w}" for w in warnings]]
        lines += ["", "Fix the file and drop the corrected version in the inbox again."]
        path = folder / f"{stem}.report.txt"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    report = quarantine(
        engine, home, source.id, outcome.batch_id, outcome.original_name, archive, failures[0], run_id, text_report
    )
    outcome.status, outcome.reason, outcome.report = "quarantined", failures[0], report
    return outcome
