"""What both providers share and neither owns: Airflow-side pieces only (no rules, no ledger)."""
