"""
### regional_campaign_watch

Watches one regional campaign until the 18 régions' workbooks are accepted. A run starts on 1 March of N + 1 for
campaign N and waits (a sensor that frees its worker slot between checks) for every région to have an accepted
workbook in `core.regional_submission_status`. Its **DeadlineAlert** is the campaign deadline, 30 April of N + 1
at midnight (Paris): if the run has not finished by then, one mail lists the régions without an accepted workbook,
with the state of each (not received, or rejected with its number of errors and file).

| what | value |
|---|---|
| schedule | 1 March, 00:00 Europe/Paris (campaign N = the year before) |
| deadline | 30 April of N + 1, 24:00 Paris: `etl.orchestration.notifiers.campaign_deadline_missed` |
| reads | the `warehouse` connection: `core.regional_submission_status`; writes `audit.alert_log` |
| on failure | the sensor gives up on 31 December; the task failure is mailed |
"""

from datetime import timedelta

from airflow.sdk import DeadlineAlert, DeadlineReference, SyncCallback, dag, task

from etl.orchestration.defaults import DEFAULT_ARGS, START_DATE
from etl.orchestration.notifiers import campaign_deadline_missed

# 1 March 00:00 CET to 1 May 00:00 CEST: 61 days less the hour summer time takes (tests/dags check it every year)
DEADLINE_AFTER_OPENING = timedelta(days=61) - timedelta(hours=1)


@dag(
    dag_id="regional_campaign_watch",
    schedule="0 0 1 3 *",
    start_date=START_DATE,
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["regional", "submissions", "annuel", "watch"],
    doc_md=__doc__,
    max_active_runs=1,
    deadline=DeadlineAlert(
        reference=DeadlineReference.DAGRUN_LOGICAL_DATE,
        interval=DEADLINE_AFTER_OPENING,
        callback=SyncCallback(campaign_deadline_missed),
        name="campaign_deadline",
    ),
)
def regional_campaign_watch():
    @task.sensor(task_id="all_regions_accepted", poke_interval=6 * 3600, timeout=305 * 86400, mode="reschedule")
    def all_regions_accepted(logical_date=None) -> bool:
        from etl.ops.alerts import missing_regions
        from etl.ops.campaigns import watched_campaign
        from etl.orchestration.connections import warehouse_engine

        campaign = watched_campaign(logical_date)
        missing = missing_regions(warehouse_engine(), campaign)
        print(f"campaign {campaign}: {len(missing)} région(s) without an accepted workbook")
        return not missing

    all_regions_accepted()


regional_campaign_watch()
