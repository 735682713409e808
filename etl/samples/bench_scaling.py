"""`make bench`, how the costs grow with the input: the extract and the aggregated file at several sizes, and a fit.

`measure(extract, aggregated)` calls the bench's own measurements at each size (`extract(lines, index)` and
`aggregated(months, index)` return the platform's ingest time, its raw `COPY` reference, the line count and the
child's peak RSS), then fits time and peak RSS as a straight line in the number of lines (least squares): the slope
is the cost per line, the intercept the fixed cost. `lines(scaling)` prints the table and what the fit predicts for a
60-million-line national history.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

EXTRACT_LINES = (1_000_000, 3_000_000, 6_000_000)
AGGREGATED_MONTHS = (1, 12, 36)
PREDICTED_LINES = 60_000_000  # a national history of individual extracts
MONTHLY_LINES = 6_000_000  # France Travail's individual extract of one month: about 6 million job seekers


def extract_sizes(largest: int) -> tuple[int, ...]:
    """1, 3 and 6 million lines, plus `largest` (BENCH_ROWS) when it is larger (12 million, say)."""
    return EXTRACT_LINES + ((largest,) if largest > EXTRACT_LINES[-1] else ())


def fit(xs: list[float], ys: list[float]) -> dict:
    """Least-squares line y = intercept + slope * x."""
    slope, intercept = statistics.linear_regression(xs, ys)
    return {"slope": slope, "intercept": intercept}


def _fitted(points: list[dict]) -> dict:
    lines = [p["lines"] for p in points]
    return {
        "points": points,
        "time": fit(lines, [p["seconds"] for p in points]),
        "rss": fit(lines, [p["peak_rss_mb"] * 2**20 for p in points]),
    }


def measure(extract: Callable[[int, int], dict], aggregated: Callable[[int, int], dict], largest: int) -> dict:
    """Each size measured once (its own file), then the fits."""
    sizes = extract_sizes(largest)
    return {
        "extract": _fitted([extract(rows, index) for index, rows in enumerate(sizes)]),
        "aggregated": _fitted([aggregated(months, index) for index, months in enumerate(AGGREGATED_MONTHS)]),
    }


def lines(scaling: dict) -> list[str]:
    """The scaling table: per size, time, lines/s, ratio to COPY and peak RSS; then the fitted costs."""
    out = ["", "How the costs grow (one run per size; fit: time = fixed + per line × lines):"]
    out += ["| input | lines | ingest | lines/s | raw COPY | ratio | peak RSS |", "|---|---|---|---|---|---|---|"]
    for name, label in (("extract", "individual extract"), ("aggregated", "aggregated DEFM file")):
        for point in scaling[name]["points"]:
            size = f"{point['months']} months" if "months" in point else f"{point['lines'] / 1e6:g} M lines"
            rate, copy_rate = point["lines"] / point["seconds"], point["lines"] / point["copy_seconds"]
            out.append(
                f"| {label}, {size} | {point['lines']:,} | {point['seconds']:.1f} s | {rate:,.0f} | "
                f"{point['copy_seconds']:.2f} s | {rate / copy_rate:.2f} | {point['peak_rss_mb']:.0f} MiB |"
            )
    for name, label in (("extract", "individual extract"), ("aggregated", "aggregated DEFM file")):
        time, rss = scaling[name]["time"], scaling[name]["rss"]
        out.append(
            f"{label}: {time['slope'] * 1e6:.2f} s per million lines + {time['intercept']:.1f} s fixed; peak RSS "
            f"{rss['slope']:.0f} bytes per line + {rss['intercept'] / 2**20:.0f} MiB"
        )
    extract = scaling["extract"]
    # each monthly file pays the fixed cost once
    files = PREDICTED_LINES / MONTHLY_LINES
    seconds = files * (extract["time"]["intercept"] + extract["time"]["slope"] * MONTHLY_LINES)
    memory = (extract["rss"]["intercept"] + extract["rss"]["slope"] * PREDICTED_LINES) / 2**30
    out.append(
        f"predicted for {PREDICTED_LINES / 1e6:.0f} million extract lines, ingested as {files:.0f} monthly files of "
        f"{MONTHLY_LINES / 1e6:.0f} million: {_duration(seconds)} in all; peak RSS of one file of "
        f"{PREDICTED_LINES / 1e6:.0f} million lines {memory:.1f} GiB"
    )
    return out


def _duration(seconds: float) -> str:
    """`42 s`, or `5 min 20 s` from a minute on."""
    if seconds < 59.5:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"
