"""
### CAF (Caisses d'allocations familiales)

Two DAGs built from the source registry (`etl/sources/registry.yaml`) by `etl.orchestration.source_dags`:

| DAG | schedule | waits for (in `inbox/<dag_id>/`) | loads |
|---|---|---|---|
| `caf_allocataires` | 15 June, 06:00 (the year before) | `CAF_QPV_<YYYY>.csv` | recipient households at 31 December by QPV (by type), people covered, RSA, AAH, housing benefit; counts rounded to 5 by the CAF |
| `caf_creches` | the 20th of January, April, July, October (the quarter before) | `CAF_EAJE_QPV_<YYYY>T<q>.csv` | crèche places created and renovated (IND16, also summed to département, région, France) and EAJE places per QPV |

A run for a period already loaded (backfill, or the `period` param) reloads it from the archive. A file
breaking a blocking rule is quarantined with a report (`quarantine/<source>/`) and fails the run.
"""

from etl.orchestration.source_dags import source_dag

# module-level names: Airflow's DagBag (safe mode looks for "airflow" and "dag" in the file) finds them here
caf_allocataires = source_dag("caf_allocataires", tags=("caf", "social", "annuel"), doc_md=__doc__)
caf_creches = source_dag("caf_creches", tags=("caf", "petite_enfance", "trimestriel"), doc_md=__doc__)
