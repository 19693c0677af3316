"""Accounting acceptance suite (issue 8): WooCommerce orders -> OfficeGuy documents, end to end.

| scenario | rule | expected documents (type, VAT, gross/VAT, payment, units back) |
|---|---|---|
| **taxes on, prices excl. tax** | | |
| `single_18_hebrew_guest` | one rate on every line: VATIncluded, VATRate 18, gross unit prices | sale T1 VATRate 18 236.00/36.00 CreditCard |
| `eilat_no_rate` | Eilat: no rate matches, tax_lines [] -> VATRate 0 and Customer.NoVAT | sale T1 NoVAT 100.00/0.00 CreditCard |
| `export_us_english` | export: no tax -> NoVAT; the country is appended to the customer's City | sale T1 NoVAT 100.00/0.00 CreditCard |
| `vat_exempt_meta` | is_vat_exempt=yes: no tax -> NoVAT | sale T1 NoVAT 200.00/0.00 CreditCard |
| `mixed_fresh_produce` | 18% beside zero-rated produce: VATPerItem, net prices, each line's VAT | sale T1 per item 143.00/18.00 CreditCard |
| `percent_coupon` | a percent coupon: lines after the discount, one rate | sale T1 VATRate 18 159.30/24.30 CreditCard |
| `fixed_cart_coupon_pennies` | a fixed-cart coupon split over 3 lines with the pennies: totals exact | sale T1 VATRate 18 59.00/9.00 CreditCard |
| `free_shipping_coupon` | a free-shipping coupon: the 0.00 shipping line is left off the document | sale T1 VATRate 18 118.00/18.00 CreditCard |
| `several_shipping_lines` | each shipping line is its own document line, taxed | sale T1 VATRate 18 171.10/26.10 CreditCard |
| `fees_positive_and_negative` | a fee and a negative fee (discount) are their own lines, with their tax | sale T1 VATRate 18 106.20/16.20 CreditCard |
| `business_customer` | company billing: Name 'Company - First Last', CompanyNumber from og-citizenid | sale T1 VATRate 18 118.00/18.00 BankTransfer |
| `registered_customer_first` | a registered customer is found by ExternalIdentifier (Woo customer id) | sale T1 VATRate 18 118.00/18.00 CreditCard |
| `registered_customer_again` | the same registered customer's second order: the same OfficeGuy customer | sale T1 VATRate 18 177.00/27.00 CreditCard |
| `english_customer` | an English-named customer in Israel: name as billed, no country in City | sale T1 VATRate 18 118.00/18.00 CreditCard |
| `partial_refund_restocked` | a restocked partial refund: a credit of its line; the unit back on the card | sale T1 VATRate 18 389.40/59.40 CreditCard; refund1 T6 VATRate 18 118.00/18.00 CreditCard +1P |
| `partial_refund_not_restocked` | a refund without restock: credited, the unit stays off the card | sale T1 VATRate 18 354.00/54.00 CreditCard; refund1 T6 VATRate 18 118.00/18.00 CreditCard |
| `two_refunds_first_restocked` | two refunds of one line, only the first restocked: exactly 1 unit back | sale T1 VATRate 18 177.00/27.00 CreditCard; refund1 T6 VATRate 18 59.00/9.00 CreditCard +1P; refund2 T6 VATRate 18 59.00/9.00 CreditCard |
| `full_refund` | a full refund (lines and shipping): one credit equal to the sale, all units back | sale T1 VATRate 18 259.60/39.60 CreditCard; refund1 T6 VATRate 18 259.60/39.60 CreditCard +2P |
| `paid_then_cancelled` | cancelled after its document: one credit equal to the sale, all stock back | sale T1 VATRate 18 330.40/50.40 CreditCard; cancel T6 VATRate 18 330.40/50.40 CreditCard +2A,1B |
| `refund_then_cancelled` | partial refund, then cancelled: the cancellation credits the rest | sale T1 VATRate 18 354.00/54.00 CreditCard; refund1 T6 VATRate 18 118.00/18.00 CreditCard +1P; cancel T6 VATRate 18 236.00/36.00 CreditCard +2P |
| `cancelled_then_refund_entered` | a refund entered after the cancellation credit: recorded, not credited | sale T1 VATRate 18 236.00/36.00 CreditCard; cancel T6 VATRate 18 236.00/36.00 CreditCard +2P; refund1: not credited |
| `guest_credit_uses_sale_customer` | a guest's credit goes to the sale document's customer (no new one) | sale T1 VATRate 18 188.80/28.80 CreditCard; refund1 T6 VATRate 18 94.40/14.40 CreditCard +1P |
| `order_edited_after_document` | edited after its document: parked 'changed', both totals, no 2nd sale | sale T1 VATRate 18 236.00/36.00 CreditCard; parked 'changed' |
| `unknown_product_gets_card` | a product OfficeGuy did not know: a card (ExternalIdentifier = Woo id) | sale T1 VATRate 18 118.00/18.00 CreditCard |
| `send_by_email` | SendByEmail to the billing e-mail | sale T1 VATRate 18 118.00/18.00 CreditCard |
| `vat_exempt_refunded` | the credit of a NoVAT sale is NoVAT too (VATRate 0, no VAT) | sale T1 NoVAT 200.00/0.00 CreditCard; refund1 T6 NoVAT 100.00/0.00 CreditCard +1P |
| `fee_refunded` | a refunded fee line is credited on the fee card with its tax | sale T1 VATRate 18 129.80/19.80 CreditCard; refund1 T6 VATRate 18 11.80/1.80 CreditCard |
| `refund_money_only_on_line` | money back on a line without goods back (quantity 0): no stock moves | sale T1 VATRate 18 236.00/36.00 CreditCard; refund1 T6 VATRate 18 11.80/1.80 CreditCard |
| `refund_then_cancelled_next_run` | refund credited in one run, the cancellation in the next: the rest | sale T1 VATRate 18 354.00/54.00 CreditCard; refund1 T6 VATRate 18 118.00/18.00 CreditCard +1P; cancel T6 VATRate 18 236.00/36.00 CreditCard +2P |
| `mixed_produce_refund_then_cancel` | mixed rates: a zero-rated refund (VATRate 0), then the rest per item | sale T1 per item 143.00/18.00 CreditCard; refund1 T6 VATRate 0 12.50/0.00 CreditCard +1VEG; cancel T6 per item 130.50/18.00 CreditCard +1STD,1VEG |
| `edited_then_cancelled` | edited after its document, then cancelled: the credit reverses the sale (2 units) | sale T1 VATRate 18 236.00/36.00 CreditCard; cancel T6 VATRate 18 236.00/36.00 CreditCard +2P; parked 'changed' |
| `refund_not_restocked_then_cancelled` | a refund without restock, then cancelled: every unit Woo restored back | sale T1 VATRate 18 354.00/54.00 CreditCard; refund1 T6 VATRate 18 118.00/18.00 CreditCard; cancel T6 VATRate 18 236.00/36.00 CreditCard +3P |
| `refund_not_restocked_then_cancelled_next_run` | the same with the cancellation a run later: exact | sale T1 VATRate 18 354.00/54.00 CreditCard; refund1 T6 VATRate 18 118.00/18.00 CreditCard; cancel T6 VATRate 18 236.00/36.00 CreditCard +3P |
| `two_refunds_second_restocked_next_run` | two refunds of one line in two runs, only the second restocked | sale T1 VATRate 18 177.00/27.00 CreditCard; refund1 T6 VATRate 18 59.00/9.00 CreditCard; refund2 T6 VATRate 18 59.00/9.00 CreditCard +1P |
| `bacs_on_hold_then_paid` | a bacs order on-hold is not documented; once processing it is (BankTransfer) | sale T1 VATRate 18 118.00/18.00 BankTransfer |
| `refund_before_first_run` | refunded before it was ever documented: the sale, then its credit, one run | sale T1 VATRate 18 236.00/36.00 CreditCard; refund1 T6 VATRate 18 118.00/18.00 CreditCard +1P |
| **taxes on, prices incl. tax** | | |
| `incl_single_18_bacs` | prices incl. tax, one rate: VATRate 18; bacs -> BankTransfer payment | sale T1 VATRate 18 117.00/17.85 BankTransfer |
| `incl_per_line_rounding` | 3 lines of 9.99 incl.: Woo's per-line tax (4.56) is not OfficeGuy's 4.57 -> per item | sale T1 per item 29.97/4.56 CreditCard |
| `incl_three_units_one_line` | 3 x 9.99 incl. on one line: the VAT agrees (4.57) -> VATRate 18, exact | sale T1 VATRate 18 29.97/4.57 CreditCard |
| `incl_percent_coupon` | a percent coupon on a tax-inclusive price | sale T1 VATRate 18 105.30/16.06 CreditCard |
| `incl_mixed_fresh_produce` | prices incl. tax, 18% beside 0%: VATPerItem | sale T1 per item 157.00/17.85 CreditCard |
| `incl_taxed_shipping` | a shipping line taxed at 18% beside a tax-inclusive price | sale T1 VATRate 18 152.40/23.25 CreditCard |
| `usd_order` | a USD order: DocumentCurrency fields, the document in USD | sale T1 VATRate 18 117.00/17.85 CreditCard |
| `gbp_order_paypal` | a GBP order paid by PayPal: the document in GBP, a Digital payment | sale T1 VATRate 18 118.00/18.00 Digital |
| `cod_invoice_then_receipt` | COD: Invoice at processing; at completed a Receipt (no lines, Cash) | sale T0 VATRate 18 234.00/35.69; receipt T2 no lines 234.00 Cash |
| `paypal_digital` | PayPal -> a Digital payment | sale T1 VATRate 18 117.00/17.85 Digital |
| `incl_eilat_zero_rate` | Eilat with a 0% rate on prices incl. tax: base tax off, VATRate 0 + NoVAT | sale T1 NoVAT 99.15/0.00 CreditCard |
| `incl_refund_amount_only` | a refund of an amount on no line: one 'Refund' line with the order's VAT share | sale T1 VATRate 18 234.00/35.69 CreditCard; refund1 T6 VATRate 18 20.00/3.05 CreditCard |
| `cod_cancelled_before_cash` | a COD invoice cancelled: a CreditInvoice (type 5) without payment | sale T0 VATRate 18 117.00/17.85; cancel T5 VATRate 18 117.00/17.85 +1P |
| `incl_refund_shipping_only` | a refund of the shipping line only: credited on the shipping card | sale T1 VATRate 18 152.40/23.25 CreditCard; refund1 T6 VATRate 18 35.40/5.40 CreditCard |
| `cod_refund_before_completion` | COD: an item refunded before delivery; the Receipt is the cash collected | sale T0 VATRate 18 234.00/35.69; refund1 T5 VATRate 18 117.00/17.85 +1P; receipt T2 no lines 117.00 Cash |
| `cod_completed_then_cancelled` | COD collected, then cancelled: a CreditInvoiceAndReceipt paying the cash back | sale T0 VATRate 18 117.00/17.85; receipt T2 no lines 117.00 Cash; cancel T6 VATRate 18 117.00/17.85 Cash +1P |
| `usd_partial_refund` | a USD order's refund: the credit in USD too | sale T1 VATRate 18 234.00/35.69 CreditCard; refund1 T6 VATRate 18 117.00/17.85 CreditCard +1P |
| `incl_per_line_rounding_cancelled` | the per-item sale cancelled: a per-item credit with the same VAT | sale T1 per item 29.97/4.56 CreditCard; cancel T6 per item 29.97/4.56 CreditCard +1A,1B,1C |
| `incl_full_refund_amount_only` | a full refund as an amount only: one 'Refund' line, equal to the sale | sale T1 VATRate 18 234.00/35.69 CreditCard; refund1 T6 VATRate 18 234.00/35.69 CreditCard |
| `cod_refund_then_completed_next_run` | COD refund credited (CreditInvoice) before completion: Receipt = the rest | sale T0 VATRate 18 234.00/35.69; refund1 T5 VATRate 18 117.00/17.85 +1P; receipt T2 no lines 117.00 Cash |
| `incl_mixed_rounding_line` | per-item with 3 x 8.47 net != 25.40: a Rounding line with VAT 0 | sale T1 per item 34.97/4.57 CreditCard |
| `usd_mixed_produce` | a USD order with mixed rates: per-item VAT in the document's currency | sale T1 per item 157.00/17.85 CreditCard |
| **taxes off (company default VAT)** | | |
| `plain_no_vat_rate_sent` | taxes off: no VATRate, VATIncluded; OfficeGuy applies its default (17%) | sale T1 no VATRate 200.00 CreditCard |
| `plain_200_lines_cards_by_flow` | 200 lines of products OfficeGuy did not know: 200 lines, 200 cards | sale T1 no VATRate 1000.00 CreditCard |
| `plain_card_found_by_sku` | a card with the product's SKU (no ExternalIdentifier) is used, none made | sale T1 no VATRate 60.00 CreditCard |
| `plain_fixed_cart_coupon_pennies` | fixed-cart coupon over 3 lines without tax: the pennies land exactly | sale T1 no VATRate 50.00 CreditCard |
| `plain_fixed_product_coupon` | a fixed-product coupon: the unit price after the discount | sale T1 no VATRate 45.00 CreditCard |
| `plain_negative_fee` | a negative fee without tax: a negative line | sale T1 no VATRate 85.00 CreditCard |
| `plain_cancelled_with_shipping` | taxes off, cancelled: the credit equals the sale, no VATRate | sale T1 no VATRate 125.00 CreditCard; cancel T6 no VATRate 125.00 CreditCard +1P |
| `plain_partial_refund_restocked` | taxes off, a restocked partial refund | sale T1 no VATRate 120.00 CreditCard; refund1 T6 no VATRate 40.00 CreditCard +1P |
| `plain_completed_card_order` | a card-paid order completed later: no receipt, no second document | sale T1 no VATRate 100.00 CreditCard |
| `plain_rounding_line_cancelled` | 20.00 over 3 units: a Rounding line makes the total exact; its credit too | sale T1 no VATRate 20.00 CreditCard; cancel T6 no VATRate 20.00 CreditCard +3P |

How it runs: one class per store configuration. Its fixture (`conftest.group_run`) starts a
WooCommerce and an OfficeGuy sandbox, sets the store's tax settings, rates and coupons, creates
each scenario's products (managed stock, 50 units) and, for most of them, an OfficeGuy card with 50
units (one purchase order, type 11); products without a card get theirs from the orders flow. Every
order is posted to WooCommerce's REST API, so its totals, taxes and coupons are WooCommerce's own
arithmetic. Then the real orders DAG runs (`dag.test()`), the scenarios' later events are applied
(refunds with `api_refund: false`, cancellations, completions, an edit), the DAG runs again, and a
third time where an event must come after the second run. The OfficeGuy company default VAT is 17%
in every sandbox, so a document at 18% proves VATRate was sent and one at 17% proves it was not.

Checked for every scenario, from the sandboxes' own state:
- WooCommerce made the order the data says (total, total_tax);
- exactly one sale document per order (by ExternalReference), and exactly the expected credits and
  receipts, each with its type, VAT mode, totals, lines, payment kind, customer and currency;
- the sale's gross == the order's total; its VAT == the order's total_tax to the agora (0.00 with
  NoVAT); with taxes off, no VATRate (the company default applied, VATIncluded);
- the credits of an order (gross, and VAT with taxes on) never exceed its sale, and equal it once
  the order is cancelled or refunded; each credit and receipt names the sale (OriginalDocumentID)
  and uses its customer; no OfficeGuy customer exists beside the documents' own;
- on every product card OfficeGuy moved exactly the stock WooCommerce moved for that product
  (sold minus restocked);
- the document was sent to the billing e-mail; the ledger holds no parked or failed row the
  scenario does not expect.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from officeguy_woocommerce.include.documents import external_reference
from tests.accounting.harness import GroupRun
from tests.accounting.scenarios import EXCLUSIVE, GROUPS, INCLUSIVE, PLAIN, Doc, Group, Scenario

pytestmark = pytest.mark.airflow
CENT = Decimal("0.01")
CREDIT_TYPES = {5, 6, 7}


def _d(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def _money(value: Any) -> str:
    return f"{_d(value) + 0:.2f}"  # never "-0.00"


def _params(group: Group):
    return [pytest.param(sc, id=sc.name, marks=[pytest.mark.xfail(strict=True, reason=sc.bug)] if sc.bug else [])
            for sc in group.scenarios]


def _documents_of(run: GroupRun, order_id: int) -> dict[str, dict]:
    """The order's documents by role: sale, receipt, refund<n> (in the order the refunds were made), cancel."""
    ref = external_reference(run.store, order_id)
    refunds = {f"{ref}:refund:{r['id']}": f"refund{n}"
               for n, r in enumerate(run.scenarios_by_order[order_id].refunds, start=1)}
    roles: dict[str, list[dict]] = {}
    for doc in run.documents:
        reference = doc["external_reference"] or ""
        if reference == ref:
            role = "sale"
        elif reference == f"{ref}:receipt":
            role = "receipt"
        elif reference == f"{ref}:cancel":
            role = "cancel"
        elif reference in refunds:
            role = refunds[reference]
        elif reference.startswith(f"{ref}:"):
            role = reference
        else:
            continue
        roles.setdefault(role, []).append(doc)
    duplicates = {role: [d["id"] for d in docs] for role, docs in roles.items() if len(docs) != 1}
    assert not duplicates, f"more than one document per reference: {duplicates}"
    return {role: docs[0] for role, docs in roles.items()}


