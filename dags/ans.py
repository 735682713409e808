"""
### Agence nationale du sport (ex-CNDS)

Two DAGs built from the source registry (`etl/sources/registry.yaml`) by `etl.orchestration.source_dags`:

| DAG | schedule | waits for (in `inbox/<dag_id>/`) | loads |
|---|---|---|---|
| `ans_subventions` | 1 March, 06:00 (the year before) | `ANS_SUBVENTIONS_<YYYY>.csv` | the subsidy lines (`core.ans_subvention`) and IND22, share of the credits going to QPV, by département, région and France |
| `ans_licences` | 1 April, 06:00 (the year before) | `ANS_LICENCES_QPV_<YYYY>.csv` | licences per QPV and sex: IND20 (licence holders living in QPV) and IND21 (women), per QPV and summed to département, région and France |

A run for a period already loaded (backfill, or the `period` param) reloads it from the archive. A file
breaking a blocking rule is quarantined with a report (`quarantine/<source>/`) and fails the run.
"""

from etl.orchestration.source_dags import source_dag

# module-level names: Airflow's DagBag (safe mode looks for "airflow" and "dag" in the file) finds them here
ans_subventions = source_dag("ans_subventions", tags=("ans", "sport", "annuel"), doc_md=__doc__)
ans_licences = source_dag("ans_licences", tags=("ans", "sport", "annuel"), doc_md=__doc__)
