"""What the operators read about a source DAG, written from its registry entry: the DAG's `doc_md` and the README rows.

Nothing here is written by hand per source: `dag_doc(entry)` gives the Markdown of a generated DAG (producer,
description, schedule as cron and in words, the period a run is for, the files waited for, the tables loaded, the
suites, the Assets, the tolerance, what happens to a bad file); `readme_block()` gives the README's tables of the
registry's DAGs, kept between the GENERATED markers of README.md (`observatoire docs --write` rewrites them,
`stale_row` names the first row that differs). Light at import: DAG files reach it at parse time.
"""

from __future__ import annotations

from datetime import timedelta

from etl.config import PROJECT_ROOT
from etl.sources.registry import Source, all_sources

README_FILE = PROJECT_ROOT / "README.md"
BEGIN = "<!-- generated from etl/sources/registry.yaml by `observatoire docs --write`: do not edit by hand -->"
END = "<!-- end of the generated tables -->"
SENSOR_WAIT = timedelta(days=3)  # how long the sensor of a source DAG waits for the producer before failing
SENSOR_POKE_MINUTES = 10

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")  # fmt: skip
_PRESETS = {"@yearly": "1 January, 00:00", "@annually": "1 January, 00:00", "@monthly": "the 1st of each month, 00:00",
            "@weekly": "Sundays, 00:00", "@daily": "daily, 00:00", "@hourly": "every hour"}  # fmt: skip
_PERIODS = {
    "month": "the month before its logical date (a run on 5 May is for April)",
    "quarter": "the quarter before its logical date (a run on 20 April is for Q1)",
    "year": "the year before its logical date (a run on 15 June 2025 is for 2024)",
}


def _ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def cadence_in_words(cadence: str) -> str | None:
    """'0 6 5 * *' -> 'the 5th of each month, 06:00'; None for a cron these words do not cover."""
    if cadence in _PRESETS:
        return _PRESETS[cadence]
    parts = cadence.split()
    if len(parts) != 5 or not (parts[0].isdigit() and parts[1].isdigit()):
        return None
    minute, hour, day, month, weekday = parts
    at = f"{int(hour):02d}:{int(minute):02d}"
    if day == "*" and month == "*":
        return {"*": f"daily, {at}", "1-5": f"weekdays, {at}"}.get(weekday)
    if weekday != "*" or not day.isdigit():
        return None
    if month == "*":
        return f"the {_ordinal(int(day))} of each month, {at}"
    months = month.split(",")
    if not all(m.isdigit() and 1 <= int(m) <= 12 for m in months):
        return None
    names = [_MONTHS[int(m) - 1] for m in months]
    if len(names) == 1:
        return f"{int(day)} {names[0]}, {at}"
    return f"the {_ordinal(int(day))} of {_and(names)}, {at}"


def schedule_text(cadence: str) -> str:
    """The schedule in words (Paris time) and as written in the registry."""
    words = cadence_in_words(cadence)
    return f"{words} (`{cadence}`)" if words else f"`{cadence}`"


def period_text(entry: Source) -> str:
    if entry.period is None:
        return "not period-based: a run loads what waits in the inbox"
    return _PERIODS[entry.period] + "; the `period` param re-runs another one from the archive"


def _codes(items: list[str]) -> str:
    return ", ".join(f"`{item}`" for item in items)


