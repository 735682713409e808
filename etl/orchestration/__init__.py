"""Glue between Airflow and the platform: the environment Airflow runs in, DAG defaults, the warehouse
connection seen from a task, and the runner that executes DAGs through Airflow for `make demo`."""
