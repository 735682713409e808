"""
### Other national producers

`national_indicateurs`, built from the source registry by `etl.orchestration.source_dags`: 1 March, 06:00,
waits for `INDICATEURS_NATIONAUX_<PRODUCTEUR>_<YYYY>.csv` in `inbox/national_indicateurs/` (DGEFP/ASP, Agence
du service civique, France Active, CIPDR, DGITM, CMA France, DGE, ministère de la Culture) and loads their
national indicators of the 2014 catalogue by France, région and département. A file naming an unknown or
non-national indicator, a unit that is not the indicator's, or another territory level is quarantined with a
report naming the lines. A run for a year already loaded (backfill, `period` param) reloads it from the archive.
"""

from etl.orchestration.source_dags import source_dag

# module-level names: Airflow's DagBag (safe mode looks for "airflow" and "dag" in the file) finds them here
national_indicateurs = source_dag("national_indicateurs", tags=("national", "annuel"), doc_md=__doc__)
