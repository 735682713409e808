"""
### publication_semestrielle

The semestrial edition (seed 001): the regional and departmental employment dashboard for the QPV. For the
last month of the semester, France Travail's job seekers (categories A and ABC, total, by sex, by age band) living in
QPV and in the rest of France, each région, each département, and in each QPV: share in QPV, structure gap in
points, changes over 6 and 12 months; and the series of the last six semesters for France and the régions.
Statistical secrecy (counts under 11 masked, secondary suppression through every additive relation, wide enough
protection intervals) and the independent gate 3 run before the edition is written to `publication/<edition-id>/`
and loaded into `publication.emploi_qpv(_serie)`.

Schedule: 15 February and 15 August, 06:00 (the semester before), and whenever France Travail's job seekers are
loaded (Asset). Params: `semester` (`2024-S1`), `force`. A run whose inputs did not change makes no new edition.
"""

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, task

from etl.orchestration.defaults import DEFAULT_ARGS, START_DATE
from etl.orchestration.source_tasks import assets_of


@dag(
    dag_id="publication_semestrielle",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 6 15 2,8 *", timezone="Europe/Paris"),
        assets=assets_of("france_travail_defm")[0],
    ),
    start_date=START_DATE,
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["publication", "semestriel"],
    doc_md=__doc__,
    max_active_runs=1,
    params={
        "semester": Param(None, type=["null", "string"], description="2024-S1; empty: the last complete semester."),
        "force": Param(False, type="boolean", description="A new edition even when the inputs did not change."),
    },
)
def publication_semestrielle():
    @task(task_id="publish")
    def publish(params=None, logical_date=None) -> dict:
        from etl.orchestration.publication_tasks import run_semestrial

        return run_semestrial(params or {}, logical_date)

    publish()


publication_semestrielle()
