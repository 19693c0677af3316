"""Settings: every bad value fails with a message naming the variable; the accounting settings reach
`DocumentSettings` (include/config.py)."""

from __future__ import annotations

import os
from datetime import date, timedelta

import pytest

from officeguy_woocommerce.include import config
from officeguy_woocommerce.include.officeguy_codes import PaymentType


@pytest.mark.parametrize("statuses", ["processing,completed,failed", "pending", "processing,cancelled",
                                      "completed,refunded", "checkout-draft"])
def test_statuses_that_are_not_paid_are_refused(monkeypatch, statuses):
    monkeypatch.setenv("STOCK_SYNC_ORDER_STATUSES", statuses)
    with pytest.raises(config.ConfigError) as caught:
        config.load()
    assert "STOCK_SYNC_ORDER_STATUSES" in str(caught.value) and "not paid" in str(caught.value)


def test_paid_statuses_are_accepted(monkeypatch):
    monkeypatch.setenv("STOCK_SYNC_ORDER_STATUSES", "processing,completed,on-hold")
    assert config.load().order_statuses == ("processing", "completed", "on-hold")


@pytest.mark.parametrize("zone", ["Mars/Olympus", "Asia/Jerusalem ", ""])
def test_a_time_zone_is_checked_when_the_settings_are_read(monkeypatch, zone):
    monkeypatch.setenv("STOCK_SYNC_TIMEZONE", zone)
    if zone.strip() in ("Asia/Jerusalem",):
        assert config.load().timezone == "Asia/Jerusalem"
        return
    with pytest.raises(config.ConfigError) as caught:
        config.load()
    assert "STOCK_SYNC_TIMEZONE" in str(caught.value)


def test_accounting_defaults(monkeypatch):
    for name in ("STOCK_SYNC_GATEWAY_RULES", "STOCK_SYNC_PAYMENT_KINDS", "STOCK_SYNC_CREDIT_SIGN",
                 "STOCK_SYNC_SEND_DOCUMENT_EMAIL", "STOCK_SYNC_COMPANY_NUMBER_META"):
        monkeypatch.delenv(name, raising=False)
    settings = config.load().document_settings()
    assert dict(settings.gateway_rules) == {"cod": 0}
    assert settings.payment_kinds["cod"] == PaymentType.CASH and settings.payment_kinds["paypal"] == PaymentType.DIGITAL
    assert (settings.credit_sign, settings.send_by_email, settings.company_number_meta) == (-1, True, "og-citizenid")


def test_accounting_settings_reach_the_documents(monkeypatch):
    monkeypatch.setenv("STOCK_SYNC_GATEWAY_RULES", "bacs=invoice, cod=invoice_receipt")
    monkeypatch.setenv("STOCK_SYNC_PAYMENT_KINDS", "tranzila=credit_card,bit_pay=digital")
    monkeypatch.setenv("STOCK_SYNC_CREDIT_SIGN", "positive")
    monkeypatch.setenv("STOCK_SYNC_SEND_DOCUMENT_EMAIL", "false")
    monkeypatch.setenv("STOCK_SYNC_COMPANY_NUMBER_META", "_billing_vat")
    settings = config.load().document_settings()
    assert dict(settings.gateway_rules) == {"cod": 1, "bacs": 0}
    assert settings.payment_kinds["tranzila"] == PaymentType.CREDIT_CARD
    assert settings.payment_kinds["bit_pay"] == PaymentType.DIGITAL
    assert (settings.credit_sign, settings.send_by_email, settings.company_number_meta) == (1, False, "_billing_vat")


@pytest.mark.parametrize("name, value", [
    ("STOCK_SYNC_GATEWAY_RULES", "cod"), ("STOCK_SYNC_GATEWAY_RULES", "cod=credit"),
    ("STOCK_SYNC_PAYMENT_KINDS", "x=bitcoin"), ("STOCK_SYNC_CREDIT_SIGN", "minus"),
])
def test_bad_accounting_settings_name_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(config.ConfigError) as caught:
        config.load()
    assert name in str(caught.value)


