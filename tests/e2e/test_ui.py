"""The Airflow UI in a real browser (issue 12 §3): Debian's headless Chromium, driven by Playwright,
against a real Airflow 3.3 (api-server, scheduler, dag-processor, triggerer; LocalExecutor on a fresh
PostgreSQL database, loopback only, ``tests/stack.py``) with the simple auth manager and a user with a
password, the project installed as its provider, and the two sandboxes as WooCommerce and OfficeGuy.

What a person does, step by step, each step a screenshot in ``var/e2e-ui/`` (``NN-step.png``):

1. signs in through the login page;
2. opens Admin → Connections → Add Connection for each of the project's connection types and sees the
   fields ``plugins/provider_info.py`` declares (relabelled standard fields with their placeholders, every
   extra field with its label and description; schema and port hidden);
3. opens the stock DAG's Trigger form, sees each param with its title and description, triggers a dry run
   for two SKUs whose stock differs, waits for it to succeed, opens the report task's Details tab, follows
   the "Run report" extra link and sees the two planned changes on the report;
4. creates a paid order in the WooCommerce sandbox, triggers the orders DAG for it from its Trigger form
   and sees OfficeGuy's document number on that run's report;
5. logs out and opens the report's URL again: refused.

Every step fails if the page shows an error: an HTTP error answer to the page or to any request the UI
made (4xx/5xx, apart from the few a step expects, e.g. the 401 that sends an anonymous visitor to the
login page), an uncaught script error, an error toast, an error alert, the "Dag Import Error" banner, a
"Page Not Found" page.

Run it with ``make e2e-ui`` (installs Chromium and Playwright first: ``make e2e-setup``). In a plain
``pytest`` run it is skipped when the browser or Playwright is missing, unless ``E2E_REQUIRED=1``.
About 2 minutes on the 2-core machine.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from tests.stack import PASSWORD, USER, AirflowStack, connection_env

pytestmark = [pytest.mark.e2e, pytest.mark.airflow, pytest.mark.postgres, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "e2e-ui"
STOCK, ORDERS = "officeguy_stock_to_woocommerce", "woocommerce_orders_to_officeguy"
CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
VIEWPORT = {"width": 1400, "height": 1000}
TIMEOUT_MS = 30_000  # one UI element or navigation
RUN_TIMEOUT_S = 300  # one DAG run
# alerts that are information, not errors (the login page's notice about the simple auth manager)
INFO_ALERTS = ("Simple auth manager enabled",)


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed"
    return None


if (reason := _missing()) is not None:
    if os.environ.get("E2E_REQUIRED") == "1":
        raise RuntimeError(f"the browser test cannot run: {reason} (run `make e2e-setup`)")
    pytest.skip(f"{reason}: run `make e2e-setup` (or `make e2e-ui`)", allow_module_level=True)

from playwright.sync_api import Page, Response, expect, sync_playwright  # noqa: E402


# --------------------------------------------------------------------------------------- the browser
class Ui:
    """The page, its screenshots, and what counts as "the page shows an error"."""

    def __init__(self, page: Page, api: str) -> None:
        self.page = page
        self.api = api
        self.http_errors: list[tuple[int, str, str]] = []
        self.script_errors: list[str] = []
        page.on("response", self._on_response)
        page.on("pageerror", lambda error: self.script_errors.append(str(error)))

    def _on_response(self, response: Response) -> None:
        if response.status >= 400:
            self.http_errors.append((response.status, response.request.method, response.url))

    def goto(self, path: str) -> Response | None:
        return self.page.goto(self.api + path)

    def shot(self, step: str, *, full_page: bool = False) -> Path:
        path = SHOTS / f"{step}.png"
        self.page.screenshot(path=path, full_page=full_page)
        return path

    def settle(self) -> None:
        """Let the React app finish its requests (it polls; so not more than a few seconds)."""
        with contextlib.suppress(Exception):
            self.page.wait_for_load_state("networkidle", timeout=5_000)

    def step(self, name: str, *, allow: tuple[tuple[int, str], ...] = (), full_page: bool = False) -> None:
        """Screenshot ``name``, then fail if the page shows an error. ``allow``: (status, URL regex) pairs of
        HTTP error answers this step expects. The error record starts again after each step."""
        self.settle()
        self.shot(name, full_page=full_page)
        problems = [f"HTTP {status} {method} {url}" for status, method, url in self.http_errors
                    if not any(status == s and re.search(rx, url) for s, rx in allow)]
        problems += [f"script error: {e}" for e in self.script_errors]
        page = self.page
        for toast in page.locator("[data-scope=toast][data-part=root][data-type=error]").all():
            if toast.is_visible():
                problems.append(f"error toast: {toast.inner_text()!r}")
        for alert in page.locator(".chakra-alert__root, [role=alert]").all():
            text = alert.inner_text().strip() if alert.is_visible() else ""
            if text and not any(info in text for info in INFO_ALERTS):
                problems.append(f"alert: {text!r}")
        if page.get_by_role("button", name="Dag Import Error").count():
            problems.append("the DAG page shows 'Dag Import Error'")
        if page.get_by_text(re.compile(r"^(Page Not Found|Dag Not Found)")).count():
            problems.append("a 'Not Found' page")
        self.http_errors.clear()
        self.script_errors.clear()
        assert not problems, f"step {name}: the page shows an error (screenshot {SHOTS / name}.png):\n" + \
            "\n".join(problems)

    def failure_shot(self, test_name: str) -> None:
        with contextlib.suppress(Exception):
            self.shot(f"FAILED-{test_name}", full_page=True)


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """Both sandboxes with the demo catalogue, in this process (threads on loopback ports)."""
    from sandbox.officeguy.testing import og_sandbox
    from sandbox.woocommerce.testing import woo_sandbox

    work = tmp_path_factory.mktemp("e2e-ui")
    with woo_sandbox(work / "woo", dataset="demo") as woo, og_sandbox(work / "og", dataset="demo") as og:
        yield work, woo, og


@pytest.fixture(scope="module")
def connections(shop):
    """``AIRFLOW_CONN_*`` for the sandboxes: the Airflow processes' and this process's (the hooks that
    pick the SKUs to sync)."""
    _work, woo, og = shop
    conns = {
        "AIRFLOW_CONN_WOOCOMMERCE_DEFAULT": connection_env("woocommerce", woo.url, woo.consumer_key,
                                                           woo.consumer_secret),
        "AIRFLOW_CONN_OFFICEGUY_DEFAULT": connection_env("officeguy", og.url, str(og.company_id), og.api_key,
                                                         rate_limit_per_minute=6000),
    }
    with pytest.MonkeyPatch.context() as mp:
        for name, value in conns.items():
            mp.setenv(name, value)
        yield conns


@pytest.fixture(scope="module")
def stack(shop, connections):
    work, _woo, _og = shop
    env = {
        **connections,
        "STOCK_SYNC_HOME": str(work / "stock_sync"),
        "STOCK_SYNC_SCHEDULE": "none",  # runs only when the test triggers them
        "STOCK_SYNC_ORDERS_EVERY": "none",
        "STOCK_SYNC_GO_LIVE": (date.today() - timedelta(days=2)).isoformat(),
    }
    with AirflowStack(work, env=env, dag_ids=[STOCK, ORDERS], triggerer=True, db_prefix="e2e_ui") as airflow:
        yield airflow


@pytest.fixture(scope="module")
def ui(stack):
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    with sync_playwright() as playwright:
        # --no-sandbox: Chromium's sandbox cannot start as root (CI and these machines run as root)
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            context = browser.new_context(viewport=VIEWPORT, locale="en-US",
                                          timezone_id="UTC")
            context.set_default_timeout(TIMEOUT_MS)
            context.set_default_navigation_timeout(TIMEOUT_MS)
            yield Ui(context.new_page(), stack.api)
            context.close()
        finally:
            browser.close()


@pytest.fixture(scope="module")
def seen() -> dict:
    """What one step leaves for a later one (the report URL for the logged-out check)."""
    return {}


# ------------------------------------------------------------------------------------------- helpers
def _dag_params(stack: AirflowStack, dag_id: str) -> dict:
    answer = requests.get(f"{stack.api}/api/v2/dags/{dag_id}/details", timeout=30,
                          headers={"Authorization": f"Bearer {stack.token()}"})
    answer.raise_for_status()
    return answer.json()["params"]


def _open_trigger_form(ui: Ui, stack: AirflowStack, dag_id: str, shot: str):
    """The DAG's Trigger form; checks that every param shows its title and description."""
    ui.goto(f"/dags/{dag_id}")
    expect(ui.page.get_by_role("heading", name=dag_id)).to_be_visible()
    ui.step(f"{shot}a-{dag_id}")
    ui.page.get_by_role("button", name="Trigger Dag").click()
    form = ui.page.get_by_role("dialog")
    expect(form.get_by_role("heading", name=f"Trigger Dag - {dag_id}")).to_be_visible()
    expect(form.get_by_text("Run Parameters", exact=True)).to_be_visible()
    missing = []
    for name, param in _dag_params(stack, dag_id).items():
        title, description = param["schema"].get("title"), param.get("description")
        if not title or not description:
            missing.append(f"param {name!r} of {dag_id} has no {'title' if not title else 'description'}")
            continue
        field = _param_field(form, title)
        expect(field).to_be_visible()
        expect(field.get_by_text(description, exact=True)).to_be_visible()
    ui.step(f"{shot}b-{dag_id}-trigger-form")
    assert not missing, "\n".join(missing)
    return form


