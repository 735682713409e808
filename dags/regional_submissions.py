"""
### regional_submissions

The workbooks the State's services fill in: the annual workbooks of the 18 régions (local indicators
of the 2014 conventions), dropped in `inbox/regional/` (`indicateurs_locaux_R84_2024.xlsx` is the template's
name), and the départements' PAQTE semestrial reports, dropped in `inbox/paqte/` (`paqte_D69_2024-S1.xlsx`). Each
file, whatever its name or format, is archived by sha256, checked cell by cell (GX suites `regional_submission.*`,
`paqte_submission.*`), and:

- **rejected**: copied to `quarantine/<source>/` with `.rapport.html` (the faulty cells highlighted) and
  `.verdict.json` beside it; the warehouse is unchanged; its intake task fails after the other files were processed;
- **accepted**: replaces the région's workbook for the campaign, or the département's report for the semester (the
  earlier one stays, superseded).

The `completeness` task prints, for each campaign and semester that received files, who has sent what (also in the
views `core.regional_submission_status` and `core.paqte_submission_status`). Schedule: weekdays 07:00, and by hand
after a drop.
"""

from airflow.sdk import dag, task

from etl.orchestration.defaults import DEFAULT_ARGS, START_DATE
from etl.orchestration.notifiers import FailureAlert
from etl.orchestration.source_tasks import assets_of, watcher_task


@dag(
    dag_id="regional_submissions",
    schedule="0 7 * * 1-5",
    start_date=START_DATE,
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["regional", "submissions", "annuel"],
    doc_md=__doc__,
    max_active_runs=1,
)
def regional_submissions():
    @task(
        task_id="intake_regional", outlets=assets_of("regional"), on_failure_callback=FailureAlert(sources=["regional"])
    )
    def intake_regional(dag_run=None) -> dict:
        from etl.orchestration.submission_tasks import run_intake

        return run_intake(dag_run.run_id if dag_run else None, "regional")

    @task(task_id="intake_paqte", outlets=assets_of("paqte"), on_failure_callback=FailureAlert(sources=["paqte"]))
    def intake_paqte(dag_run=None) -> dict:
        from etl.orchestration.submission_tasks import run_intake

        return run_intake(dag_run.run_id if dag_run else None, "paqte")

    @task(task_id="completeness", trigger_rule="all_done")
    def completeness() -> list[str]:
        from etl.orchestration.submission_tasks import print_completeness

        return print_completeness()

    received = [intake_regional(), intake_paqte()]
    status = completeness()
    received >> status
    [*received, status] >> watcher_task()()


regional_submissions()