# --------------------------------------------------------------------------- every other setting
@pytest.fixture
def clean_env(monkeypatch):
    """No STOCK_SYNC_* variable from the outside: each test sets only what it checks."""
    for name in [n for n in os.environ if n.startswith("STOCK_SYNC_")]:
        monkeypatch.delenv(name)
    return monkeypatch


def test_defaults_of_every_setting(clean_env, tmp_path):
    clean_env.setenv("AIRFLOW_HOME", str(tmp_path))
    s = config.load()
    assert (s.stock_schedule, s.stock_cron, s.timezone) == ("24h", "0 3 * * *", "Asia/Jerusalem")
    assert (s.match_by_name, s.brake_share) == (False, 0.5)
    assert (s.home, s.write_pool) == (tmp_path / "stock_sync", "stock_sync_writes")
    assert (s.orders_every, s.orders_cron, s.go_live) == (15, "*/15 * * * *", date(2026, 1, 1))
    assert s.order_statuses == ("processing", "completed")
    assert (s.document_type, s.credit_type, s.custom_document_dates, s.document_language) == (1, None, False, 0)
    assert (s.order_note, s.max_attempts, s.window_overlap) == (True, 5, timedelta(minutes=5))
    assert (s.alert_recipients, s.smtp_conn_id, s.low_stock_default, s.reports_dir) == ((), "smtp_default", 2, None)
    assert (s.gateway_rules, s.payment_kinds, s.send_document_email) == ((("cod", 0),), (), True)
    assert (s.credit_sign, s.company_number_meta) == (-1, "og-citizenid")


@pytest.mark.parametrize("name, value, attribute, expected", [
    ("STOCK_SYNC_SCHEDULE", "12h", "stock_cron", "0 */12 * * *"),
    ("STOCK_SYNC_SCHEDULE", " 24H ", "stock_cron", "0 3 * * *"),
    ("STOCK_SYNC_SCHEDULE", "none", "stock_cron", None),
    ("STOCK_SYNC_TIMEZONE", "UTC", "timezone", "UTC"),
    ("STOCK_SYNC_MATCH_BY_NAME", "true", "match_by_name", True),
    ("STOCK_SYNC_MATCH_BY_NAME", "YES", "match_by_name", True),
    ("STOCK_SYNC_MATCH_BY_NAME", "1", "match_by_name", True),
    ("STOCK_SYNC_MATCH_BY_NAME", "no", "match_by_name", False),
    ("STOCK_SYNC_BRAKE_SHARE", "0.25", "brake_share", 0.25),
    ("STOCK_SYNC_BRAKE_SHARE", "1", "brake_share", 1.0),
    ("STOCK_SYNC_WRITE_POOL", "my_pool", "write_pool", "my_pool"),
    ("STOCK_SYNC_ORDERS_EVERY", "5", "orders_cron", "*/5 * * * *"),
    ("STOCK_SYNC_ORDERS_EVERY", "60", "orders_cron", "0 * * * *"),
    ("STOCK_SYNC_ORDERS_EVERY", "None", "orders_cron", None),
    ("STOCK_SYNC_ORDERS_EVERY", "30", "orders_every", 30),
    ("STOCK_SYNC_GO_LIVE", " 2026-05-17 ", "go_live", date(2026, 5, 17)),
    ("STOCK_SYNC_ORDER_STATUSES", " Processing , ,on-hold", "order_statuses", ("processing", "on-hold")),
    ("STOCK_SYNC_DOCUMENT_TYPE", "invoice", "document_type", 0),
    ("STOCK_SYNC_DOCUMENT_TYPE", "Receipt", "document_type", 2),
    ("STOCK_SYNC_CREDIT_TYPE", "credit_invoice", "credit_type", 5),
    ("STOCK_SYNC_CREDIT_TYPE", "credit_invoice_receipt", "credit_type", 6),
    ("STOCK_SYNC_CREDIT_TYPE", "credit_receipt", "credit_type", 7),
    ("STOCK_SYNC_CUSTOM_DOCUMENT_DATES", "true", "custom_document_dates", True),
    ("STOCK_SYNC_DOCUMENT_LANGUAGE", "en", "document_language", 1),
    ("STOCK_SYNC_DOCUMENT_LANGUAGE", "es", "document_language", 3),
    ("STOCK_SYNC_ORDER_NOTE", "false", "order_note", False),
    ("STOCK_SYNC_MAX_ATTEMPTS", "9", "max_attempts", 9),
    ("STOCK_SYNC_MAX_ATTEMPTS", "0", "max_attempts", 1),  # at least one try
    ("STOCK_SYNC_WINDOW_OVERLAP_MINUTES", "0", "window_overlap", timedelta(0)),
    ("STOCK_SYNC_WINDOW_OVERLAP_MINUTES", " 30 ", "window_overlap", timedelta(minutes=30)),
    ("STOCK_SYNC_ALERT_RECIPIENTS", " a@example.com, ,b@example.com ", "alert_recipients",
     ("a@example.com", "b@example.com")),
    ("STOCK_SYNC_SMTP_CONN_ID", "smtp_office", "smtp_conn_id", "smtp_office"),
    ("STOCK_SYNC_LOW_STOCK_DEFAULT", "0", "low_stock_default", 0),
    ("STOCK_SYNC_LOW_STOCK_DEFAULT", "12", "low_stock_default", 12),
    ("STOCK_SYNC_REPORTS_DIR", "", "reports_dir", None),
    ("STOCK_SYNC_SEND_DOCUMENT_EMAIL", "0", "send_document_email", False),
    ("STOCK_SYNC_CREDIT_SIGN", "POSITIVE", "credit_sign", 1),
    ("STOCK_SYNC_COMPANY_NUMBER_META", "  _billing_vat ", "company_number_meta", "_billing_vat"),
])
def test_each_setting_is_read(clean_env, name, value, attribute, expected):
    clean_env.setenv(name, value)
    assert getattr(config.load(), attribute) == expected


