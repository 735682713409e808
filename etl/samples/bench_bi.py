"""`make bench`, the BI pieces: the typical queries by one client, then by many, on a publication table scaled up.

`single_client(engine)` fills `publication.emploi_qpv` with 10 years of monthly rows for every territory and times
`BI_QUERIES` (what a dashboard or an analyst asks) over one connection. Under load:
`scale_rows(engine, scale)` copies the bench's monthly `publication.emploi_qpv` rows `scale - 1` more times under
older editions (re-issues of the same months: the current edition and its view stay the same), so that the table
holds `scale` times its rows. `concurrent(url, queries, params)` then starts `clients` processes, each with its own
connection as the read-only BI role; together they start at one instant and run the typical queries in turn (each from
its own offset) for `seconds`; every query's latency is kept. Result: queries per second, p50 / p95 overall and per
query. The client processes only wait on the server, so their own Python does not weigh on the latencies.
"""

from __future__ import annotations

import re
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

CLIENTS = 16
SECONDS = 30
SCALE = 10
START_DELAY = 3.0  # seconds for every client to connect before the common start

# --- 5: BI queries, one client ----------------------------------------------------------------------------------------

BI_MONTHS = 120  # 10 years of monthly editions
BI_RUNS, BI_WARMUPS = 20, 2

FILL_EDITIONS = """
INSERT INTO publication.edition (edition_id, kind, period_code, released_at, inputs_digest, folder, manifest)
SELECT 'bench-' || to_char(m, 'YYYY-MM'), 'semestrielle',
       to_char(m, 'YYYY') || '-S' || CASE WHEN extract(month FROM m) <= 6 THEN '1' ELSE '2' END,
       m + interval '45 days', 'bench', '/nonexistent', '{}'::jsonb
FROM generate_series(DATE '2016-01-01', DATE '2016-01-01' + (:months - 1) * interval '1 month', interval '1 month') m
"""

FILL_ROWS = """
WITH territories AS (
    SELECT 'france' AS niveau, 'FR' AS code, 'France' AS nom, NULL AS region, NULL AS departement
    UNION ALL SELECT 'region', code, nom, code, NULL FROM core.region
    UNION ALL SELECT 'departement', code, nom, region_code, code FROM core.departement
    UNION ALL SELECT 'qpv', code, nom, region_code, departement_code FROM core.qpv WHERE geography = '2024'
), editions AS (
    SELECT edition_id, period_code AS semestre, substr(edition_id, 7) AS mois FROM publication.edition
    WHERE edition_id LIKE 'bench-%'
)
INSERT INTO publication.emploi_qpv (edition_id, semestre, mois, niveau, code_territoire, territoire, code_region,
    code_departement, categorie, ventilation, de_qpv, de_qpv_statut, de_unite, de_unite_statut, de_hors_qpv,
    de_hors_qpv_statut, part_ventilation_qpv, part_qpv, evolution_6_mois_qpv, evolution_12_mois_qpv, statut)
SELECT e.edition_id, e.semestre, e.mois, t.niveau, t.code, t.nom, t.region, t.departement, c.categorie, v.ventilation,
       n.qpv, CASE WHEN n.qpv < 11 THEN 'masked' ELSE 'ok' END, n.unite, 'ok', n.unite - n.qpv, 'ok',
       round(100 * random()::numeric, 1), round(100 * n.qpv / n.unite, 1), round(10 * random()::numeric - 5, 1),
       round(20 * random()::numeric - 10, 1), CASE WHEN n.qpv < 11 THEN 'masked' ELSE 'ok' END
FROM editions e CROSS JOIN territories t
CROSS JOIN (VALUES ('A'), ('ABC')) c (categorie)
CROSS JOIN (VALUES ('total'), ('sexe=F'), ('sexe=H'), ('age=<26'), ('age=26-49'), ('age=50+')) v (ventilation)
CROSS JOIN LATERAL (SELECT floor(5 + random() * 3000)::numeric AS qpv, floor(4000 + random() * 90000)::numeric AS unite
                    -- a draw per row: without a reference to the row, the subquery is run once and every cell had
                    -- the same counts (none masked)
                    WHERE t.code IS NOT NULL AND c.categorie IS NOT NULL AND v.ventilation IS NOT NULL
                      AND e.edition_id IS NOT NULL) n
"""

