"""Airflow discovers both connection types from the installed provider distribution."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

from airflow.providers_manager import ProvidersManager


def test_the_provider_is_installed_and_registered():
    dist = importlib.metadata.distribution("airflow-provider-officeguy-woocommerce")
    entry_points = [ep for ep in dist.entry_points if ep.group == "apache_airflow_provider"]
    assert [ep.value for ep in entry_points] == ["officeguy.provider_info:get_provider_info"]
    assert "airflow-provider-officeguy-woocommerce" in ProvidersManager().providers


def test_both_connection_types_have_their_hook_and_form():
    manager = ProvidersManager()
    hooks = manager.hooks
    assert hooks["officeguy"].hook_class_name == "officeguy.hooks.OfficeGuyHook"
    assert hooks["woocommerce"].hook_class_name == "woocommerce.hooks.WooCommerceHook"
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
    assert "officeguy.hooks.OfficeGuyHook" in out
    assert "woocommerce.hooks.WooCommerceHook" in out


def test_our_woocommerce_package_is_the_one_imported():
    # A PyPI package called "woocommerce" exists (design.md); the install step never brings it.
    import woocommerce

    assert woocommerce.__file__.replace("\\", "/").endswith("plugins/woocommerce/__init__.py")
