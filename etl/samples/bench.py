"""`make bench`: the platform's speed measured against references taken in the same run, printed as one table.

In a throw-away database on the warehouse server and a throw-away runtime folder (reference data and both QPV
geographies loaded through the pipeline first), it measures:

1. France Travail's individual extract (6 million lines by default, `BENCH_ROWS`): `COPY` of the file as it is into
   an unlogged table of text columns (the reference), against the platform's end-to-end ingest of the same kind of
   file (landing with sha256 and archive copy, streaming into the warehouse, every gate, raw and staging, counts at
   every territory level and breakdown); time, lines per second, ratio, peak RSS of the client process. Median of
   `BENCH_RUNS` (3) runs, each on its own file (landing skips bytes it already has) of another month;
2. the same kind of load through `pandas.to_sql` on a 200,000-line sample, beside `COPY` of that sample;
3. the Great Expectations gates' share of the ingest time;
4. the import time of each DAG file (a fresh interpreter with Airflow's DagBag machinery already imported, as the
   DAG processor has it) and of the whole DagBag (with its import errors, which must be none);
5. p50 / p95 latency of 10 typical BI queries on `publication` (territory, period and indicator filters) with 10
   years of monthly rows for every territory (QPV, départements, régions, France) loaded into
   `publication.emploi_qpv`: 20 runs of each after 2 warm-ups; then the same queries under load: 16 concurrent
   clients as bi_reader for 30 s, the table scaled to 10 times its rows (both in etl.samples.bench_bi; `--only bi`
   runs them alone);
6. the aggregated France Travail file (DEFM, `BENCH_MONTHS` months concatenated, default 12) against its raw COPY;
7. the last `make demo`'s total time, as the demo recorded it;
8. the annual report's pages with a portrait per QPV (etl.publication.report_qpv) on the données QPV tables of the
   sample 2024 geography (1,584 QPV, figures drawn for every indicator), against writing the same bytes as plain files;
9. secrecy on many small cells: `qpv_data.build` (primary and secondary suppression) on the same kind of tables with
   5 % of the QPV figures under 11, against the same build with 0.3 % (`--only secrecy` runs this piece alone,
   without the warehouse);
10. how the costs grow: the extract at 1, 3 and 6 million lines (and `BENCH_ROWS` when larger) and the aggregated file
   at 1, 12 and 36 months, each once, with a straight-line fit of time and peak RSS per line (etl.samples.bench_scaling;
   `--no-scaling` skips it).

`--only load` measures 6 and the fixed cost of a 100-line batch (etl.samples.bench_batch) with the task start alone,
in a few minutes, for work on the load path.

Every measurement that needs its own peak RSS runs in a child process (`--child`). An ingest runs as an Airflow task
on a Celery worker does: the child preloads what tasks import (`etl.orchestration.worker_preload`), then forks the
task; the task's start and the worker's are shown apart. Timings live here and in BENCHMARKS.md, never in pass/fail
tests.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from etl.errors import ObservatoireError
from etl.samples import bench_batch, bench_bi, bench_scaling
from etl.samples.bench_qpv_data import bench_secrecy, portrait_inputs, run_secrecy, secrecy_lines

EXTRACT_ROWS = 6_000_000
SAMPLE_ROWS = 200_000
RUNS = 3
DEFM_SOURCE = "france_travail_defm"
HEADER = "| measure | time | lines/s | ratio to its reference | peak RSS | target |\n|---|---|---|---|---|---|"
EXTRACT_MONTHS = ("2025-04", "2025-05", "2025-06", "2025-07", "2025-08")


# --- children: one measurement each, the result as the last line of stdout ---------------------------------------


def _engine(url: str):
    from etl import warehouse

    return warehouse.engine(url)


def _child_copy(task: dict) -> dict:
    """COPY of the file as it is into a fresh unlogged table of text columns."""
    engine = _engine(task["url"])
    columns = ", ".join(f'"{c}" text' for c in task["columns"])
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS public.{task['table']}")
        conn.exec_driver_sql(f"CREATE UNLOGGED TABLE public.{task['table']} ({columns})")
    started = time.perf_counter()
    with engine.begin() as conn, open(task["file"], "rb") as fh:
        cursor = conn.connection.dbapi_connection.cursor()
        cursor.copy_expert(
            f"COPY public.{task['table']} FROM STDIN WITH (FORMAT csv, HEADER true, DELIMITER ';')", fh, size=1 << 20
        )
        rows = cursor.rowcount
    return {"seconds": time.perf_counter() - started, "rows": rows}


def _child_ingest(task: dict) -> dict:
    """The platform's whole path for what waits in the source's inbox, as an Airflow task runs it: this process is
    the worker, which preloads what tasks import (`etl.orchestration.worker_preload`, timed as `worker_start`, paid
    once per worker), then forks the task process (a bare `os.fork()`, as Airflow's task supervisor does on Linux).
    The task's own start (the imports it still lacks and its GX context) is timed apart as `startup`."""
    started = time.perf_counter()
    import etl.orchestration.worker_preload  # noqa: F401

    worker_start = time.perf_counter() - started
    return {**_forked(_task_ingest, task), "worker_start": worker_start, "worker_rss_mib": _rss_mib("VmRSS")}


def _task_ingest(task: dict) -> dict:
    started = time.perf_counter()
    import pyarrow.csv  # noqa: F401

    from etl import pipeline
    from etl.config import Home
    from etl.quality import gates
    from etl.sources.registry import source

    os.environ["OBSERVATOIRE_HOME"] = task["home"]
    home = Home.from_env()
    gates.gx_context(str(home.root))
    startup = time.perf_counter() - started
    engine = _engine(task["url"])
    started = time.perf_counter()
    report = pipeline.ingest(engine, source(task["source"]), home=home)
    seconds = time.perf_counter() - started
    [batch] = report.batches
    return {"seconds": seconds, "startup": startup, "status": batch.status, "reason": batch.reason,
            "stages": batch.seconds, "once": report.seconds}  # fmt: skip


def _forked(function, task: dict) -> dict:
    """`function(task)` in a forked child, its result with the child's own peak RSS (`peak_rss_mib`)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its result (or its error) down the pipe, then out without the parent's cleanup
        os.close(read)
        try:
            out = {**function(task), "peak_rss_mib": _peak_rss_mib()}
        except BaseException as exc:  # noqa: BLE001 - reported by the parent as the step's failure
            out = {"error": f"{type(exc).__name__}: {exc}"}
        with os.fdopen(write, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(out))
        os._exit(0)
    os.close(write)
    with os.fdopen(read, encoding="utf-8") as fh:
        out = json.loads(fh.read() or '{"error": "the forked task died without a result"}')
    os.waitpid(pid, 0)
    if "error" in out:
        raise ObservatoireError(f"the bench's forked task failed ({out['error']}).")
    return out


def _child_to_sql(task: dict) -> dict:
    """pandas.read_csv of the sample (not timed) then DataFrame.to_sql with its defaults (timed)."""
    import pandas as pd

    engine = _engine(task["url"])
    frame = pd.read_csv(task["file"], sep=";", dtype=str, keep_default_na=False)
    started = time.perf_counter()
    frame.to_sql(task["table"], engine, schema="public", if_exists="replace", index=False)
    return {"seconds": time.perf_counter() - started, "rows": len(frame)}


def _child_dag_file(task: dict) -> dict:
    """One DAG file run in a fresh interpreter that holds what the DAG processor has loaded before it parses a file
    (airflow.sdk and the DagBag machinery, with Airflow's models, timetables and serialisation): the file's own cost."""
    import runpy

    import airflow.dag_processing.dagbag  # noqa: F401
    import airflow.sdk  # noqa: F401

    started = time.perf_counter()
    runpy.run_path(task["path"])
    return {"seconds": time.perf_counter() - started}


def _child_dagbag(task: dict) -> dict:
    import airflow.sdk  # noqa: F401
    from airflow.dag_processing.dagbag import DagBag

    started = time.perf_counter()
    bag = DagBag(dag_folder=task["folder"])
    return {"seconds": time.perf_counter() - started, "dags": len(bag.dags), "errors": len(bag.import_errors)}


CHILDREN = {
    "copy": _child_copy,
    "ingest": _child_ingest,
    "to_sql": _child_to_sql,
    "dag_file": _child_dag_file,
    "dagbag": _child_dagbag,
}


def _peak_rss_mib() -> float:
    """This process's own peak resident memory (VmHWM, per address space). Not getrusage's ru_maxrss: Linux carries
    the parent's peak across fork and exec into it, so every child would show the bench's own memory. A forked
    child's VmHWM starts from its own resident pages: the parent's pages count once the child touches them."""
    return _rss_mib("VmHWM")


def _rss_mib(field: str) -> float:
    """A memory field of /proc/self/status (VmHWM, VmRSS), in MiB."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _spawn(task: dict) -> tuple[dict, float]:
    """Run one child measurement; (its result, its peak RSS in MiB)."""
    proc = subprocess.run(
        [sys.executable, "-m", "etl.samples.bench", "--child", json.dumps(task)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ObservatoireError(f"the bench step {task['step']} failed ({last}).")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return result, result.pop("peak_rss_mib")


def _ingest(url: str, home, path: Path, source_id: str) -> tuple[dict, float]:
    """Drop `path` in the source's inbox and ingest it in a child; (its result, its peak RSS in MiB)."""
    inbox = home.folder("inbox") / source_id
    inbox.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, inbox / path.name)
    result, rss = _spawn({"step": "ingest", "url": url, "home": str(home.root), "source": source_id})
    if result["status"] != "loaded":
        raise ObservatoireError(f"the bench file {path.name} was not loaded: {result['reason']}")
    return result, rss


def _copy(url: str, path: Path, table: str, columns) -> dict:
    """The raw `COPY` of `path` into a fresh unlogged table of text columns, in a child; its result."""
    return _spawn({"step": "copy", "url": url, "file": str(path), "table": table, "columns": list(columns)})[0]


def _median_runs(tasks: list[dict]) -> tuple[dict, float, list[float]]:
    """The run of median time among `tasks` (one child each), the largest peak RSS, and every run's seconds."""
    results = [_spawn(task) for task in tasks]
    ordered = sorted(results, key=lambda r: r[0]["seconds"])
    return ordered[len(ordered) // 2][0], max(rss for _, rss in results), [r["seconds"] for r, _ in results]


# --- the bench warehouse -------------------------------------------------------------------------------------------


def _prepare(engine, home, territory_dir: Path) -> None:
    """Migrations, periods, the reference files and both QPV geographies, through the pipeline."""
    from etl import pipeline
    from etl.config import PROJECT_ROOT
    from etl.referentiels import periods
    from etl.samples.generators import territories
    from etl.sources.registry import source
    from etl.warehouse import migrations

    migrations.migrate(engine)
    periods.load(engine)
    inboxes = {"cog_regions": "regions.csv", "cog_departements": "departements.csv",
               "catalogue_operateurs": "indicateurs_operateurs.csv"}  # fmt: skip
    for source_id, name in inboxes.items():
        (home.folder("inbox") / source_id).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PROJECT_ROOT / "catalogue" / name, home.folder("inbox") / source_id / name)
    (home.folder("inbox") / "anct_qpv").mkdir(parents=True, exist_ok=True)
    for path in territories.generate(territory_dir):
        if path.name.startswith("qpv_20"):
            shutil.copyfile(path, home.folder("inbox") / "anct_qpv" / path.name)
    for source_id in (*inboxes, "anct_qpv"):
        report = pipeline.ingest(engine, source(source_id), home=home)
        if any(b.status != "loaded" for b in report.batches):
            raise ObservatoireError(f"the bench reference data {source_id} did not load.")


# --- 1-3: the individual extract ------------------------------------------------------------------------------------


def _bench_extract(url: str, home, tmp: Path, territory_dir: Path, rows: int, runs: int) -> dict:
    from etl.samples.generators import france_travail_individus as gen
    from etl.sources.france_travail_individus import COLUMNS

    months = EXTRACT_MONTHS[:runs]
    print(f"generating {runs} individual extracts of {rows:,} lines ...", flush=True)
    files = [gen.write_extract(tmp / gen.file_name(m), territory_dir, m, rows=rows, seed=index)
             for index, m in enumerate(months)]  # fmt: skip
    size_mb = files[0].stat().st_size / 1e6
    print(f"measuring raw COPY ({runs} runs) ...", flush=True)
    copy, copy_rss, copy_runs = _median_runs(
        [{"step": "copy", "url": url, "file": str(f), "table": "bench_copy", "columns": list(COLUMNS)} for f in files]
    )
    print(f"measuring the platform's ingest ({runs} runs) ...", flush=True)
    # one file at a time in the inbox: each run ingests its own
    results = [_ingest(url, home, path, "france_travail_individus") for path in files]
    ordered = sorted(results, key=lambda r: r[0]["seconds"])
    ingest = ordered[len(ordered) // 2][0]

    sample = tmp / "sample.csv"
    with files[0].open("rb") as src, sample.open("wb") as out:
        for index, line in enumerate(src):
            if index > SAMPLE_ROWS:
                break
            out.write(line)
    print("measuring pandas.to_sql on a 200,000-line sample ...", flush=True)
    to_sql, to_sql_rss = _spawn({"step": "to_sql", "url": url, "file": str(sample), "table": "bench_to_sql"})
    sample_copy = _copy(url, sample, "bench_sample", COLUMNS)
    gates = sum(ingest["stages"].get(k, 0.0) for k in ("gate_file", "gate_rows", "cross_checks"))
    return {
        "rows": rows,
        "size_mb": size_mb,
        "copy": {**copy, "runs": copy_runs, "peak_rss_mb": copy_rss},
        "ingest": {**ingest, "runs": [r["seconds"] for r, _ in results], "peak_rss_mb": max(r for _, r in results)},
        "to_sql": {**to_sql, "peak_rss_mb": to_sql_rss},
        "sample_copy": sample_copy,
        "gates_share": gates / ingest["seconds"],
    }


# --- 4: DAG parsing ------------------------------------------------------------------------------------------------


def _bench_dags() -> dict:
    from etl.config import DAGS_FOLDER

    print("measuring DAG file imports ...", flush=True)
    files = {}
    for path in sorted(DAGS_FOLDER.glob("*.py")):
        runs = [_spawn({"step": "dag_file", "path": str(path)})[0]["seconds"] for _ in range(3)]
        files[path.name] = statistics.median(runs)
    bag = [_spawn({"step": "dagbag", "folder": str(DAGS_FOLDER)})[0] for _ in range(3)]
    return {
        "files": files,
        "dagbag": statistics.median(b["seconds"] for b in bag),
        "dags": bag[0]["dags"],
        "errors": max(b["errors"] for b in bag),
    }


def _concatenate(files: list[Path], target: Path) -> int:
    """One file holding each monthly file's own month (not the revisions of earlier months it repeats)."""
    lines = 0
    with target.open("w", encoding="utf-8") as out:
        for index, path in enumerate(files):
            header, *rows = path.read_text(encoding="utf-8").splitlines(keepends=True)
            month = rows[-1].split(";", 1)[0]
            own = [row for row in rows if row.startswith(month + ";")]
            if index == 0:
                out.write(header)
            out.writelines(own)
            lines += len(own)
    return lines


def _bench_defm(url: str, home, tmp: Path, territory_dir: Path, months: int) -> dict:
    from etl.samples.generators import france_travail
    from etl.sources.france_travail import DEFM_COLUMNS

    wanted = [f"{2024 + i // 12}-{i % 12 + 1:02d}" for i in range(months)]
    print(f"generating {months} months of aggregated France Travail files ...", flush=True)
    files = france_travail.generate_defm(tmp / "ft", territory_dir, wanted)
    big = tmp / f"DEFM_QPV_{wanted[-1].replace('-', '')}.csv"
    lines = _concatenate(files, big)
    copy = _copy(url, big, "bench_defm", DEFM_COLUMNS)
    ingest, rss = _ingest(url, home, big, DEFM_SOURCE)
    return {"lines": lines, "months": months, "copy": copy, "ingest": {**ingest, "peak_rss_mb": rss}}


# --- 8: the QPV portraits of the annual report ----------------------------------------------------------------------


def _bench_portraits(territory_dir: Path, out_dir: Path) -> dict:
    """The annual report of the données QPV tables built on `portrait_inputs` (not timed) written into `out_dir`
    (timed: the national page with its search index, the list and a portrait per QPV), beside the reference: the same
    bytes written as plain files."""
    from etl.publication import disclosure, qpv_data
    from etl.publication.report import render_report

    given = portrait_inputs(territory_dir)
    started = time.perf_counter()
    tables, _ = qpv_data.build(given, disclosure.Rules())
    built = time.perf_counter() - started
    started = time.perf_counter()
    written = render_report(tables, out_dir / "report", edition_id="annuelle-2024-bench", kind="annuelle",
                            period="2024", places=qpv_data.places(given))  # fmt: skip
    seconds = time.perf_counter() - started
    contents = [(path.relative_to(out_dir / "report"), path.read_bytes()) for path in written]
    (out_dir / "plain" / "qpv").mkdir(parents=True)
    started = time.perf_counter()
    for relative, content in contents:
        (out_dir / "plain" / relative).write_bytes(content)
    reference = time.perf_counter() - started
    portraits = sum(1 for relative, _ in contents if relative.parent.name == "qpv" and relative.name != "index.html")
    return {"portraits": portraits, "files": len(contents), "mb": sum(len(c) for _, c in contents) / 1e6,
            "seconds": seconds, "reference_seconds": reference, "tables_seconds": built}  # fmt: skip


# --- the whole bench -----------------------------------------------------------------------------------------------


def _demo_time() -> dict | None:
    from etl.config import Home

    path = Home.from_env().root / "demo" / "last_run.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _scaling(url: str, home, tmp: Path, territory_dir: Path, largest: int) -> dict:
    """Piece 10: the extract and the aggregated file at several sizes, each its own file (etl.samples.bench_scaling)."""
    from etl.samples.generators import france_travail
    from etl.samples.generators import france_travail_individus as gen
    from etl.sources.france_travail import DEFM_COLUMNS
    from etl.sources.france_travail_individus import COLUMNS

    folder = tmp / "scaling"
    folder.mkdir(exist_ok=True)

    def measured(path: Path, source_id: str, columns, lines: int, **size) -> dict:
        copy = _copy(url, path, "bench_scaling", columns)
        ingest, rss = _ingest(url, home, path, source_id)
        timings = {"seconds": ingest["seconds"], "copy_seconds": copy["seconds"], "peak_rss_mb": rss}
        return {"lines": lines, **size, **timings}

    def extract(rows: int, index: int) -> dict:
        month = f"2023-{index + 1:02d}"
        print(f"scaling: an individual extract of {rows:,} lines ...", flush=True)
        path = gen.write_extract(folder / gen.file_name(month), territory_dir, month, rows=rows, seed=100 + index)
        return measured(path, "france_travail_individus", list(COLUMNS), rows)

    def aggregated(months: int, index: int) -> dict:
        first = 12 + sum(bench_scaling.AGGREGATED_MONTHS[:index])  # months after January 2024: past the bench's own
        wanted = [f"{2024 + (first + i) // 12}-{(first + i) % 12 + 1:02d}" for i in range(months)]
        print(f"scaling: the aggregated file of {months} month(s) ...", flush=True)
        files = france_travail.generate_defm(folder / f"ft{index}", territory_dir, wanted)
        big = folder / f"DEFM_QPV_{wanted[-1].replace('-', '')}.csv"
        return measured(big, DEFM_SOURCE, list(DEFM_COLUMNS), _concatenate(files, big), months=months)

    return bench_scaling.measure(extract, aggregated, largest)


@contextlib.contextmanager
def _bench_warehouse():
    """A throw-away database (reference data and QPV referential loaded) and runtime folder: (url, engine, home,
    tmp, territory_dir); both are removed afterwards."""
    from etl import warehouse
    from etl.config import Home
    from etl.warehouse.urls import with_database

    server = warehouse.url()
    database = f"obs_bench_{uuid.uuid4().hex[:8]}"
    admin = warehouse.engine(with_database(server, "postgres")).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
    tmp = Path(tempfile.mkdtemp(prefix="obs-bench-"))
    saved_home = os.environ.get("OBSERVATOIRE_HOME")
    os.environ["OBSERVATOIRE_HOME"] = str(tmp / "home")
    try:
        home = Home.from_env().ensure()
        url = with_database(server, database)
        engine = warehouse.engine(url)
        territory_dir = tmp / "territories"
        print("loading the reference data and the QPV referential ...", flush=True)
        _prepare(engine, home, territory_dir)
        yield url, engine, home, tmp, territory_dir
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        shutil.rmtree(tmp, ignore_errors=True)
        if saved_home is None:
            os.environ.pop("OBSERVATOIRE_HOME", None)
        else:
            os.environ["OBSERVATOIRE_HOME"] = saved_home


def _bi_pieces(engine, url: str, bi_load: dict | None) -> dict:
    """Pieces 5 and 5b: the BI queries alone, then under concurrent load on the scaled table."""
    bi = bench_bi.single_client(engine)
    load = {"scale": bench_bi.SCALE, "clients": bench_bi.CLIENTS, "seconds": bench_bi.SECONDS, **(bi_load or {})}
    return {"bi": bi, "bi_load": bench_bi.under_load(engine, url, bench_bi.BI_QUERIES, bi["params"], **load)}


def run(
    rows: int = EXTRACT_ROWS, runs: int = RUNS, months: int = 12, bi_load: dict | None = None, scaling: bool = True
) -> dict:
    demo = _demo_time()
    with _bench_warehouse() as (url, engine, home, tmp, territory_dir):
        results = {
            "extract": _bench_extract(url, home, tmp, territory_dir, rows, runs),
            "dags": _bench_dags(),
            **_load_pieces(url, home, tmp, territory_dir, months),
            "portraits": _bench_portraits(territory_dir, tmp / "portraits"),
            "secrecy": bench_secrecy(territory_dir),
            "demo": demo,
            "machine": _machine(),
        }
        if scaling:
            results["scaling"] = _scaling(url, home, tmp, territory_dir, rows)
        results.update(_bi_pieces(engine, url, bi_load))
    return results


def _load_pieces(url: str, home, tmp: Path, territory_dir: Path, months: int) -> dict:
    """Pieces 6 and the batch's fixed cost: the aggregated file of `months` months and the 100-line batch, each
    beside its raw `COPY`."""
    return {
        "defm": _bench_defm(url, home, tmp, territory_dir, months),
        "batch": bench_batch.fixed_cost(
            tmp,
            territory_dir,
            lambda path: _ingest(url, home, path, DEFM_SOURCE),
            lambda path, columns: _copy(url, path, "bench_batch", columns),
        ),
    }


def run_load(months: int = 12) -> dict:
    """The load pieces alone (`--only load`), with the task start measured in the batch's children."""
    with _bench_warehouse() as (url, _engine, home, tmp, territory_dir):
        return {**_load_pieces(url, home, tmp, territory_dir, months), "machine": _machine()}


def _defm_line(defm: dict) -> list[str]:
    """The aggregated file's two lines of the table: its raw COPY, then the platform's ingest."""
    defm_copy, defm_ingest = defm["lines"] / defm["copy"]["seconds"], defm["lines"] / defm["ingest"]["seconds"]
    return [
        f"| aggregated DEFM file, {defm['months']} months ({defm['lines']:,} lines): raw COPY (reference) | "
        f"{defm['copy']['seconds']:.1f} s | {defm_copy:,.0f} | 1 | | |",
        f"| the same, the platform's ingest | {defm['ingest']['seconds']:.1f} s | {defm_ingest:,.0f} | "
        f"{defm_ingest / defm_copy:.2f} | {defm['ingest']['peak_rss_mb']:.0f} MiB | ≤ 1.5 s |",
    ]


def _start_lines(measured: dict, which: str) -> list[str]:
    """The task start, as Airflow's Celery worker gives it (forked from the worker that preloaded), then the worker's
    own start, paid once per worker."""
    return [
        f"| start of a task process forked from a worker that preloaded pandas, Arrow and Great Expectations "
        f"(`etl.orchestration.worker_preload`): what it still imports, its GX context; {which} | "
        f"{measured['startup']:.2f} s | | | | ≤ 1.5 s |",
        f"| the worker's own start: the preload, once per worker (a fresh interpreter's imports); its resident "
        f"memory, shared by its tasks | {measured['worker_start']:.1f} s | | | "
        f"{measured['worker_rss_mib']:.0f} MiB | |",
    ]


def load_table(results: dict) -> str:
    """What `--only load` prints: the aggregated file, the batch and the task start (the batch's children's)."""
    batch, m = results["batch"], results["machine"]
    lines = [HEADER, *_defm_line(results["defm"]), *bench_batch.table_lines(batch),
             *_start_lines(batch, f"median of the batch's {len(batch['runs'])} tasks")]  # fmt: skip
    return "\n".join([*lines, *bench_batch.details(batch), "",
                      f"Machine: {m['cpus']} CPUs, {m['memory_gib']} GiB, {m['date']}"])  # fmt: skip


def run_bi(bi_load: dict | None = None) -> dict:
    """The BI pieces alone (`--only bi`)."""
    with _bench_warehouse() as (url, engine, *_):
        return {**_bi_pieces(engine, url, bi_load), "machine": _machine()}


def _machine() -> dict:
    memory = None
    with open("/proc/meminfo", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                memory = round(int(line.split()[1]) / 1024**2, 1)
    return {"cpus": os.cpu_count(), "memory_gib": memory, "python": platform.python_version(),
            "system": platform.platform(), "date": time.strftime("%Y-%m-%d")}  # fmt: skip


def table(results: dict) -> str:
    """The one table `make bench` prints (Markdown, pasted into BENCHMARKS.md)."""
    ex, dags, defm = results["extract"], results["dags"], results["defm"]
    rows = ex["rows"]
    copy_rate, ingest_rate = rows / ex["copy"]["seconds"], rows / ex["ingest"]["seconds"]
    sample_rate, to_sql_rate = (
        ex["sample_copy"]["rows"] / ex["sample_copy"]["seconds"],
        ex["to_sql"]["rows"] / ex["to_sql"]["seconds"],
    )
    slowest = max(dags["files"], key=dags["files"].get)
    lines = [
        HEADER,
        f"| individual extract, {rows:,} lines ({ex['size_mb']:.0f} MB): raw COPY into an unlogged table "
        f"(reference, median of {len(ex['copy']['runs'])}) | {ex['copy']['seconds']:.1f} s | {copy_rate:,.0f} | 1 | "
        f"{ex['copy']['peak_rss_mb']:.0f} MiB | |",
        f"| the same, the platform's end-to-end ingest + aggregation (median of {len(ex['ingest']['runs'])}) | "
        f"{ex['ingest']['seconds']:.1f} s | {ingest_rate:,.0f} | {ingest_rate / copy_rate:.2f} | "
        f"{ex['ingest']['peak_rss_mb']:.0f} MiB | ≥ 0.6, < 30 s, < 1 GiB |",
        *_start_lines(ex["ingest"], "once per task, not in the line above"),
        f"| {ex['to_sql']['rows']:,}-line sample: COPY (reference) | {ex['sample_copy']['seconds']:.2f} s | "
        f"{sample_rate:,.0f} | 1 | | |",
        f"| the same sample through pandas.to_sql | {ex['to_sql']['seconds']:.1f} s | {to_sql_rate:,.0f} | "
        f"{to_sql_rate / sample_rate:.3f} | {ex['to_sql']['peak_rss_mb']:.0f} MiB | |",
        f"| Great Expectations gates in the extract's ingest | "
        f"{ex['gates_share'] * ex['ingest']['seconds']:.1f} s | | {100 * ex['gates_share']:.0f} % of the ingest | | |",
        *_defm_line(defm),
        *bench_batch.table_lines(results["batch"]),
        f"| DAG file import, slowest ({slowest}; median of 3) | {dags['files'][slowest]:.2f} s | | | | < 0.3 s |",
        f"| DagBag of the {dags['dags']} DAGs, {dags['errors']} import error(s) (median of 3) | {dags['dagbag']:.2f} s "
        "| | | | < 2 s |",
        *bench_bi.table_lines(results, bench_bi.BI_RUNS),
    ]
    portraits = results["portraits"]
    plain, built = portraits["reference_seconds"], portraits["seconds"]
    lines += [
        f"| annual report with the QPV portraits, {portraits['files']:,} pages ({portraits['mb']:.0f} MB): the same "
        f"bytes written as plain files (reference) | {plain:.2f} s | {portraits['files'] / plain:,.0f} pages/s | 1 | "
        "| |",
        f"| the same, built from the données QPV tables ({portraits['portraits']:,} QPV portraits, list, national page "
        f"with its search index) and written | {built:.1f} s | {portraits['files'] / built:,.0f} pages/s | "
        f"{plain / built:.3f} | | < 60 s |",
        *secrecy_lines(results["secrecy"]),
    ]
    demo = results.get("demo")
    if demo:
        kind = "first run" if demo.get("first_on_this_warehouse") else "run on a loaded warehouse"
        demo_text = f"{demo['seconds']:.0f} s ({kind}, {demo['finished_at']})"
    else:
        demo_text = "no demo recorded in this runtime folder: run make demo first"
    lines.append(f"| last make demo | {demo_text} | | | | < 3 min |")
    out = ["\n".join(lines), "", "Where the extract's ingest time goes (median run):"]
    stages = ex["ingest"]["stages"]
    for stage, seconds in [
        *stages.items(),
        ("landing, audit, Data Docs", ex["ingest"]["seconds"] - sum(stages.values())),
    ]:
        out.append(f"  {stage:<26} {seconds:6.2f} s  {100 * seconds / ex['ingest']['seconds']:5.1f} %")
    out += bench_batch.details(results["batch"])
    out += ["", "DAG files (median import time of 3, Airflow's DagBag machinery already imported):"]
    out += [f"  {name:<30} {seconds:.3f} s" for name, seconds in dags["files"].items()]
    out += bench_bi.details(results)
    if results.get("scaling"):
        out += bench_scaling.lines(results["scaling"])
    m = results["machine"]
    out += ["", f"Machine: {m['cpus']} CPUs, {m['memory_gib']} GiB, Python {m['python']}, {m['system']}, {m['date']}"]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="observatoire bench")
    parser.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS", EXTRACT_ROWS)))
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", RUNS)))
    parser.add_argument("--months", type=int, default=int(os.environ.get("BENCH_MONTHS", "12")))
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    parser.add_argument("--only", choices=["secrecy", "bi", "load"], default=os.environ.get("BENCH_ONLY") or None,
                        help="one piece alone (secrecy: piece 9, no warehouse; bi: the BI queries; load: the "
                             "aggregated file, the 100-line batch and the task start)")  # fmt: skip
    parser.add_argument("--bi-scale", type=int, default=int(os.environ.get("BENCH_BI_SCALE", bench_bi.SCALE)))
    parser.add_argument("--bi-clients", type=int, default=int(os.environ.get("BENCH_BI_CLIENTS", bench_bi.CLIENTS)))
    parser.add_argument("--bi-seconds", type=float, default=float(os.environ.get("BENCH_BI_SECONDS", bench_bi.SECONDS)))
    parser.add_argument("--no-scaling", action="store_true", help="skip the sizes table (piece 10)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        task = json.loads(args.child)
        result = CHILDREN[task["step"]](task)
        print(json.dumps({"peak_rss_mib": _peak_rss_mib(), **result}), flush=True)  # a forked task's own wins
        return 0
    bi_load = {"scale": max(args.bi_scale, 1), "clients": max(args.bi_clients, 1), "seconds": max(args.bi_seconds, 1)}
    if args.only == "secrecy":
        results = {"secrecy": run_secrecy()}
        text = "\n".join([HEADER, *secrecy_lines(results["secrecy"])])
    elif args.only == "load":
        results = run_load(min(max(args.months, 1), 84))
        text = load_table(results)
    elif args.only == "bi":
        results = run_bi(bi_load)
        m = results["machine"]
        text = "\n".join([HEADER, *bench_bi.table_lines(results, bench_bi.BI_RUNS), *bench_bi.details(results), "",
                          f"Machine: {m['cpus']} CPUs, {m['memory_gib']} GiB, {m['date']}"])  # fmt: skip
    else:
        results = run(max(args.rows, 1_000), min(max(args.runs, 1), len(EXTRACT_MONTHS)),
                      min(max(args.months, 1), 84), bi_load, scaling=not args.no_scaling)  # fmt: skip
        text = table(results)
    print("\n" + text)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