def _labels(run: GroupRun, scenario: Scenario) -> dict[int, str]:
    """OfficeGuy card id -> the scenario's product key."""
    ids = run.scenarios[scenario.name].product_ids
    return {run.cards[pid]: key for key, pid in ids.items() if pid in run.cards}


def _lines(doc: dict, labels: dict[int, str], per_item: bool) -> list[tuple]:
    sign = -1 if doc["type"] in CREDIT_TYPES else 1
    out = []
    for ln in doc["lines"]:
        entry = (labels.get(ln["item_id"], ln["description"]), round(ln["quantity"]), _money(sign * ln["unit_price"]))
        out.append((*entry, _money(sign * ln["vat"])) if per_item else entry)
    return out


def _check_vat_mode(doc: dict, mode: str | None, company_rate: float) -> None:
    shown = {k: doc[k] for k in ("vat_included", "vat_per_item", "vat_rate", "no_vat")}
    if mode == "rate":
        assert shown == {"vat_included": True, "vat_per_item": False, "vat_rate": 18.0, "no_vat": False}, shown
    elif mode == "per_item":
        assert shown["vat_per_item"] is True and shown["vat_rate"] is None and not shown["vat_included"], shown
        assert shown["no_vat"] is False, shown
    elif mode == "rate0":
        assert shown == {"vat_included": True, "vat_per_item": False, "vat_rate": 0.0, "no_vat": False}, shown
    elif mode == "no_vat":
        assert shown == {"vat_included": True, "vat_per_item": False, "vat_rate": 0.0, "no_vat": True}, shown
    elif mode == "default":  # no VATRate sent: OfficeGuy's company default applied
        assert shown == {"vat_included": True, "vat_per_item": False, "vat_rate": company_rate, "no_vat": False}, shown


