"""The OfficeGuy sandbox's transport contract: envelope, credentials, paths, languages, enums,
rate limit, faults, counters and persistence (officeguy-api.md 1.1-1.4, 1.6, section 7)."""

from __future__ import annotations

import time

import pytest
import requests
from og_helpers import TODAY, document, line, new_item, stock_of

from sandbox.officeguy.testing import og_sandbox

HEBREW = set("אבגדהוזחטיכלמנסעפצקרשת")


def test_success_envelope(og):
    response = og.post("/website/companies/getdetails/", {})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    answer = response.json()
    assert set(answer) == {"Status", "UserErrorMessage", "TechnicalErrorDetails", "Data"}
    assert answer["Status"] == 0 and answer["UserErrorMessage"] is None
    company = answer["Data"]["Company"]
    assert company["ID"] == og.company_id
    assert company["CorporateNumber"] == "999999998"  # the test-company marker (1.1)


def test_business_error_is_http_200_with_status_1_and_no_data(og):
    response = og.post("/accounting/incomeitems/create/", {"IncomeItem": {"Price": 5}})
    assert response.status_code == 200
    answer = response.json()
    assert answer["Status"] == 1
    assert answer["Data"] is None
    assert "Name" in answer["UserErrorMessage"]


@pytest.mark.parametrize(
    "credentials",
    [
        None,
        {"CompanyID": 12345678},
        {"CompanyID": 12345678, "APIKey": "wrong"},
        {"CompanyID": 1, "APIKey": "PLACEHOLDER"},
        {"APIKey": "PLACEHOLDER"},
    ],
)
def test_missing_or_wrong_credentials_are_refused_on_every_endpoint(og, credentials):
    if credentials and credentials.get("APIKey") == "PLACEHOLDER":
        credentials["APIKey"] = og.api_key
    body = {} if credentials is None else {"Credentials": credentials}
    for path in ("/stock/stock/list/", "/accounting/documents/list/", "/website/companies/getdetails/"):
        response = og.post(path, body, credentials=False)
        assert response.status_code == 200
        answer = response.json()
        assert answer["Status"] == 1, (path, answer)
        assert answer["Data"] is None
        assert "credentials" in answer["UserErrorMessage"].lower()


def test_company_id_may_be_a_digit_string(og):
    body = {"Credentials": {"CompanyID": str(og.company_id), "APIKey": og.api_key}}
    assert og.post("/stock/stock/list/", body, credentials=False).json()["Status"] == 0


def test_body_that_is_not_json_is_a_business_error(og):
    response = requests.post(og.url + "/stock/stock/list/", data=b"{not json", timeout=10,
                             headers={"Content-Type": "application/json", "Content-Language": "en"})
    assert response.status_code == 200
    assert response.json()["Status"] == 1


@pytest.mark.parametrize(
    "path", ["/stock/stock/list/", "/stock/stock/list", "/api/stock/stock/list/", "/API/Stock/Stock/List"],
)
def test_paths_with_and_without_slash_and_api_prefix(og, path):
    assert og.call(path, {})["Status"] == 0


def test_unknown_path_is_404_and_get_is_405(og):
    assert og.post("/accounting/nothing/here/", {}).status_code == 404
    assert requests.get(og.url + "/stock/stock/list/", timeout=10).status_code == 405


def test_content_language_chooses_the_message_language(og):
    body = {"IncomeItem": {}}
    hebrew = og.post("/accounting/incomeitems/create/", body, language="he").json()["UserErrorMessage"]
    english = og.post("/accounting/incomeitems/create/", body, language="en").json()["UserErrorMessage"]
    default = requests.post(og.url + "/accounting/incomeitems/create/", json={**body, "Credentials": og.credentials},
                            timeout=10).json()["UserErrorMessage"]
    assert HEBREW & set(hebrew)
    assert not HEBREW & set(english)
    assert english == "IncomeItem is required"
    assert default == hebrew  # Hebrew unless asked otherwise (1.1)


@pytest.mark.parametrize("doc_type", [11, "11", "PurchasingOrder", "purchasingorder"])
def test_enums_as_integers_digit_strings_or_names(og, doc_type):
    item_id = new_item(og)
    answer = document(og, doc_type, [line(item_id, 3)])
    assert answer["Status"] == 0, answer
    assert stock_of(og, item_id) == 3
    listed = og.call("/accounting/documents/list/", {"DocumentTypes": [11]})["Data"]["Documents"]
    assert [d["Type"] for d in listed] == [11]  # answers carry the integer


@pytest.mark.parametrize("doc_type", ["Bogus", 99, -1, True, 1.5])
def test_unknown_enum_values_are_refused(og, doc_type):
    answer = document(og, doc_type, [line(new_item(og))], pay=False)
    assert answer["Status"] == 1
    assert "Details.Type" in answer["UserErrorMessage"]


def test_search_mode_by_name(og):
    item_id = new_item(og, ExternalIdentifier="woo-7")
    answer = document(og, 11, [line(quantity=2, ExternalIdentifier="woo-7", SearchMode="ExternalIdentifier")])
    assert answer["Status"] == 0, answer
    assert stock_of(og, item_id) == 2


