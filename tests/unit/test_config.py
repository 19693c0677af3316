"""Settings: every bad value fails with a message naming the variable; the accounting settings reach
`DocumentSettings` (include/config.py)."""

from __future__ import annotations

import pytest

from include import config
from include.officeguy_codes import PaymentType


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