def _param_field(form, title: str):
    """A param's row in the Trigger form: the field group whose label is the param's title. (The form's
    labels are not tied to their textareas and code editors, so the group is found by its label.)"""
    return form.get_by_role("group").filter(has=form.page.locator("label", has_text=re.compile(
        rf"^\s*{re.escape(title)}\s*\*?\s*$")))


def _switch_on(form, title: str) -> None:
    field = _param_field(form, title)
    field.locator("[data-scope=switch][data-part=control]").click()
    expect(field.get_by_role("checkbox")).to_be_checked()


def _trigger(ui: Ui, form, dag_id: str, shot: str) -> str:
    """Press the form's Trigger button; the new run's id (from the UI's own REST call)."""
    ui.shot(shot)
    with ui.page.expect_response(lambda r: r.request.method == "POST"
                                 and r.url.endswith(f"/api/v2/dags/{dag_id}/dagRuns")) as answer:
        form.get_by_role("button", name="Trigger", exact=True).click()
    assert answer.value.status in (200, 201), answer.value.text()
    run_id = answer.value.json()["dag_run_id"]
    expect(ui.page.get_by_text("Dag Run Triggered").first).to_be_visible()
    return run_id


def _wait_and_open_report(ui: Ui, stack: AirflowStack, dag_id: str, run_id: str, shot: str) -> str:
    """Wait for the run to succeed, see it so in the UI, open the report task's Details tab and follow its
    "Run report" link; returns the report's URL."""
    state = stack.wait_run(dag_id, run_id, timeout=RUN_TIMEOUT_S)
    run_path = f"/dags/{dag_id}/runs/{quote(run_id, safe='')}"
    ui.goto(run_path)
    header = ui.page.get_by_role("heading", name=run_id)
    expect(header).to_be_visible()
    report_row = ui.page.get_by_role("row").filter(has=ui.page.get_by_role("link", name="report", exact=True))
    expect(report_row.get_by_text("Success", exact=True)).to_be_visible()
    ui.step(f"{shot}a-{dag_id}-run")
    assert state == "success", f"{dag_id} run {run_id} ended {state}: {stack.log_tails()}"
    report_row.get_by_role("link", name="report", exact=True).click()
    ui.page.get_by_role("link", name="Details", exact=True).click()
    link = ui.page.get_by_role("link", name="Run report")
    expect(link).to_be_visible()
    ui.step(f"{shot}b-{dag_id}-report-task-details")
    with ui.page.expect_navigation() as navigation:
        link.click()
    assert navigation.value is not None and navigation.value.status == 200, navigation.value
    return ui.page.url


