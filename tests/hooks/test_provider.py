"""Airflow discovers both connection types from the installed provider distribution."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

from airflow.providers_manager import ProvidersManager


def test_the_provider_is_installed_and_registered():
    dist = importlib.metadata.distribution("airflow-provider-officeguy-woocommerce")
    entry_points = [ep for ep in dist.entry_points if ep.group == "apache_airflow_provider"]
    assert [ep.value for ep in entry_points] == ["officeguy_woocommerce.provider_info:get_provider_info"]
    assert "airflow-provider-officeguy-woocommerce" in ProvidersManager().providers


def test_both_connection_types_have_their_hook_and_form():
    manager = ProvidersManager()
    hooks = manager.hooks
    assert hooks["officeguy"].hook_class_name == "officeguy_woocommerce.officeguy.hooks.OfficeGuyHook"
    assert hooks["woocommerce"].hook_class_name == "officeguy_woocommerce.woocommerce.hooks.WooCommerceHook"
    assert hooks["officeguy"].connection_testable and hooks["woocommerce"].connection_testable

    og_form = manager.field_behaviours["officeguy"]
    assert og_form["relabeling"] == {"host": "API base URL", "login": "Company ID", "password": "API key"}
    assert og_form["placeholders"]["host"] == "https://api.sumit.co.il"
    assert {"schema", "port"} <= set(og_form["hidden_fields"])
    woo_form = manager.field_behaviours["woocommerce"]
    assert woo_form["relabeling"]["login"] == "Consumer key"

    widgets = manager.connection_form_widgets
    assert {"extra__woocommerce__auth", "extra__woocommerce__verify_ssl", "extra__woocommerce__timeout",
            "extra__officeguy__rate_limit_per_minute"} <= set(widgets)


def test_the_airflow_cli_lists_both_connection_types():
    out = subprocess.run([sys.executable, "-m", "airflow", "providers", "hooks", "-o", "plain"],
                         capture_output=True, text=True, timeout=180, check=True).stdout
    assert "officeguy_woocommerce.officeguy.hooks.OfficeGuyHook" in out
    assert "officeguy_woocommerce.woocommerce.hooks.WooCommerceHook" in out


def test_the_pypi_woocommerce_package_installs_beside_ours():
    """Many stores' scripts use the PyPI client called ``woocommerce``; ours lives under
    ``officeguy_woocommerce``, so both import side by side in one environment (the test extra installs it)."""
    import importlib.metadata

    import woocommerce  # noqa: TID251 - the PyPI package, on purpose

    from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook

    assert importlib.metadata.distribution("woocommerce").version == "3.0.0"
    assert woocommerce.API.__module__ == "woocommerce.api"  # theirs, not ours
    assert "site-packages/woocommerce/" in woocommerce.__file__.replace("\\", "/")
    assert WooCommerceHook.__module__ == "officeguy_woocommerce.woocommerce.hooks"
    assert WooCommerceHook.conn_type == "woocommerce"
