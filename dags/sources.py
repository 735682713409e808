"""The source DAGs: one Airflow DAG per entry of etl/sources/registry.yaml that has its own DAG (no `dag:` field).

Each is built by etl.orchestration.source_dags.source_dag from its entry alone (schedule, tags, params, deadline
alert and a doc_md generated from the entry): adding a source to the registry adds its DAG here, with no code.
An entry the registry cannot validate gets a stand-in DAG that fails with the reason; the others are unaffected.
"""

from etl.orchestration.source_dags import source_dags

# module-level names: Airflow's DagBag (safe mode looks for "airflow" and "dag" in the file) finds them here
for dag_id, dag in source_dags().items():
    globals()[dag_id] = dag