def _check_document(run: GroupRun, scenario: Scenario, expected: Doc, doc: dict, sale: dict) -> None:
    what = f"{scenario.name}/{expected.doc} (document {doc['id']})"
    assert doc["type"] == expected.type, what
    assert doc["currency_code"] == sale["currency_code"], what
    _check_vat_mode(doc, expected.vat_mode, run.company_vat_rate)
    assert _money(abs(doc["gross"])) == expected.gross, (what, doc["gross"])
    if expected.vat is not None:
        assert _money(abs(doc["vat"])) == expected.vat, (what, doc["vat"])
    labels = _labels(run, scenario)
    if isinstance(expected.lines, int):
        assert len(doc["lines"]) == expected.lines, what
    elif expected.lines is not None:
        assert _lines(doc, labels, expected.vat_mode == "per_item") == [tuple(x) for x in expected.lines], what
    assert [p["kind"] for p in doc["payments"]] == ([expected.payment] if expected.payment else []), what
    if doc["payments"]:
        assert _money(abs(sum(p["amount"] for p in doc["payments"]))) == expected.gross, what
    customer = run.details[doc["id"]]["Customer"]
    for field, value in expected.customer.items():
        got = {"name": doc["customer_name"], "city": customer["City"], "company_number": doc["company_number"],
               "no_vat": doc["no_vat"]}[field]
        assert got == value, (what, field)
    if expected.doc != "sale":
        assert doc["original_id"] == sale["id"], what
        assert doc["customer_id"] == sale["customer_id"], f"{what}: not the sale document's customer"
    if doc["type"] in CREDIT_TYPES:
        back: dict[str, int] = {}
        for ln in doc["lines"]:
            if ln["item_id"] in labels:
                back[labels[ln["item_id"]]] = back.get(labels[ln["item_id"]], 0) + round(ln["quantity"])
        assert back == expected.back, (what, back)


