"""
### regional_submissions

The annual workbooks of the 18 régions (local indicators of the 2014 conventions, issue 5). Drop the files in
`inbox/regional/` (any name: `indicateurs_locaux_R84_2024.xlsx` is the template's). Each file is archived by
sha256, checked cell by cell (GX suite `regional_submission.values`), and:

- **rejected**: copied to `quarantine/regional/` with `.rapport.html` (the faulty cells highlighted) and
  `.verdict.json` beside it; the warehouse is unchanged; the `intake` task fails after the other files were processed;
- **accepted**: replaces the région's submission for the campaign (the earlier one stays, superseded).

The `completeness` task prints, for each campaign that received files, the 18 régions' state (also in the view
`core.regional_submission_status`). Schedule: weekdays 07:00, and by hand after a drop.
"""

from airflow.sdk import dag, task

from etl.orchestration.defaults import DEFAULT_ARGS, START_DATE
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
    @task(task_id="intake", outlets=assets_of("regional"))
    def intake(dag_run=None) -> dict:
        from etl.submissions.intake import run_intake

        return run_intake(dag_run.run_id if dag_run else None)

    @task(task_id="completeness", trigger_rule="all_done")
    def completeness() -> list[str]:
        from etl.submissions.intake import print_completeness

        return print_completeness()

    received = intake()
    status = completeness()
    received >> status
    [received, status] >> watcher_task()()


regional_submissions()