# --------------------------------------------------------------------------------------------- tests
def test_01_sign_in(ui, stack):
    ui.goto("/")
    expect(ui.page.get_by_role("heading", name="Sign into Airflow")).to_be_visible()
    ui.page.get_by_label("Username").fill(USER)
    ui.page.get_by_label("Password").fill(PASSWORD)
    # an anonymous visit: the UI's config call is refused, which sends the browser to the login page
    ui.step("01-login-page", allow=((401, r"/ui/config$"),))
    ui.page.get_by_role("button", name="Sign in").click()
    expect(ui.page.get_by_role("heading", name="Welcome")).to_be_visible()
    expect(ui.page.get_by_role("button", name="User")).to_be_visible()
    ui.step("02-signed-in")

    # the check itself: a page that shows an error fails a step
    ui.goto("/dags/no_such_dag")
    expect(ui.page.get_by_text("Dag Not Found")).to_be_visible()
    with pytest.raises(AssertionError, match=r"HTTP 404 GET .*/api/v2/dags/no_such_dag"):
        ui.step("02b-error-check-sees-a-not-found-page")


@pytest.mark.parametrize("conn_type", ["officeguy", "woocommerce"])
def test_02_connection_form_shows_the_declared_fields(ui, conn_type):
    from officeguy_woocommerce.provider_info import get_provider_info

    declared = next(c for c in get_provider_info()["connection-types"] if c["connection-type"] == conn_type)
    behaviour, fields = declared["ui-field-behaviour"], declared["conn-fields"]
    page = ui.page
    ui.goto("/")
    page.get_by_role("button", name="Admin").click()
    page.get_by_role("menuitem", name="Connections").click()
    expect(page.get_by_role("button", name="Add Connection")).to_be_visible()
    page.get_by_role("button", name="Add Connection").click()
    form = page.get_by_role("dialog")
    expect(form.get_by_role("heading", name="Add Connection")).to_be_visible()
    form.get_by_role("combobox", name="Connection Type").fill(declared["hook-name"].split()[0])
    page.get_by_role("option", name=declared["hook-name"], exact=True).click()

    # the standard fields, relabelled, with their placeholders; schema and port hidden
    for field, label in behaviour["relabeling"].items():
        expect(form.get_by_text(label, exact=True)).to_be_visible()
        placeholder = behaviour["placeholders"].get(field)
        if placeholder:
            expect(form.get_by_placeholder(placeholder, exact=True)).to_be_visible()
    for hidden in ("Schema", "Port", "Host", "Login"):
        expect(form.get_by_text(hidden, exact=True)).to_have_count(0)
    ui.step(f"03-connection-form-{conn_type}-standard-fields")

    # every extra the hook reads, with its label and description
    form.get_by_role("button", name="Extra Fields", exact=True).click()
    for field in fields.values():
        label = form.get_by_text(field["label"], exact=True)
        label.scroll_into_view_if_needed()
        expect(label).to_be_visible()
        expect(form.get_by_text(field["description"], exact=True)).to_be_visible()
    page.set_viewport_size({"width": 1400, "height": 2000})  # the whole form in one screenshot
    try:
        form.get_by_role("heading", name="Add Connection").scroll_into_view_if_needed()
        ui.step(f"04-connection-form-{conn_type}-extra-fields")
    finally:
        page.set_viewport_size(VIEWPORT)
    form.get_by_role("button", name="Close").click()
    expect(form).to_have_count(0)