# (label, SQL): what a dashboard or an analyst asks the publication schema, with the bench's own codes
BI_QUERIES = [
    ("one QPV's monthly series (10 years)",
     "SELECT mois, de_qpv, de_qpv_statut FROM publication.emploi_qpv WHERE code_territoire = :qpv "
     "AND categorie = 'ABC' AND ventilation = 'total' ORDER BY mois"),
    ("a département's QPV in one semester",
     "SELECT mois, code_territoire, territoire, de_qpv FROM publication.emploi_qpv WHERE semestre = :semester "
     "AND niveau = 'qpv' AND code_departement = :departement AND categorie = 'ABC' AND ventilation = 'total'"),
    ("the current edition, régions",
     "SELECT * FROM publication.emploi_qpv_courant WHERE niveau = 'region' AND categorie = 'ABC'"),
    ("France, QPV and rest over 10 years",
     "SELECT mois, de_qpv, de_hors_qpv FROM publication.emploi_qpv WHERE niveau = 'france' AND categorie = 'A' "
     "AND ventilation = 'total' ORDER BY mois"),
    ("the 20 largest QPV in one month",
     "SELECT code_territoire, territoire, de_qpv FROM publication.emploi_qpv WHERE mois = :month AND niveau = 'qpv' "
     "AND categorie = 'ABC' AND ventilation = 'total' ORDER BY de_qpv DESC NULLS LAST LIMIT 20"),
    # the counts kept per edition by publication.emploi_qpv_cellules (0032): the same answer as count(*) and
    # count(*) FILTER (WHERE statut = 'masked') on emploi_qpv, without reading the semester's every cell
    ("masked cells per région in one semester",
     "SELECT code_region, sum(masquees)::bigint AS masquees, sum(cellules)::bigint AS count "
     "FROM publication.emploi_qpv_cellules WHERE semestre = :semester AND niveau = 'qpv' GROUP BY code_region "
     "ORDER BY code_region"),
    ("a région's départements by sex in one month",
     "SELECT code_territoire, ventilation, de_qpv, de_unite FROM publication.emploi_qpv WHERE mois = :month "
     "AND niveau = 'departement' AND code_region = :region AND ventilation IN ('sexe=F', 'sexe=H')"),
    ("12-month change of a département's QPV",
     "SELECT code_territoire, mois, evolution_12_mois_qpv FROM publication.emploi_qpv WHERE niveau = 'qpv' "
     "AND code_departement = :departement AND categorie = 'ABC' AND ventilation = 'total' AND mois >= :since"),
    ("yearly mean share in QPV per région",
     "SELECT code_territoire, avg(part_qpv) FROM publication.emploi_qpv WHERE niveau = 'region' AND categorie = 'ABC' "
     "AND ventilation = 'total' AND mois BETWEEN :year_start AND :year_end GROUP BY code_territoire"),
    ("50 QPV picked on a map, one month",
     "SELECT code_territoire, de_qpv, part_qpv FROM publication.emploi_qpv WHERE code_territoire = ANY(:qpvs) "
     "AND mois = :month AND categorie = 'ABC' AND ventilation = 'total'"),
]  # fmt: skip