def check_scenario(run: GroupRun, scenario: Scenario) -> None:
    sr = run.scenarios[scenario.name]
    order, final = sr.order_at_sale, sr.order_final
    oid = order["id"]
    calc_taxes = bool(run.group.store_settings.get("calc_taxes"))

    # WooCommerce's own arithmetic made the order the scenario describes
    assert (order["total"], order["total_tax"]) == scenario.woo, (order["total"], order["total_tax"], order["tax_lines"])

    docs = _documents_of(run, oid)
    wanted = {e.doc for e in scenario.expected if e.credited}
    assert set(docs) == wanted, f"documents {sorted(docs)}, expected {sorted(wanted)}"
    sale = docs["sale"]
    assert sale["currency_code"] == order["currency"]
    assert _d(sale["gross"]) == _d(order["total"]), "the sale document's gross is not the order total"
    if calc_taxes:
        assert _d(sale["vat"]) == _d(order["total_tax"]), "the sale document's VAT is not the order's total_tax"
        if _d(order["total_tax"]) == 0:
            assert sale["no_vat"] is True and _d(sale["vat"]) == 0
    else:
        assert sale["vat_rate"] == run.company_vat_rate and sale["vat_included"] is True, "a VATRate was sent"

    for expected in scenario.expected:
        if expected.credited:
            _check_document(run, scenario, expected, docs[expected.doc], sale)

    credits = [d for d in run.documents if d["original_id"] == sale["id"] and d["type"] in CREDIT_TYPES]
    credited = sum((abs(_d(d["gross"])) for d in credits), Decimal(0))
    assert credited <= _d(sale["gross"]), f"credits {credited} exceed the sale {sale['gross']}"
    credited_vat = sum((abs(_d(d["vat"])) for d in credits), Decimal(0))
    if calc_taxes:
        assert credited_vat <= _d(sale["vat"]), f"credited VAT {credited_vat} exceeds the sale's {sale['vat']}"
    if final["status"] in ("cancelled", "refunded"):
        assert credited == _d(sale["gross"]), f"{final['status']}: credits {credited} != sale {sale['gross']}"
        if calc_taxes:
            assert credited_vat == _d(sale["vat"]), f"{final['status']}: credited VAT {credited_vat} != {sale['vat']}"

    # the stock OfficeGuy moved on each product card is what WooCommerce moved for that product
    for key, pid in sr.product_ids.items():
        woo_moved = run.woo_stock_before[pid] - run.woo_stock_after[pid]
        og_moved = run.og_stock_before[pid] - run.og_stock_after[pid]
        assert og_moved == woo_moved, f"product {key}: OfficeGuy moved {og_moved}, WooCommerce {woo_moved}"
        made_by_flow = scenario.products[key].card is None
        assert (pid in run.cards_made_by_flow) == made_by_flow, f"product {key}: card made by the flow?"

    email = order["billing"]["email"]
    assert sale["send_by_email"] == {"EmailAddress": email, "Original": True, "SendAsPaymentRequest": False}
    assert {(e["document_id"], e["email"]) for e in run.sent_emails if e["document_id"] in {d["id"] for d in docs.values()}} \
        == {(d["id"], email) for d in docs.values()}

    rows = run.ledger_rows.get(oid, {})
    for role, expected in ((e.doc, e) for e in scenario.expected if not e.credited):
        n = int(role.removeprefix("refund"))
        state, reason = rows[f"refund:{sr.refunds[n - 1]['id']}"]
        assert state == "skipped" and expected.reason in reason, (state, reason)
    if scenario.parked:
        state, reason = rows["changed"]
        assert state == "parked" and all(w in reason for w in scenario.parked), (state, reason)
        stage = min(e.stage for e in scenario.events)
        assert all(w in run.report_texts[stage - 1] for w in scenario.parked[:1]), "not in the run's report"
    else:
        assert "changed" not in rows
    open_rows = {k: v for k, v in rows.items() if v[0] not in ("documented", "skipped") and k != "changed"}
    assert not open_rows, open_rows

    if scenario.same_customer_as:
        other = run.scenarios[scenario.same_customer_as].order_at_sale["id"]
        assert sale["customer_id"] == _documents_of(run, other)["sale"]["customer_id"]