def test_rate_limit_answers_an_empty_403_and_the_block_lasts(og):
    og.set_config(rate_limit_per_minute=5, block_seconds=1.5)
    for _ in range(5):
        assert og.post("/stock/stock/list/", {}).status_code == 200
    started = time.monotonic()
    refused = og.post("/stock/stock/list/", {})
    assert refused.status_code == 403
    assert refused.content == b""
    assert og.stats()  # control routes never count and are never blocked
    while time.monotonic() - started < 1.2:
        blocked = og.post("/website/companies/getdetails/", {})
        assert (blocked.status_code, blocked.content) == (403, b"")
        time.sleep(0.2)
    time.sleep(max(0.0, 1.6 - (time.monotonic() - started)))
    assert og.call("/stock/stock/list/", {})["Status"] == 0


def test_rate_limit_counts_per_company(og):
    og.set_config(rate_limit_per_minute=3, block_seconds=30)
    for _ in range(4):
        og.post("/stock/stock/list/", {})
    assert og.post("/stock/stock/list/", {}).status_code == 403
    other = {"Credentials": {"CompanyID": 999, "APIKey": "x"}}
    assert og.post("/stock/stock/list/", other, credentials=False).json()["Status"] == 1
    og.set_config(rate_limit_per_minute=0)
    assert og.post("/stock/stock/list/", {}).status_code == 200  # 0 turns the limit off


def test_control_calls_never_count_against_the_rate_limit(og):
    og.set_config(rate_limit_per_minute=3)
    for _ in range(10):
        og.stats()
        og.set_config(block_seconds=60)
    for _ in range(3):
        assert og.post("/stock/stock/list/", {}).status_code == 200
    assert og.post("/stock/stock/list/", {}).status_code == 403


def test_the_call_after_the_limit_is_the_first_refused(og):
    og.set_config(rate_limit_per_minute=10)
    for _ in range(10):
        assert og.post("/stock/stock/list/", {}).status_code == 200
    assert og.post("/stock/stock/list/", {}).status_code == 403


def test_status_fault_returns_a_technical_error_without_doing_the_work(og):
    item_id = new_item(og)
    og.arm_fault(kind="status", path="/accounting/documents/create", status=200,
                 body={"Status": 2, "UserErrorMessage": "שגיאה טכנית", "TechnicalErrorDetails": "boom", "Data": None})
    answer = document(og, 11, [line(item_id, 5)])
    assert answer["Status"] == 2
    assert stock_of(og, item_id) == 0
    assert og.call("/accounting/documents/list/", {})["Data"]["Documents"] == []
    assert document(og, 11, [line(item_id, 5)])["Status"] == 0  # the fault fired once


def test_drop_after_commit_leaves_the_document_created(og):
    item_id = new_item(og, stock=10)
    og.arm_fault(kind="drop", path="/accounting/documents/create")
    with pytest.raises(requests.exceptions.RequestException):
        document(og, 1, [line(item_id, 2)], ExternalReference="woo:shop:1001")
    listed = og.call("/accounting/documents/list/", {"DocumentTypes": [1]})["Data"]["Documents"]
    assert [d["ExternalReference"] for d in listed] == ["woo:shop:1001"]
    assert stock_of(og, item_id) == 8


def test_timeout_after_commit_leaves_the_document_created(og):
    item_id = new_item(og, stock=10)
    og.arm_fault(kind="timeout", path="/accounting/documents/create", seconds=1)
    body = {
        "Details": {"Type": 11, "Customer": {"Name": "Supplier"}, "ExternalReference": "po-1"},
        "Items": [line(item_id, 4)], "Credentials": og.credentials,
    }
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(og.url + "/accounting/documents/create/", json=body, timeout=0.3)
    listed = og.call("/accounting/documents/list/", {"DocumentTypes": [11]})["Data"]["Documents"]
    assert {d["ExternalReference"] for d in listed} == {"po-1", None}
    assert stock_of(og, item_id) == 14
    time.sleep(0.8)  # let the held answer finish before the server stops


def test_stats_count_calls_by_endpoint(og):
    og.reset_stats()
    og.call("/stock/stock/list", {})
    og.call("/api/stock/stock/list/", {})
    og.call("/accounting/documents/list/", {})
    assert og.stats() == {"/stock/stock/list/": 2, "/accounting/documents/list/": 1}


def test_config_rejects_unknown_keys(og, tmp_path):
    with pytest.raises(requests.HTTPError):
        og.set_config(no_such_option=1)
    with pytest.raises(TypeError), og_sandbox(tmp_path / "other", no_such_option=1):
        pass


def test_write_delay_slows_create_calls(og):
    og.set_config(write_delay=0.3)
    started = time.monotonic()
    new_item(og)
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    og.call("/stock/stock/list/", {})
    assert time.monotonic() - started < 0.3


def test_state_survives_a_restart_and_the_dataset_loads_only_once(tmp_path):
    with og_sandbox(tmp_path, dataset="demo", today=TODAY) as og:
        first = og.call("/stock/stock/list/", {})["Data"]["Stock"][0]
        assert document(og, 11, [line(first["ID"], 5)])["Status"] == 0
    with og_sandbox(tmp_path, dataset="demo", today=TODAY) as og:
        stock = og.call("/stock/stock/list/", {})["Data"]["Stock"]
        assert stock[0]["Stock"] == first["Stock"] + 5
        assert len({row["ID"] for row in stock}) == len(stock)
        assert len(og.call("/accounting/documents/list/", {})["Data"]["Documents"]) == 1
