"""`make bench`: how close the platform's ingest comes to PostgreSQL's raw COPY rate on a job-seeker file.

In a throw-away database on the warehouse server and a throw-away runtime folder, it loads the reference
data, generates one France Travail DEFM file of N months concatenated (UTF-8 months only: 2024 onwards),
then measures (1) `COPY` of that file as it is into an unlogged table of text columns, and (2) the platform's
whole path for the same file: register and archive, read, gate 1, normalise, gate 2, cross-source checks,
COPY into raw and staging, core swap. It prints both rates in file lines per second, their ratio, and the
time per stage. Timings live here, never in pass/fail tests.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path


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


def run(months: int) -> None:
    from etl import pipeline, warehouse
    from etl.config import PROJECT_ROOT, Home
    from etl.generators import france_travail, territories
    from etl.referentiels import periods
    from etl.sources.france_travail import DEFM_COLUMNS, DEFM_COUNTS
    from etl.sources.registry import source
    from etl.warehouse import migrations
    from etl.warehouse.urls import with_database

    server = warehouse.url()
    database = f"obs_bench_{uuid.uuid4().hex[:8]}"
    admin = warehouse.engine(with_database(server, "postgres")).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
    tmp = Path(tempfile.mkdtemp(prefix="obs-bench-"))
    os.environ["OBSERVATOIRE_HOME"] = str(tmp / "home")
    try:
        home = Home.from_env().ensure()
        engine = warehouse.engine(with_database(server, database))
        migrations.migrate(engine)
        periods.load(engine)
        territory_dir = tmp / "territories"
        inboxes = {"cog_regions": "regions.csv", "cog_departements": "departements.csv",
                   "catalogue_operateurs": "indicateurs_operateurs.csv"}  # fmt: skip
        for source_id, name in inboxes.items():
            (home.folder("inbox") / source_id).mkdir(parents=True)
            shutil.copyfile(PROJECT_ROOT / "catalogue" / name, home.folder("inbox") / source_id / name)
        for path in territories.generate(territory_dir):
            if path.name.startswith("qpv_20"):
                (home.folder("inbox") / "anct_qpv").mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, home.folder("inbox") / "anct_qpv" / path.name)
        for source_id in (*inboxes, "anct_qpv"):
            pipeline.ingest(engine, source(source_id), home=home)

        wanted = [f"{2024 + i // 12}-{i % 12 + 1:02d}" for i in range(months)]
        print(f"generating {months} months of France Travail files ...", flush=True)
        files = france_travail.generate_defm(tmp / "ft", territory_dir, wanted)
        big = tmp / f"DEFM_QPV_{wanted[-1].replace('-', '')}.csv"
        lines = _concatenate(files, big)
        size_mb = big.stat().st_size / 1e6
        print(f"bench file: {lines:,} lines, {size_mb:.0f} MB", flush=True)

        columns = ", ".join(f"{c} text" for c in DEFM_COLUMNS)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE UNLOGGED TABLE public.bench_copy ({columns})")
        started = time.perf_counter()
        with engine.begin() as conn, big.open("r", encoding="utf-8") as fh:
            cursor = conn.connection.dbapi_connection.cursor()
            cursor.copy_expert("COPY public.bench_copy FROM STDIN WITH (FORMAT csv, HEADER true, DELIMITER ';')", fh)
        copy_seconds = time.perf_counter() - started

        (home.folder("inbox") / "france_travail_defm").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(big, home.folder("inbox") / "france_travail_defm" / big.name)
        started = time.perf_counter()
        report = pipeline.ingest(engine, source("france_travail_defm"), home=home)
        ingest_seconds = time.perf_counter() - started
        [batch] = report.batches
        if batch.status != "loaded":
            raise SystemExit(f"the bench file was not loaded: {batch.reason}")

        copy_rate, ingest_rate = lines / copy_seconds, lines / ingest_seconds
        print(f"\nraw COPY into an unlogged table : {copy_rate:>12,.0f} lines/s ({copy_seconds:.1f} s)")
        print(f"platform end-to-end ingest      : {ingest_rate:>12,.0f} lines/s ({ingest_seconds:.1f} s)")
        print(f"ratio                           : {ingest_rate / copy_rate:>12.4f}  (target >= 0.35)")
        print(
            f"figures written to core         : {batch.rows * len(DEFM_COUNTS) / ingest_seconds:>12,.0f} values/s "
            f"({len(DEFM_COUNTS)} per file line)"
        )
        print("\nwhere the ingest time goes:")
        other = ingest_seconds - sum(batch.seconds.values())
        for stage, seconds in [*batch.seconds.items(), ("landing, audit, Data Docs", other)]:
            print(f"  {stage:<26} {seconds:6.1f} s  {100 * seconds / ingest_seconds:5.1f} %")
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="observatoire bench")
    parser.add_argument("--months", type=int, default=int(os.environ.get("BENCH_MONTHS", "24")))
    args = parser.parse_args(argv)
    run(min(max(args.months, 1), 84))
    return 0
