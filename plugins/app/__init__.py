"""Airflow-side glue shared by both flows: the ledger connection and the DAGs' task callables."""