def dag_doc(
    entry: Source, *, schedule: str | None = None, wait: timedelta = SENSOR_WAIT, tolerance: timedelta | None = None
) -> str:
    """The `doc_md` of a source's own DAG."""
    tolerance = tolerance if tolerance is not None else timedelta(days=entry.tolerance_days)
    staging = list(dict.fromkeys(entry.staging_tables.values()))
    suites = [entry.suites.file, *dict.fromkeys(entry.suites.rows.values())]
    lines = [
        f"### {entry.id}",
        "",
        f"Generated from the entry `{entry.id}` of `etl/sources/registry.yaml` (dags/sources.py).",
        "",
        f"**{entry.producer}.** {entry.description}",
        "",
        f"- **Schedule** (Paris time): {schedule_text(schedule or entry.cadence)}.",
        f"- **A run is for**: {period_text(entry)}.",
        f"- **Waits for**: {_codes(entry.patterns)} in `inbox/{entry.id}/` (the sensor looks every "
        f"{SENSOR_POKE_MINUTES} minutes, in reschedule mode, and fails when the producer is {_duration(wait)} late).",
        f"- **Late file**: a mail *fichier en retard* when the run is still waiting {_duration(tolerance)} after it "
        "was queued and no file of the source came (DeadlineAlert, the registry's `tolerance_days`).",
        f"- **Loads**: {_codes([entry.raw_table, *staging])}, then core through "
        f"{_codes(['sql/core/' + name for name in entry.core_sql])}, in one transaction per partition.",
        f"- **Checks**: GX suites {_codes(suites)} (`expectations/`).",
    ]
    if entry.indicators:
        lines.append(f"- **Indicators**: {_codes(entry.indicators)}.")
    if entry.assets:
        lines.append(f"- **Emits**: the Airflow Asset(s) {_codes(entry.assets)} once loaded.")
    lines.append(
        f"- **A bad file** (a blocking rule broken) is quarantined in `quarantine/{entry.id}/` with a report naming "
        "the rules, columns and lines; the other files load, then the run fails (no retry) and a mail names it."
    )
    return "\n".join(lines) + "\n"


def _duration(delta: timedelta) -> str:
    if delta.days and not delta.seconds:
        return f"{delta.days} day{'s' if delta.days > 1 else ''}"
    return f"{int(delta.total_seconds())} seconds"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


LAYOUT_KINDS = {True: "real", False: "platform's own"}
WORKBOOK_LAYOUT = "the platform's workbook template, checked cell by cell"


def layouts_text(entry: Source) -> str:
    """The layouts an entry accepts, as the README's tables name them: `name` (real) or `name` (platform's own)."""
    if entry.kind == "workbook":
        return WORKBOOK_LAYOUT
    return ", ".join(f"`{layout.name}` ({LAYOUT_KINDS[layout.real]})" for layout in entry.layouts)


def readme_rows(entries: dict[str, Source]) -> list[str]:
    """One README row per entry with its own DAG, then one per entry served by another DAG."""
    own = [e for e in entries.values() if e.dag is None]
    served = [e for e in entries.values() if e.dag is not None]
    rows = [
        "| DAG | schedule (Paris time) | a run is for | waits for, in `inbox/<dag_id>/` | layouts | what |",
        "|---|---|---|---|---|---|",
    ]
    for e in sorted(own, key=lambda e: e.id):
        period = f"the {e.period} before" if e.period else "what waits"
        what = _cell(f"**{e.producer}.** {e.description}")
        if e.indicators:
            what += f" Indicators: {_codes(e.indicators)}."
        cells = [f"`{e.id}`", schedule_text(e.cadence), period, _codes(e.patterns), layouts_text(e), what]
        rows.append(f"| {' | '.join(cells)} |")
    rows += ["", "| registry entry | served by the DAG | task | layouts |", "|---|---|---|---|"]
    for e in sorted(served, key=lambda e: (e.dag, e.id)):
        task = f"intake_{e.id}" if e.kind == "workbook" else f"ingest_{e.id}"
        rows.append(f"| `{e.id}` | `{e.dag}` | `{task}` | {layouts_text(e)} |")
    return rows


def readme_block() -> str:
    """The generated part of the README's DAG section, markers included."""
    valid, broken = all_sources()
    if broken:
        raise ValueError(f"the registry has invalid entries: {'; '.join(broken.values())}")
    return "\n".join([BEGIN, *readme_rows(valid), END])


def refreshed(readme: str) -> str:
    """The README with its generated block replaced by the registry's current one."""
    if readme.count(BEGIN) != 1 or readme.count(END) != 1:
        raise ValueError(f"README.md must hold the generated block once, between {BEGIN!r} and {END!r}")
    before, rest = readme.split(BEGIN, 1)
    after = rest.split(END, 1)[1]
    return before + readme_block() + after


def stale_row(readme: str) -> str | None:
    """None when the README's generated block matches the registry, else the first row that differs (both sides)."""
    written = readme.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n").splitlines() if BEGIN in readme else []
    expected = readme_block().splitlines()[1:-1]
    for index in range(max(len(written), len(expected))):
        have = written[index] if index < len(written) else "(nothing)"
        want = expected[index] if index < len(expected) else "(nothing)"
        if have != want:
            return f"row {index + 1} of the generated block: README has {have!r}, the registry gives {want!r}"
    return None
