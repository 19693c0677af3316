"""officeguy_woocommerce: keeps a WooCommerce store and OfficeGuy (SUMIT) in sync, as Apache Airflow DAGs.

Installed under this one distinctive name (the repository's folders are ``plugins/`` and ``include/``):

- ``officeguy_woocommerce.officeguy``: the OfficeGuy provider (hook, connection type, generic operators);
- ``officeguy_woocommerce.woocommerce``: the WooCommerce provider (same shape);
- ``officeguy_woocommerce.include``: the sync's rules, plain Python testable without Airflow;
- ``officeguy_woocommerce.app``: the application's Airflow tasks, which combine both systems and the ledger.
"""