def check_group(run: GroupRun) -> None:
    """The group's DAG runs and what they created beyond the scenarios."""
    parked_stages = {min(e.stage for e in sc.events) for sc in run.group.scenarios if sc.parked}
    assert run.runs == ["failed" if n in parked_stages else "success" for n in range(1, len(run.runs) + 1)]
    refs = {external_reference(run.store, sr.order_at_sale["id"]) for sr in run.scenarios.values()}
    strays = [ref for ref in (d["external_reference"] or "" for d in run.documents) if ref.startswith("woo:")
              and not any(ref == r or ref.startswith(f"{r}:") for r in refs)]
    assert not strays
    # no OfficeGuy customer was made beside the documents' own (credits and receipts reuse the sale's)
    assert run.customers_after_run[-1] == len({d["customer_id"] for d in run.documents})


class TestTaxesOnPricesExclTax:
    GROUP = EXCLUSIVE

    def test_runs(self, group_run):
        check_group(group_run)

    @pytest.mark.parametrize("scenario", _params(EXCLUSIVE))
    def test_scenario(self, group_run, scenario):
        check_scenario(group_run, scenario)


class TestTaxesOnPricesInclTax:
    GROUP = INCLUSIVE

    def test_runs(self, group_run):
        check_group(group_run)

    @pytest.mark.parametrize("scenario", _params(INCLUSIVE))
    def test_scenario(self, group_run, scenario):
        check_scenario(group_run, scenario)


class TestTaxesOff:
    GROUP = PLAIN

    def test_runs(self, group_run):
        check_group(group_run)

    @pytest.mark.parametrize("scenario", _params(PLAIN))
    def test_scenario(self, group_run, scenario):
        check_scenario(group_run, scenario)


def test_the_table_above_lists_every_scenario():
    names = [sc.name for group in GROUPS for sc in group.scenarios]
    assert len(names) == len(set(names)) and len(names) >= 30
    assert all(f"`{name}`" in __doc__ for name in names)
