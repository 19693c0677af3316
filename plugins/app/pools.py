"""``python -m officeguy_woocommerce.app.pools``: the one-slot write pools the configured stores need,
one name a line (``stock_sync_writes`` for the single default store; ``stock_sync_writes_<store>`` for
each store of STOCK_SYNC_STORES). docker-compose's init step creates each with ``airflow pools set``."""

from __future__ import annotations

from officeguy_woocommerce.include import config


def pool_names() -> list[str]:
    return [store.write_pool for store in config.load().stores]


if __name__ == "__main__":
    print("\n".join(pool_names()))  # noqa: T201 - the command's output
