"""
### referentiels

The reference data every fact joins to, through the same path as any source (inbox → archive → gate 1 →
staging → gate 2 → core):

| what | source (registry id) | core tables |
|---|---|---|
| 18 régions, 101 départements | `cog_regions`, `cog_departements` (files versioned in `catalogue/`) | `core.region`, `core.departement` |
| QPV of the 2015 and 2024 geographies, their communes and EPCI | `anct_qpv` (ANCT list format; drop the real file in `inbox/anct_qpv/`) | `core.qpv`, `core.qpv_commune`, `core.qpv_epci` |
| 2015 → 2024 correspondence, "veille active" | `anct_qpv_correspondance` | `core.qpv_correspondance`, view `core.qpv_veille_active` |
| indicator catalogue (32 of 2014), the 2018 roadmap, operator statistics | `catalogue_indicateurs`, `catalogue_mesures`, `catalogue_mesure_indicateurs`, `catalogue_operateurs` | `core.indicator`, `core.measure` |
| periods (month, quarter, semester, year) | generated | `core.period` |

Schedule: yearly (2 January) and by hand. A file breaking a blocking rule is quarantined with a report in
`quarantine/<source>/` and fails its task only; later tasks still run on the last good data, and the last
task (`fail_if_any_task_failed`) then marks the run failed so the failure shows in the runs list. Emits one
Airflow Asset per core dataset for the DAGs that consume them.
"""

from airflow.sdk import dag, task

from etl.orchestration.defaults import DEFAULT_ARGS, START_DATE
from etl.orchestration.source_tasks import ingest_task, watcher_task


@dag(
    dag_id="referentiels",
    schedule="0 5 2 1 *",
    start_date=START_DATE,
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["referentiels", "territoires", "catalogue"],
    doc_md=__doc__,
    max_active_runs=1,
)
def referentiels():
    @task
    def stage_repository_files() -> list[str]:
        from etl.orchestration.source_tasks import stage_repository_files

        return stage_repository_files()

    @task
    def load_periods() -> int:
        from etl.orchestration.connections import warehouse_engine
        from etl.referentiels import periods

        return periods.load(warehouse_engine())

    staged = stage_repository_files()
    after_previous = {"trigger_rule": "all_done"}
    regions = ingest_task("cog_regions")()
    departements = ingest_task("cog_departements", **after_previous)()
    qpv = ingest_task("anct_qpv", **after_previous)()
    correspondance = ingest_task("anct_qpv_correspondance", **after_previous)()
    indicateurs = ingest_task("catalogue_indicateurs")()
    operateurs = ingest_task("catalogue_operateurs")()
    mesures = ingest_task("catalogue_mesures")()
    mesure_indicateurs = ingest_task("catalogue_mesure_indicateurs", **after_previous)()

    periods = load_periods()
    staged >> regions >> departements >> qpv >> correspondance
    staged >> [indicateurs, operateurs, mesures]
    mesures >> mesure_indicateurs
    # one_failed only looks at direct upstream tasks: the watcher follows every task
    every = [staged, regions, departements, qpv, correspondance, indicateurs, operateurs, mesures, mesure_indicateurs,
             periods]  # fmt: skip
    every >> watcher_task()()


referentiels()
