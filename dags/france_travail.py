"""
### France Travail (ex-Pôle emploi)

Three DAGs built from the source registry (`etl/sources/registry.yaml`) by `etl.orchestration.source_dags`:

| DAG | schedule | waits for (in `inbox/<dag_id>/`) | loads |
|---|---|---|---|
| `france_travail_defm` | the 5th of each month, 06:00 | `DEFM_QPV_<YYYYMM>.csv` | job seekers at month end, A and ABC, by sex and age, QPV + communes, EPCI, départements; each file is a vintage that revises the two previous months (`core.indicator_value_vintage`, latest in `core.indicator_value`) |
| `france_travail_individus` | the 10th of each month, 06:00 | `DE_INDIVIDUS_<YYYYMM>.csv` (or `.csv.gz`) | the individual extract (one pseudonymised line per job seeker, about 6 million), streamed into the warehouse; job seekers counted by the platform for every QPV, commune, EPCI, département, région and France, A and ABC, by sex, age and registration duration |
| `france_travail_contacts` | 15 January, 06:00 | `POINTS_CONTACT_QPV_<YYYY>.csv` | physical contact points per QPV (basis of IND05) |

The sensor reschedules itself every 10 minutes and fails when the producer is 3 days late. A file breaking a
blocking rule is quarantined with a report (`quarantine/<source>/`) and fails the run; the others load.
"""

from etl.orchestration.source_dags import source_dag

# module-level names: Airflow's DagBag (safe mode looks for "airflow" and "dag" in the file) finds them here
france_travail_defm = source_dag("france_travail_defm", tags=("france_travail", "emploi", "mensuel"), doc_md=__doc__)
france_travail_contacts = source_dag(
    "france_travail_contacts", tags=("france_travail", "emploi", "annuel"), doc_md=__doc__
)
france_travail_individus = source_dag(
    "france_travail_individus", tags=("france_travail", "emploi", "mensuel", "microdonnees"), doc_md=__doc__
)
