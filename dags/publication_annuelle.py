"""
### publication_annuelle

The annual edition: the bilan of the 2014 conventions for France and every région (the 32 indicators,
value, national target and gap, N-1 and N-3, the région's observations), the 40 measures of the 2018 roadmap with
their status summary and, from 2024, the QPV in veille active with the figures producers still give for them. Statistical secrecy is applied before anything leaves the warehouse (primary and secondary
suppression), an independent check (gate 3, GX suite `publication.disclosure`) must pass, then the edition is
written to `publication/<edition-id>/` (CSV, XLSX, Parquet, dictionary, Data Package, manifest; read-only) and loaded into the
`publication` schema (`*_courant` views for the latest edition).

Schedule: 1 June, 06:00, for the year before (the regional workbooks are due on 30 April). Params: `year` (another
year), `force` (a new edition even if the inputs did not change; its data files are then byte-identical).
"""

from airflow.sdk import Param, dag, task

from etl.orchestration.defaults import DEFAULT_ARGS, START_DATE


@dag(
    dag_id="publication_annuelle",
    schedule="0 6 1 6 *",
    start_date=START_DATE,
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["publication", "annuel"],
    doc_md=__doc__,
    max_active_runs=1,
    params={
        "year": Param(None, type=["null", "integer"], description="The year to publish; empty: the year before."),
        "force": Param(False, type="boolean", description="A new edition even when the inputs did not change."),
    },
)
def publication_annuelle():
    @task(task_id="publish")
    def publish(params=None, logical_date=None) -> dict:
        from etl.orchestration.publication_tasks import run_annual

        return run_annual(params or {}, logical_date)

    publish()


publication_annuelle()