def single_client(engine) -> dict:
    """Piece 5: `BI_MONTHS` of monthly rows for every territory, then each query `BI_RUNS` times over one connection
    (after `BI_WARMUPS`); p50 / p95 per query and overall, with the parameters the load reuses."""
    import sqlalchemy as sa

    print(f"loading {BI_MONTHS // 12} years of monthly publication rows for every territory ...", flush=True)
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(sa.text(FILL_EDITIONS), {"months": BI_MONTHS})
        conn.execute(sa.text(FILL_ROWS))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE) publication.edition, publication.emploi_qpv")  # as maintenance does
        rows = conn.exec_driver_sql("SELECT count(*) FROM publication.emploi_qpv").scalar()
        qpvs = list(conn.exec_driver_sql("SELECT code FROM core.qpv WHERE geography = '2024' ORDER BY code").scalars())
    fill_seconds = time.perf_counter() - started
    params = {
        "qpv": qpvs[len(qpvs) // 2], "qpvs": qpvs[::max(1, len(qpvs) // 50)][:50], "semester": "2024-S1",
        "departement": "59", "region": "32", "month": "2024-06", "since": "2024-07", "year_start": "2024-01",
        "year_end": "2024-12",
    }  # fmt: skip
    print(f"measuring {len(BI_QUERIES)} BI queries ({BI_RUNS} runs each) ...", flush=True)
    results, every = [], []
    with engine.connect() as conn:
        for label, sql in BI_QUERIES:
            statement = sa.text(sql)
            wanted = {k: v for k, v in params.items() if f":{k}" in sql}
            timings = []
            for run in range(BI_WARMUPS + BI_RUNS):
                started = time.perf_counter()
                fetched = conn.execute(statement, wanted).fetchall()
                if run >= BI_WARMUPS:
                    timings.append((time.perf_counter() - started) * 1000)
            results.append({"query": label, "rows": len(fetched), **percentiles(timings)})
            every += timings
    return {"rows": rows, "fill_seconds": fill_seconds, "queries": results, "all": percentiles(every), "params": params}


# --- 5b: under load ---------------------------------------------------------------------------------------------------

SCALE_EDITIONS = """
INSERT INTO publication.edition (edition_id, kind, period_code, released_at, inputs_digest, folder, manifest)
SELECT 'bench-r' || copy || '-' || substr(e.edition_id, 7), e.kind, e.period_code,
       e.released_at - copy * interval '1 day', e.inputs_digest, e.folder, e.manifest
FROM publication.edition e CROSS JOIN generate_series(2, :scale) copy
WHERE e.edition_id LIKE 'bench-____-__'
"""

SCALE_ROWS = """
INSERT INTO publication.emploi_qpv (edition_id, semestre, mois, niveau, code_territoire, territoire, code_region,
    code_departement, categorie, ventilation, de_qpv, de_qpv_statut, de_unite, de_unite_statut, de_hors_qpv,
    de_hors_qpv_statut, part_ventilation_qpv, part_qpv, evolution_6_mois_qpv, evolution_12_mois_qpv, statut)
SELECT 'bench-r' || copy || '-' || t.mois, t.semestre, t.mois, t.niveau, t.code_territoire, t.territoire,
       t.code_region, t.code_departement, t.categorie, t.ventilation, t.de_qpv, t.de_qpv_statut, t.de_unite,
       t.de_unite_statut, t.de_hors_qpv, t.de_hors_qpv_statut, t.part_ventilation_qpv, t.part_qpv,
       t.evolution_6_mois_qpv, t.evolution_12_mois_qpv, t.statut
FROM publication.emploi_qpv t CROSS JOIN generate_series(2, :scale) copy
WHERE t.edition_id LIKE 'bench-____-__'
"""


# the table's indexes that back no constraint (the primary key stays, and checks every copied row)
SECONDARY_INDEXES = """
SELECT i.relname, pg_get_indexdef(i.oid)
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
WHERE x.indrelid = 'publication.emploi_qpv'::regclass
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
ORDER BY 1
"""


def scale_rows(engine, scale: int) -> int:
    """Copy the bench's rows `scale - 1` more times (older re-issues of the same months); the table's row count.

    The copies are bulk-loaded as a restore would be: the secondary indexes are dropped, then built again on the whole
    table (22 million rows inserted through a dozen indexes took more than 20 minutes on a busy 2-core machine; built
    after, a few minutes). Built at once, they are denser than indexes grown edition by edition."""
    import sqlalchemy as sa

    if scale > 1:
        with engine.begin() as conn:
            conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
            indexes = conn.execute(sa.text(SECONDARY_INDEXES)).all()
            for name, _ in indexes:
                conn.exec_driver_sql(f'DROP INDEX publication."{name}"')
            conn.execute(sa.text(SCALE_EDITIONS), {"scale": scale})
            conn.execute(sa.text(SCALE_ROWS), {"scale": scale})
            for _, definition in indexes:
                conn.exec_driver_sql(definition)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE) publication.edition, publication.emploi_qpv")
        return conn.exec_driver_sql("SELECT count(*) FROM publication.emploi_qpv").scalar()


