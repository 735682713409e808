"""`make demo`: the platform's main job, end to end, on the embedded warehouse unless WAREHOUSE_URL is set.

Starts (or reuses) the warehouse, migrates it, runs every DAG in `dags/` through Airflow, and prints what
happened: each DAG's final state and duration, where the outputs and logs are, and whether the warehouse
state (fingerprint of every table but the run journals) is identical to the previous demo's.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from etl import warehouse
from etl.config import DAGS_FOLDER, DATA_FOLDERS, Home
from etl.errors import ObservatoireError
from etl.orchestration import environment
from etl.sources.registry import source
from etl.warehouse import fingerprint, migrations
from etl.warehouse.urls import redact


def main() -> int:
    started = time.monotonic()
    home = Home.from_env().ensure()
    url = warehouse.url()
    engine = warehouse.engine(url)
    result = migrations.migrate(engine)
    print(f"Observatoire QPV demo: warehouse {redact(url)}")
    print(
        f"  schema version {result.after}" + (f" (migrated from {result.before or 'empty'})" if result.changed else "")
    )

    environment.apply(home, url)
    from etl.orchestration import runner
    from etl.samples.demo_data import referential_first

    # the lanes start (Airflow's metadata database migrates, the worker processes load the DAGs) while the QPV
    # referential is generated; the reference data's DAG runs alone (every source is checked against it) while the
    # other sources' files are generated
    with runner.Lanes(DAGS_FOLDER, home.root / "demo" / "logs", environment.lanes()) as lanes:
        with referential_first(home) as rest:
            reference = runner.reference_dags(lanes.dags)
            outcomes = runner.run_all(lanes, only=reference, skip_tags=PUBLICATION | WATCHES)
            samples = rest()
        per_source: dict[str, int] = {}
        for name in samples.dropped:
            per_source[name.split("/")[0]] = per_source.get(name.split("/")[0], 0) + 1
        print(
            "  sample files dropped in the inbox: " + ", ".join(f"{n} for {s}" for s, n in sorted(per_source.items()))
        )
        for source_id, name in sorted(samples.expected_quarantine):
            print(f"  (broken on purpose, must be quarantined: {source_id}/{name})")

        others = set(lanes.dags) - reference
        outcomes += runner.run_all(lanes, only=others, skip_tags=PUBLICATION | WATCHES, work=_files_waiting(home))
        if samples.held_back:
            from etl.samples.demo_data import drop_late_files

            moved = drop_late_files(home, samples)
            print("  second wave, late and corrected deliveries: " + ", ".join(moved))
            late_dags = {source(s).dag_id for s in samples.late_sources}
            outcomes += runner.run_all(lanes, only=late_dags, label="second-wave", work=_files_waiting(home))
        outcomes += _publish(lanes)

    # the warehouse's fingerprint (a scan of every table) is taken on its own connection while the summary's queries
    # run: the two cores each have one
    with ThreadPoolExecutor(1) as background:
        fingerprinted = background.submit(fingerprint.fingerprint, engine)
        print("\nDAG runs (through Airflow):")
        width = max(len(o.dag_id) for o in outcomes) if outcomes else 10
        for o in outcomes:
            extra = f"  failed tasks: {', '.join(o.failed_tasks)}" if o.failed_tasks else ""
            if o.failed_tasks and set(o.failed_tasks) <= _allowed_failures(samples.expected_quarantine):
                extra += " (expected: a file broken on purpose was quarantined)"
            print(f"  {o.dag_id:<{width}}  {o.state:<8} {o.seconds:6.1f} s  log: {o.log_file}{extra}")

        _print_batches(engine)
        _print_regional(engine)
        _print_editions(engine)
        # the portal's accounts (hashing their passwords) while the fingerprint ends: it reads no portal table
        accounts_file, created, kept = _portal_accounts(engine, home)
        state = fingerprinted.result()
    state_file = home.root / "demo" / "last_state.json"
    previous = json.loads(state_file.read_text()) if state_file.exists() else None
    state_file.write_text(json.dumps(state, indent=1, sort_keys=True))
    rows = sum(count for count, _ in state.values())
    print(f"\nWarehouse: {len(state)} tables, {rows} rows (run journals audit.*_log excluded)")
    if previous is None:
        print("  first demo on this warehouse: state recorded in " + str(state_file))
    else:
        changed = fingerprint.differences({k: tuple(v) for k, v in previous.items()}, state)
        print(
            "  identical to the previous demo run"
            if not changed
            else f"  changed since the previous demo run: {', '.join(changed)}"
        )
    print(f"\nRegional portal: {created} demo account(s) created, {kept} kept")
    print("\nWhere things are:")
    print(f"  runtime folder   {home.root}  ({', '.join(DATA_FOLDERS)})")
    print(f"  regional portal  make portal, then http://127.0.0.1:8090/connexion (demo accounts: {accounts_file})")
    print(f"  Data Docs        {home.folder('datadocs') / 'index.html'}")
    print(f"  Airflow home     {home.airflow_home}  (UI: make airflow)")
    print('  warehouse URL    observatoire warehouse url  (psql "$(.venv/bin/observatoire warehouse url)")')
    seconds = time.monotonic() - started
    print(f"\nDone in {seconds:.0f} s.")
    # make bench reports the last demo's duration (BENCHMARKS.md)
    last_run = {"seconds": round(seconds, 1), "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "first_on_this_warehouse": previous is None}  # fmt: skip
    (home.root / "demo" / "last_run.json").write_text(json.dumps(last_run) + "\n", encoding="utf-8")

    problems = _unexpected(engine, outcomes, samples.expected_quarantine)
    if problems:
        raise ObservatoireError("the demo did not go as expected: " + "; ".join(problems) + ".")
    return 0


def _files_waiting(home: Home):
    """A DAG's work for the lanes (the sources with most files waiting start first): its sources' files in the
    inbox."""
    from etl import landing
    from etl.sources.registry import all_sources

    sources = all_sources()[0].values()
    return lambda dag_id: sum(len(landing.pending(home, s.id, s.patterns)) for s in sources if s.dag_id == dag_id)


def _portal_accounts(engine, home: Home) -> tuple[Path, int, int]:
    """One portal account per région (`demo-r84`...) and an administrator (`demo-admin`), each with a generated password
    written once to a file under the runtime folder readable by its owner only; accounts already there are kept
    (a second demo changes nothing). Returns the file and how many accounts were created and kept."""
    import os
    import secrets

    from etl.portal import accounts
    from etl.referentiels.territories import load_regions

    path = home.root / "portail" / "comptes-demo.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    wanted = [(f"demo-r{code}", code) for code in load_regions()["code"]] + [("demo-admin", None)]
    created = []
    for login, region in wanted:
        if accounts.account(engine, login) is None:
            password = secrets.token_urlsafe(15)
            accounts.add(engine, login, password, region=region)
            created.append(f"{login}\t{password}\t{'région ' + region if region else 'administrateur'}\n")
    if created:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as out:
            out.writelines(created)
        path.chmod(0o600)
    return path, len(created), len(wanted) - len(created)


WATCHER = "fail_if_any_task_failed"
# watches wait for months (a campaign until all régions are in): their DeadlineAlerts need the scheduler
WATCHES = frozenset({"watch"})
PUBLICATION = frozenset({"publication"})  # DAGs run last, once every input is in, for the demo's years


def _publish(lanes) -> list:
    """The annual editions of the demo's years and the semestrial editions of its complete semesters, through the
    publication DAGs, once every source was loaded: the annual ones after each other, the semestrial ones after each
    other (each kind's latest edition is its last released), the two kinds side by side."""
    from etl.samples.demo_data import DEMO_MONTHS, DEMO_YEARS

    semesters = [f"{m[:4]}-S{1 if m.endswith('-06') else 2}" for m in DEMO_MONTHS if m[5:] in ("06", "12")]
    return lanes.run(
        [
            [_edition_run("publication_annuelle", year, {"year": year}) for year in DEMO_YEARS],
            [_edition_run("publication_semestrielle", s, {"semester": s}) for s in semesters],
        ]
    )


def _edition_run(dag_id: str, period, conf: dict):
    from etl.orchestration.runner import Run

    return Run(dag_id, f"{dag_id}-{period}", conf, title=f"{dag_id} for {period} through Airflow")


TASK_OF_SOURCE = {"regional": "intake_regional", "paqte": "intake_paqte"}  # ... nor their task


def _allowed_failures(expected_quarantine: set[tuple[str, str]]) -> set[str]:
    """The tasks that fail when a file broken on purpose is quarantined, and the watcher."""
    return {TASK_OF_SOURCE.get(s, f"ingest_{s}") for s, _ in expected_quarantine} | {WATCHER}


def _print_regional(engine) -> None:
    """Who has sent what: the demo's regional campaign and PAQTE semester (as `observatoire submissions status`)."""
    import datetime as dt

    from etl.ops import campaigns as status
    from etl.samples.demo_data import DEMO_CAMPAIGN, PAQTE_SEMESTER

    today = dt.date.today()
    regions, unattributed = status.campaign_status(engine, DEMO_CAMPAIGN)
    print("\nRegional workbooks (core.regional_submission_status; reports of rejected files in quarantine/regional/):")
    print(_indented(status.format_status(regions, DEMO_CAMPAIGN, today, unattributed=unattributed)))
    departements = status.paqte_status(engine, PAQTE_SEMESTER)
    print("\nPAQTE reports (core.paqte_submission_status; reports of rejected files in quarantine/paqte/):")
    print(_indented(status.format_status(departements, PAQTE_SEMESTER, today, kind="paqte")))


def _print_editions(engine) -> None:
    """The released editions and where their files are."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        editions = conn.execute(
            sa.text(
                "SELECT edition_id, folder, manifest #> '{metadata,disclosure,masked_cells}' FROM publication.edition "
                "ORDER BY kind, period_code, released_at"
            )
        ).all()
    print("\nPublication editions (publication.edition; BI contract: the publication schema, role bi_reader):")
    for edition_id, folder, masked in editions:
        print(f"  {edition_id}  cells masked by statistical secrecy: {masked}")
        print(f"    files {folder}  HTML report {folder}/index.html")


def _indented(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def _unexpected(engine, outcomes, expected_quarantine: set[tuple[str, str]]) -> list[str]:
    """Problems other than the files broken on purpose: a DAG run may fail only because of those; and every
    quarantined file must have its report beside it (for workbooks, the HTML report and the JSON verdict)."""
    from pathlib import Path

    import sqlalchemy as sa

    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT source_id, original_name, report_path FROM audit.batch WHERE status = 'quarantined'")
        ).all()
    quarantined = {(source_id, name) for source_id, name, _ in rows}
    problems = [f"{s}/{n} has no report beside it" for s, n, r in rows if not r or not Path(r).is_file()]
    problems += [
        f"{s}/{n} has no JSON verdict beside its report"
        for s, n, r in rows
        if r and r.endswith(".rapport.html") and not Path(r.removesuffix(".rapport.html") + ".verdict.json").is_file()
    ]
    problems += [f"{s}/{n} was not quarantined" for s, n in sorted(expected_quarantine - quarantined)]
    problems += [f"{s}/{n} was quarantined" for s, n in sorted(quarantined - expected_quarantine)]
    allowed = _allowed_failures(expected_quarantine)
    for o in outcomes:
        if not o.ok and (not o.failed_tasks or set(o.failed_tasks) - allowed):
            problems.append(f"DAG {o.dag_id} ended {o.state} (failed tasks: {', '.join(o.failed_tasks) or 'none'})")
    return problems


# Each batch with the label the summary gives it. A revision is a loaded batch whose partition had an earlier
# loaded batch (now superseded); a late delivery is one loaded after a delivery of a later period of the source.
# The period of a partition key, compared to tell a late delivery: its last part that starts with a digit
# (`2025-02`, `2024-12/insee` -> 2024-12, `qpv2024/2020` -> 2020, `2015-2024`); NULL when it has none (`cog`).
PARTITION_PERIOD = "substring({} FROM '([0-9][^/]*)[^0-9]*$')"
FILE_LABELS = """
SELECT b.source_id, b.original_name,
       CASE WHEN b.status <> 'loaded' THEN b.status
            WHEN EXISTS (SELECT 1 FROM audit.batch o WHERE o.source_id = b.source_id AND o.status = 'superseded'
                         AND o.partition_key = b.partition_key AND o.batch_id < b.batch_id) THEN 'revised'
            WHEN EXISTS (SELECT 1 FROM audit.batch o WHERE o.source_id = b.source_id AND o.status = 'loaded'
                         AND o.batch_id < b.batch_id
                         AND {period_o} > {period_b}) THEN 'late'
            ELSE 'loaded' END,
       b.partition_key, b.rows_read,
       CASE WHEN b.status = 'superseded' THEN
                (SELECT n.original_name FROM audit.batch n WHERE n.source_id = b.source_id
                 AND n.partition_key = b.partition_key AND n.status = 'loaded' LIMIT 1)
            WHEN b.status = 'loaded' AND EXISTS (
                SELECT 1 FROM audit.batch o WHERE o.source_id = b.source_id AND o.status = 'superseded'
                AND o.partition_key = b.partition_key AND o.batch_id < b.batch_id) THEN 'replaces ' || (
                SELECT string_agg(o.original_name, ', ') FROM audit.batch o WHERE o.source_id = b.source_id
                AND o.status = 'superseded' AND o.partition_key = b.partition_key)
            ELSE b.message END,
       b.report_path, b.layout
FROM audit.batch b
ORDER BY b.source_id, b.batch_id
""".format(period_o=PARTITION_PERIOD.format("o.partition_key"), period_b=PARTITION_PERIOD.format("b.partition_key"))


def _catalogue_coverage(levels, modes: dict[str, str]) -> list[tuple]:
    """Per indicator of the 2014 catalogue with values (code order): its mode, its territory levels joined by '/',
    its first and last period; from (indicator, level, count, first, last) rows of the latest values."""
    coverage: dict[str, tuple] = {}
    for code, level, _, first, last in levels:
        if code in modes:
            seen = coverage.get(code, (set(), first, last))
            coverage[code] = (seen[0] | {level}, min(seen[1], first), max(seen[2], last))
    return [(code, modes[code], "/".join(sorted(lv)), a, b) for code, (lv, a, b) in sorted(coverage.items())]


def _print_batches(engine) -> None:
    """What was loaded, and what was rejected and why, from the audit tables."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        files = conn.execute(sa.text(FILE_LABELS)).all()
        received = conn.execute(
            sa.text("SELECT count(*) FILTER (WHERE outcome = 'duplicate'), count(*) FROM audit.receipt_log")
        ).one()
        counts = conn.execute(
            sa.text(
                "SELECT (SELECT count(*) FROM core.region), (SELECT count(*) FROM core.departement), "
                "(SELECT count(*) FROM core.qpv WHERE geography = '2015'), "
                "(SELECT count(*) FROM core.qpv WHERE geography = '2024'), "
                "(SELECT count(*) FROM core.qpv_correspondance), (SELECT count(*) FROM core.qpv_veille_active), "
                "(SELECT count(*) FROM core.indicator WHERE family = 'convention_2014'), "
                "(SELECT count(*) FROM core.indicator WHERE family = 'convention_2014' AND mode = 'national'), "
                "(SELECT count(*) FROM core.measure WHERE numero_parent IS NULL), "
                "(SELECT count(*) FROM core.period), (SELECT count(*) FROM core.qpv_perimetre), "
                "(SELECT count(*) FROM core.qpv_perimetre WHERE repare)"
            )
        ).one()
        summary = conn.execute(
            sa.text("SELECT statut, measures, percent FROM core.measure_status_summary ORDER BY measures")
        ).all()
        # per source: its vintages, values and masked values, counted per vintage in one hashed pass (a
        # count(DISTINCT vintage) per source sorted the millions of rows: 2.1 s against 0.4 s on the demo's warehouse)
        facts = conn.execute(
            sa.text(
                "SELECT source_id, count(*), sum(n)::bigint, sum(m)::bigint FROM ("
                "SELECT source_id, vintage, count(*) AS n, count(*) FILTER (WHERE status = 'masked') AS m "
                "FROM core.indicator_value_vintage GROUP BY source_id, vintage) per_vintage "
                "GROUP BY source_id ORDER BY 1"
            )
        ).all()
        # the figures of core.indicator_value (one per key of the vintages: the latest) per indicator and level, for
        # both the count and the catalogue: the vintages' distinct keys, read from their primary key's index alone
        # (the view's DISTINCT ON reads every row: 4.3 s against 0.9 s)
        levels = conn.execute(
            sa.text(
                "SELECT indicator_code, territory_level, count(*), min(period_code), max(period_code) FROM ("
                "SELECT DISTINCT indicator_code, territory_level, territory_code, period_code, breakdown "
                "FROM core.indicator_value_vintage) figures GROUP BY 1, 2"
            )
        ).all()
        modes = dict(
            conn.execute(sa.text("SELECT code, mode FROM core.indicator WHERE family = 'convention_2014'")).all()
        )
        dq = conn.execute(sa.text("SELECT count(*), count(*) FILTER (WHERE NOT success) FROM audit.dq_result")).one()
    print("\nFiles (audit.batch): loaded, revised (a new delivery of a period already loaded), late (older than a")
    print("delivery already loaded: kept as an earlier vintage), superseded (replaced by a revision), quarantined;")
    print("each with the layout it was read with (etl/sources/layouts.py, the registry's `layouts`):")
    for source_id, name, label, partition, rows, message, report, layout in files:
        if label == "quarantined":
            detail = (message or "") + (f" [layout {layout}]" if layout else "")
        elif label == "superseded":
            detail = f"partition {partition}, layout {layout or '-'}, replaced by {message}"
        else:
            detail = f"partition {partition}, {rows} lines, layout {layout or '-'}" + (
                f" ({message})" if message else ""
            )
        print(f"  {source_id:<24} {name:<44} {label:<11} {detail}")
        if report:
            print(f"  {'':<24} report: {report}")
    print(f"  {received[1]} drops received in total, {received[0]} recognised as already received")
    regions, deps, q15, q24, corr, veille, ind, national, measures, periods, shapes, repaired = counts
    print("\nReference data (core):")
    print(
        f"  {regions} régions, {deps} départements, {q15} QPV 2015 + {q24} QPV 2024, {corr} correspondences "
        f"({veille} in veille active), {periods} periods"
    )
    print(f"  {shapes} perimeters of 2024 QPV ({repaired} repaired by make_valid), drawn on the annual reports' maps")
    print(
        f"  {ind} catalogue indicators of 2014 ({national} national, {ind - national} local), {measures} measures: "
        + ", ".join(f"{n} {s} ({p:.0f} %)" for s, n, p in summary)
    )
    latest = sum(count for _, _, count, _, _ in levels)
    catalogue = _catalogue_coverage(levels, modes)
    if facts:
        print("\nIndicator values (core.indicator_value_vintage, every vintage kept):")
        for source_id, vintages, values, masked in facts:
            print(f"  {source_id:<30} {vintages} vintages, {values} values ({masked} masked by the producer)")
        print(f"  {latest} figures in core.indicator_value (latest vintage of each)")
    if catalogue:
        print(f"\n2014 catalogue indicators with values: {len(catalogue)} of 32 (the local ones come from the regions)")
        for code, mode, levels, first, last in catalogue:
            print(f"  {code} ({mode}): {levels}, {first} to {last}")
    print(f"  data-quality results: {dq[0]} expectations checked, {dq[1]} not met (audit.dq_result)")
