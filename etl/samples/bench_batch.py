"""Bench piece: the fixed cost of a batch, what a small file pays whatever its size.

Three 100-line aggregated France Travail files (the "ensemble des QPV" lines of a generated month, each rewritten
to a month of its own so that every file is new), each dropped in the inbox and ingested in a child process as an
Airflow task would, beside the raw `COPY` of the same file. The batch's cost is `pipeline.ingest`'s: landing (sha256,
archive copy, registry), reading, both GX gates, cross-checks, load and audit; the Data Docs pages of the run are
rendered once per run, not per batch, and are shown apart. Medians of the three runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from statistics import median

LINES = 100
MONTHS = ("2023-01", "2023-02", "2023-03")
TARGET_SECONDS = 0.5


def small_files(month_file: Path, folder: Path, lines: int = LINES, months=MONTHS) -> list[Path]:
    """`lines` lines of the generated monthly file `month_file` that are not QPV lines (a file of some of the QPV
    would rightly fail the coverage check), once per month of `months`, the month rewritten: one file each."""
    header, *rows = month_file.read_text(encoding="utf-8").splitlines(keepends=True)
    own = rows[-1].split(";", 1)[0]
    chosen = [row for row in rows if row.startswith(own + ";") and ";QPV;" not in row][:lines]
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for month in months:
        path = folder / f"DEFM_QPV_{month.replace('-', '')}.csv"
        path.write_text(header + "".join(month + row[len(own) :] for row in chosen), encoding="utf-8")
        files.append(path)
    return files


def fixed_cost(tmp: Path, territory_dir: Path, ingest: Callable, copy: Callable) -> dict:
    """The small files (from a month generated on the referential of `territory_dir`), each through
    `ingest(path) -> (child result, peak RSS)` and `copy(path, columns) -> child result`; the medians."""
    from etl.samples.generators import france_travail
    from etl.sources.france_travail import DEFM_COLUMNS

    print(f"measuring the fixed cost of a batch ({len(MONTHS)} files of {LINES} lines) ...", flush=True)
    [month] = france_travail.generate_defm(tmp / "batch", territory_dir, ["2024-01"])
    files = small_files(month, tmp / "batch" / "small")
    ingested = [ingest(path) for path in files]
    return summarise(ingested, [copy(path, DEFM_COLUMNS) for path in files])


def summarise(ingested: list[tuple[dict, float]], copied: list[dict]) -> dict:
    """The medians of the runs: `ingested` holds (child result, peak RSS) per file, `copied` the raw COPY's result."""
    results = [result for result, _ in ingested]
    batch = [result["seconds"] - result["once"].get("data_docs", 0.0) for result in results]
    return {
        "lines": LINES,
        "seconds": median(batch),
        "runs": batch,
        "data_docs": median(result["once"].get("data_docs", 0.0) for result in results),
        "landing": median(result["once"].get("landing", 0.0) for result in results),
        "stages": {name: median(result["stages"][name] for result in results) for name in results[0]["stages"]},
        "copy": median(result["seconds"] for result in copied),
        "startup": median(result["startup"] for result in results),
        "worker_start": median(result["worker_start"] for result in results),
        "worker_rss_mib": median(result["worker_rss_mib"] for result in results),
        "peak_rss_mb": max(rss for _, rss in ingested),
    }


def table_lines(batch: dict) -> list[str]:
    """The bench table's lines of this piece."""
    return [
        f"| {batch['lines']}-line aggregated file: raw COPY (reference, median of {len(batch['runs'])}) | "
        f"{batch['copy']:.3f} s | | 1 | | |",
        f"| the same, one batch through the platform (landing, both gates, cross-checks, load, audit; median of "
        f"{len(batch['runs'])}) | {batch['seconds']:.2f} s | | {batch['copy'] / batch['seconds']:.3f} | "
        f"{batch['peak_rss_mb']:.0f} MiB | ≤ {TARGET_SECONDS} s |",
        f"| the run's Data Docs pages, rendered once per run after its batches | {batch['data_docs']:.2f} s | | | | |",
    ]


def details(batch: dict) -> list[str]:
    """Where the small batch's time goes."""
    out = ["", f"Where the {batch['lines']}-line batch's time goes (medians):"]
    parts = [("landing", batch["landing"]), *batch["stages"].items()]
    parts.append(("audit and the rest", batch["seconds"] - sum(seconds for _, seconds in parts)))
    out += [f"  {name:<26} {seconds:6.3f} s" for name, seconds in parts]
    return out
