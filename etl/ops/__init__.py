"""Operations: what the data engineers watch (the observatory page in the Airflow UI), alerts and maintenance."""