def test_02b_a_woocommerce_connection_saved_from_the_form_works(ui, stack, monkeypatch):
    """What an operator does: fill in the standard fields, keep every extra field's default, Save. The
    saved connection (read back through the CLI, unmasked) must be one the hook accepts."""
    import json

    from officeguy_woocommerce.provider_info import get_provider_info
    from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook

    declared = next(c for c in get_provider_info()["connection-types"] if c["connection-type"] == "woocommerce")
    placeholders = declared["ui-field-behaviour"]["placeholders"]
    page = ui.page
    ui.goto("/connections")
    page.get_by_role("button", name="Add Connection").click()
    form = page.get_by_role("dialog")
    form.get_by_role("textbox", name="Connection ID").fill("woocommerce_from_form")
    form.get_by_role("combobox", name="Connection Type").fill("WooCommerce")
    page.get_by_role("option", name=declared["hook-name"], exact=True).click()
    for field, value in (("host", "http://127.0.0.1:9"), ("login", "ck_from_the_form"),
                         ("password", "cs_from_the_form")):
        form.get_by_placeholder(placeholders[field], exact=True).fill(value)
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/api/v2/connections")) as answer:
        form.get_by_role("button", name="Save").click()
    assert answer.value.status in (200, 201), answer.value.text()
    expect(form).to_have_count(0)
    ui.step("04c-connection-form-woocommerce-saved")

    saved = json.loads(stack.cli("connections", "get", "woocommerce_from_form", "-o", "json"))[0]
    monkeypatch.setenv("AIRFLOW_CONN_WOOCOMMERCE_FROM_FORM", json.dumps({
        "conn_type": saved["conn_type"], "host": saved["host"], "login": saved["login"],
        "password": saved["password"], "extra": saved["extra_dejson"]}))
    WooCommerceHook("woocommerce_from_form").settings  # noqa: B018 - raises ConnectionConfigError when unusable


