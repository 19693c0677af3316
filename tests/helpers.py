"""Small builders the tests share."""

from __future__ import annotations

import importlib


def purchase_order(item_id: int, quantity: float, reference: str = "") -> dict:
    """An OfficeGuy purchase order (type 11): raises the item's stock (officeguy-api.md 2.2, 7)."""
    return {
        "Details": {"Type": 11, "Customer": {"Name": "ספק ראשי"}, "ExternalReference": reference,
                    "Description": "replenishment"},
        "Items": [{"Quantity": quantity, "UnitPrice": 10, "Item": {"ID": item_id}}],
        "VATIncluded": True,
    }


def sale(item_id: int, quantity: float, reference: str, unit_price: float = 25.0) -> dict:
    """An OfficeGuy invoice-receipt (type 1): lowers the item's stock."""
    total = unit_price * quantity
    return {
        "Details": {"Type": 1, "Customer": {"Name": "Guest"}, "ExternalReference": reference},
        "Items": [{"Quantity": quantity, "UnitPrice": unit_price, "Item": {"ID": item_id}}],
        "Payments": [{"Amount": total, "Details_Other": {"Type": "WooCommerce", "Description": "test"}}],
        "VATIncluded": True,
    }


def run_dag(dag_id: str, **conf):
    """One real run of a DAG through ``dag.test()``; returns the DagRun.

    The DAG file is parsed afresh each time: ``dag.test(run_conf=...)`` leaves the conf in the
    DAG object's params, and the next run must start from the declared defaults."""
    module = importlib.reload(importlib.import_module(dag_id))
    return module.dag.test(run_conf=conf or None)


def state(dag_run) -> str:
    return str(getattr(dag_run.state, "value", dag_run.state))