def test_folders_are_read(clean_env, tmp_path):
    clean_env.setenv("STOCK_SYNC_HOME", str(tmp_path / "home"))
    clean_env.setenv("STOCK_SYNC_REPORTS_DIR", str(tmp_path / "reports"))
    settings = config.load()
    assert (settings.home, settings.reports_dir) == (tmp_path / "home", tmp_path / "reports")


def test_the_default_gateway_rules_can_be_replaced_and_the_store_rules_win(clean_env):
    clean_env.setenv("STOCK_SYNC_DEFAULT_GATEWAY_RULES", "")
    assert config.load().gateway_rules == ()
    clean_env.setenv("STOCK_SYNC_DEFAULT_GATEWAY_RULES", "cod=invoice,bacs=invoice")
    clean_env.setenv("STOCK_SYNC_GATEWAY_RULES", "bacs=receipt")
    assert dict(config.load().gateway_rules) == {"cod": 0, "bacs": 2}


@pytest.mark.parametrize("name, value, advice", [
    ("STOCK_SYNC_SCHEDULE", "hourly", "use one of 12h, 24h, none"),
    ("STOCK_SYNC_SCHEDULE", "", "use one of 12h, 24h, none"),
    ("STOCK_SYNC_MATCH_BY_NAME", "maybe", "use one of 0, 1, false, no, true, yes"),
    ("STOCK_SYNC_BRAKE_SHARE", "half", "not a number between 0 and 1"),
    ("STOCK_SYNC_BRAKE_SHARE", "0", "more than 0 and at most 1"),
    ("STOCK_SYNC_BRAKE_SHARE", "1.5", "more than 0 and at most 1"),
    ("STOCK_SYNC_BRAKE_SHARE", "-0.1", "more than 0 and at most 1"),
    ("STOCK_SYNC_BRAKE_SHARE", "nan", "more than 0 and at most 1"),
    ("STOCK_SYNC_ORDERS_EVERY", "7", "use one of 10, 15, 20, 30, 5, 60, none"),
    ("STOCK_SYNC_ORDERS_EVERY", "15m", "use one of"),
    ("STOCK_SYNC_GO_LIVE", "01/01/2026", "not a date like 2026-01-01"),
    ("STOCK_SYNC_GO_LIVE", "2026-02-30", "not a date like 2026-01-01"),
    ("STOCK_SYNC_GO_LIVE", "", "not a date like 2026-01-01"),
    ("STOCK_SYNC_ORDER_STATUSES", "processing,shipped", "use WooCommerce statuses from completed, on-hold, processing"),
    ("STOCK_SYNC_ORDER_STATUSES", " , ", "use WooCommerce statuses from"),
    ("STOCK_SYNC_DOCUMENT_TYPE", "credit_invoice", "use one of invoice, invoice_receipt, receipt"),
    ("STOCK_SYNC_CREDIT_TYPE", "invoice", "use one of auto, credit_invoice, credit_invoice_receipt, credit_receipt"),
    ("STOCK_SYNC_CUSTOM_DOCUMENT_DATES", "sometimes", "use one of"),
    ("STOCK_SYNC_DOCUMENT_LANGUAGE", "fr", "use one of ar, en, es, he"),
    ("STOCK_SYNC_ORDER_NOTE", "on", "use one of"),
    ("STOCK_SYNC_MAX_ATTEMPTS", "five", "not a whole number"),
    ("STOCK_SYNC_MAX_ATTEMPTS", "2.5", "not a whole number"),
    ("STOCK_SYNC_MAX_ATTEMPTS", "-1", "must not be negative"),
    ("STOCK_SYNC_WINDOW_OVERLAP_MINUTES", "5m", "not a whole number"),
    ("STOCK_SYNC_WINDOW_OVERLAP_MINUTES", "-5", "must not be negative"),
    ("STOCK_SYNC_LOW_STOCK_DEFAULT", "two", "not a whole number"),
    ("STOCK_SYNC_LOW_STOCK_DEFAULT", "-2", "must not be negative"),
    ("STOCK_SYNC_DEFAULT_GATEWAY_RULES", "cod=cash", "e.g. cod=invoice"),
    ("STOCK_SYNC_GATEWAY_RULES", "=invoice", "e.g. cod=invoice"),
    ("STOCK_SYNC_PAYMENT_KINDS", "tranzila", "e.g. cod=general"),
    ("STOCK_SYNC_SEND_DOCUMENT_EMAIL", "never", "use one of"),
])
def test_each_refused_value_names_the_setting_and_what_to_do(clean_env, name, value, advice):
    clean_env.setenv(name, value)
    with pytest.raises(config.ConfigError) as caught:
        config.load()
    message = str(caught.value)
    assert name in message and advice in message
    assert isinstance(caught.value, ValueError)


def test_an_empty_home_is_refused(clean_env):
    clean_env.setenv("STOCK_SYNC_HOME", "")
    with pytest.raises(config.ConfigError) as caught:
        config.load()
    assert "STOCK_SYNC_HOME" in str(caught.value)


def test_staging_retention_is_read_and_refused_when_not_a_whole_number(monkeypatch, tmp_path):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    monkeypatch.delenv("STOCK_SYNC_STAGING_KEEP_DAYS", raising=False)
    assert config.load().staging_keep_days == 7
    monkeypatch.setenv("STOCK_SYNC_STAGING_KEEP_DAYS", "0")
    assert config.load().staging_keep_days == 0
    for bad in ("-1", "a week"):
        monkeypatch.setenv("STOCK_SYNC_STAGING_KEEP_DAYS", bad)
        with pytest.raises(config.ConfigError, match="STOCK_SYNC_STAGING_KEEP_DAYS"):
            config.load()