def test_03_stock_dry_run_from_the_trigger_form_and_its_report(ui, stack, seen):
    from officeguy_woocommerce.officeguy.hooks import OfficeGuyHook
    from officeguy_woocommerce.woocommerce.hooks import WooCommerceHook

    # two managed products whose store quantity differs from OfficeGuy's stock
    woo = {p.id: p for p in WooCommerceHook().list_stock_items()}
    drift = []
    for item in OfficeGuyHook().list_stock():
        product = woo.get(int(item.external_identifier)) if item.external_identifier.isdigit() else None
        if (product and product.manage_stock is True and product.sku and item.stock is not None
                and product.stock_quantity != math.floor(item.stock)):
            drift.append((product.sku, product.stock_quantity, math.floor(item.stock)))
    assert len(drift) >= 2, "the demo catalogue has stock to sync"
    drift = sorted(drift)[:2]

    form = _open_trigger_form(ui, stack, STOCK, "05")
    _switch_on(form, "Dry run")
    _param_field(form, "Only these SKUs").get_by_role("textbox").fill("\n".join(sku for sku, _, _ in drift))
    run_id = _trigger(ui, form, STOCK, "05c-stock-trigger-form-filled")
    ui.step("05d-stock-triggered")

    report_url = _wait_and_open_report(ui, stack, STOCK, run_id, "06")
    page = ui.page
    expect(page.get_by_role("heading", name=re.compile("Stock sync: OfficeGuy → WooCommerce"))).to_be_visible()
    expect(page.get_by_text(run_id, exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"What changed \(2\)"))).to_be_visible()
    for sku, old, new in drift:
        row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=sku, exact=True))
        expect(row).to_have_count(1)
        expect(row.get_by_role("cell", name=f"{old} → {new}", exact=True)).to_be_visible()
        expect(row.get_by_role("cell", name="dry_run", exact=True)).to_be_visible()
    ui.step("07-stock-report", full_page=True)
    seen["report_url"] = report_url


def test_04_orders_run_shows_the_officeguy_document_number(ui, stack, shop, seen):
    from tests.airflow.test_backfill_real_airflow import _create_order

    _work, woo, og = shop
    order = _create_order(woo, time.time())  # paid (set_paid), one line
    assert order["status"] in ("processing", "completed"), order["status"]

    form = _open_trigger_form(ui, stack, ORDERS, "08")
    # an array of integers is a JSON editor in Airflow's form
    editor = _param_field(form, "Only these orders").locator(".monaco-editor .view-lines")
    editor.click()
    ui.page.keyboard.press("ControlOrMeta+a")
    ui.page.keyboard.press("Backspace")
    ui.page.keyboard.insert_text(f"[{order['id']}")
    if not editor.inner_text().strip().endswith("]"):  # the editor closes brackets itself, by default
        ui.page.keyboard.insert_text("]")
    expect(editor).to_have_text(re.compile(rf"^\s*\[\s*{order['id']}\s*\]\s*$"))  # the editor may re-indent it
    run_id = _trigger(ui, form, ORDERS, "08c-orders-trigger-form-filled")
    ui.step("08d-orders-triggered")

    _wait_and_open_report(ui, stack, ORDERS, run_id, "09")
    documents = [d for d in og.documents() if (d["external_reference"] or "").endswith(f":{order['id']}")]
    assert len(documents) == 1, documents
    number = str(documents[0]["number"])
    page = ui.page
    expect(page.get_by_role("heading", name=re.compile("Orders sync: WooCommerce → OfficeGuy"))).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"Documents created \(1\)"))).to_be_visible()
    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=str(order["id"]), exact=True))
    expect(row.get_by_role("cell", name=number, exact=True)).to_be_visible()
    ui.step("10-orders-report", full_page=True)
    seen["orders_report_url"] = page.url


def test_05_signed_out_the_report_is_refused(ui, seen):
    assert seen.get("report_url"), "needs the report URL of test_03"
    page = ui.page
    ui.goto("/")
    page.get_by_role("button", name="User").click()
    page.get_by_role("menuitem", name="Logout").click()
    confirm = page.get_by_role("dialog").filter(has=page.get_by_role("heading", name="Logout"))
    expect(confirm.get_by_text("You are about to logout")).to_be_visible()
    confirm.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Sign into Airflow")).to_be_visible()
    ui.step("11-signed-out", allow=((401, r"/ui/config$"), (401, r"/api/v2/")))

    answer = page.goto(seen["report_url"])
    assert answer is not None and answer.status in (401, 403), (answer and answer.status, page.content()[:500])
    expect(page.get_by_text("Stock sync: OfficeGuy → WooCommerce")).to_have_count(0)
    ui.shot("12-report-refused-when-signed-out")
    ui.http_errors.clear()