def bi_reader_dsn(url: str) -> str:
    """The libpq URL of the warehouse behind `url`, logged in as the BI role (no password: the bench's server trusts
    local connections, as the embedded one does)."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql", username="bi_reader", password=None).render_as_string(False)


def _pyformat(sql: str) -> str:
    """SQLAlchemy's `:name` binds written as psycopg's `%(name)s`."""
    return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql.replace("%", "%%"))


def _client(task: dict) -> dict:
    """One client: connect, wait for the common start, then run the queries in turn until the end; the latencies."""
    import psycopg

    queries = task["queries"]
    timings: dict[str, list[float]] = {label: [] for label, _, _ in queries}
    with psycopg.connect(task["dsn"], autocommit=True) as conn:
        time.sleep(max(0.0, task["start"] - time.time()))
        index = task["offset"]
        while time.time() < task["end"]:
            label, sql, params = queries[index % len(queries)]
            started = time.perf_counter()
            conn.execute(sql, params).fetchall()
            timings[label].append((time.perf_counter() - started) * 1000)
            index += 1
    return timings


def concurrent(url: str, queries: list[tuple[str, str]], params: dict, *, clients: int = CLIENTS,
               seconds: float = SECONDS) -> dict:  # fmt: skip
    """`clients` processes running `queries` (label, SQL with `:name` binds from `params`) together for `seconds`."""
    prepared = [
        (label, _pyformat(sql), {k: v for k, v in params.items() if re.search(rf":{k}\b", sql)})
        for label, sql in queries
    ]
    start = time.time() + START_DELAY
    tasks = [
        {"dsn": bi_reader_dsn(url), "queries": prepared, "offset": n, "start": start, "end": start + seconds}
        for n in range(clients)
    ]
    with ProcessPoolExecutor(max_workers=clients, mp_context=get_context("spawn")) as pool:
        results = list(pool.map(_client, tasks))
    by_query = {label: [ms for result in results for ms in result[label]] for label, _ in queries}
    every = [ms for timings in by_query.values() for ms in timings]
    return {
        "clients": clients,
        "seconds": seconds,
        "queries_run": len(every),
        "per_second": len(every) / seconds,
        "all": percentiles(every),
        "queries": [{"query": label, "runs": len(t), **percentiles(t)} for label, t in by_query.items() if t],
    }


def percentiles(milliseconds: list[float]) -> dict:
    """p50 and p95 of latencies in milliseconds."""
    ordered = sorted(milliseconds)
    return {"p50_ms": statistics.median(ordered), "p95_ms": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]}


def under_load(engine, url: str, queries: list, params: dict, scale: int, clients: int, seconds: float) -> dict:
    """The BI queries under `clients` concurrent clients (each its own connection as bi_reader) on `scale` times the
    rows."""
    print(f"scaling publication.emploi_qpv to {scale} times its rows ...", flush=True)
    started = time.perf_counter()
    rows = scale_rows(engine, scale)
    fill_seconds = time.perf_counter() - started
    print(f"{clients} concurrent BI clients for {seconds:.0f} s on {rows:,} rows ...", flush=True)
    return {"rows": rows, "scale": scale, "fill_seconds": fill_seconds,
            **concurrent(url, queries, params, clients=clients, seconds=seconds)}  # fmt: skip


# --- what the bench prints of them ------------------------------------------------------------------------------------


def table_lines(results: dict, runs: int) -> list[str]:
    """The table rows of the BI pieces: one client, then many on the scaled table."""
    bi, load = results["bi"], results.get("bi_load")
    lines = [
        f"| {len(bi['queries'])} BI queries on publication ({bi['rows']:,} rows: 10 years, monthly, every territory), "
        f"{runs} runs each | p50 {bi['all']['p50_ms']:.1f} ms, p95 {bi['all']['p95_ms']:.1f} ms | | | | "
        "p95 < 50 ms |"
    ]
    if load:
        lines.append(
            f"| the same queries by {load['clients']} concurrent clients (each its own connection as bi_reader) for "
            f"{load['seconds']:.0f} s on {load['rows']:,} rows ({load['scale']} times) | "
            f"p50 {load['all']['p50_ms']:.1f} ms, p95 {load['all']['p95_ms']:.1f} ms | "
            f"{load['per_second']:,.0f} queries/s | | | p95 < 20 ms |"
        )
    return lines


def details(results: dict) -> list[str]:
    """Each BI query's p50 and p95, alone and under load."""
    bi, load = results["bi"], results.get("bi_load")
    out = ["", "BI queries (ms):"]
    out += [
        f"  {q['query']:<45} p50 {q['p50_ms']:7.1f}  p95 {q['p95_ms']:7.1f}  ({q['rows']} rows)" for q in bi["queries"]
    ]
    if load:
        out += ["", f"BI queries under load ({load['clients']} clients, ms):"]
        out += [
            f"  {q['query']:<45} p50 {q['p50_ms']:7.1f}  p95 {q['p95_ms']:7.1f}  ({q['runs']} runs)"
            for q in load["queries"]
        ]
    return out
