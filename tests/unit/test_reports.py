"""include/reports.py: both pages from rich and empty data, escaping, truncation, the trend chart,
where files go and the log summary."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from officeguy_woocommerce.include.reports import (
    MAX_ROWS,
    ORDERS_SERIES,
    STOCK_SERIES,
    render_orders_report,
    render_stock_report,
    report_path,
    run_id_from_filename,
    text_summary,
    trend_svg,
    write_report,
)

STOCK_DAG = "officeguy_stock_to_woocommerce"
ORDERS_DAG = "woocommerce_orders_to_officeguy"
RUN_ID = "scheduled__2026-03-01T03:00:00+00:00"
EVIL = 'כוס קפה <script>alert("x")</script> ☕🎉'


def stock_data(**overrides) -> dict:
    data = {
        "dag_id": STOCK_DAG, "run_id": RUN_ID, "status": "failed",
        "started_at": datetime(2026, 3, 1, 3, 0, tzinfo=UTC), "finished_at": "2026-03-01T03:02:05+00:00",
        "duration_s": 125.4, "dry_run": False, "message": "1 of 3 changes were not written",
        "counts": {"matched": 280, "changed": 3, "unchanged": 277, "unmatched_og": 1, "unmatched_woo": 1,
                   "skipped": 1, "applied": 2, "failed": 1, "api_calls": 17, "brake_share": 0.01},
        "changes": [
            {"name": EVIL, "sku": "CUP-1", "woo_id": 101, "field": "stock_quantity", "old": 4.0, "new": 9.0,
             "outcome": "applied", "error": ""},
            {"name": "חולצה אדומה", "sku": "SH-RED", "woo_id": 102, "field": "stock_status", "old": "instock",
             "new": "outofstock", "outcome": "failed", "error": "woocommerce_rest_invalid: <b>bad</b>"},
            {"name": "Mug", "sku": None, "woo_id": 103, "field": "stock_quantity", "old": float("nan"), "new": 0,
             "outcome": "applied", "error": None},
        ],
        "skipped": [{"woo_id": 104, "og_item_id": 9, "name": "מוצר מוחרג", "sku": "EX-1",
                     "reason": "excluded by _stock_sync_exclude", "detail": ""}],
        "unmatched_og": [{"og_item_id": 77, "name": "פריט בלי מק\"ט", "sku": "", "reason": "no SKU and no "
                          "ExternalIdentifier", "detail": ""}],
        "unmatched_woo": [{"woo_id": 555, "name": "Orphan product", "sku": "ORPH", "type": "simple"}],
        "alerts": [{"name": "כוס קפה", "sku": "CUP-1", "woo_id": 101, "quantity": 1, "threshold": 2,
                    "kind": "low"}],
        "history": [{"run_id": f"scheduled__2026-02-{d:02d}T03:00:00+00:00",
                     "started_at": f"2026-02-{d:02d}T03:00:00+00:00", "changed": d, "skipped": 1, "drift": 0}
                    for d in range(1, 8)],
    }
    data.update(overrides)
    return data


def orders_data(**overrides) -> dict:
    data = {
        "dag_id": ORDERS_DAG, "run_id": "manual__2026-03-01T10:15:00.123456+00:00", "status": "succeeded",
        "started_at": "2026-03-01T10:15:00+00:00", "finished_at": "2026-03-01T10:15:40+00:00",
        "duration_s": 40, "dry_run": True, "message": "",
        "window": ["2026-03-01T10:00:00+00:00", "2026-03-01T10:15:00+00:00"],
        "counts": {"orders": 4, "created": 2, "found": 1, "parked": 1, "failed": 1, "cards": 1, "skipped": 1},
        "created": [{"order": 5001, "number": "5001", "doc_key": "sale", "document_id": 9001,
                     "document_number": "40012"},
                    {"order": 4990, "number": "4990", "doc_key": "refund:77", "document_id": 9002,
                     "document_number": "50003"}],
        "found": [{"order": 4980, "number": "4980", "doc_key": "cancel", "document_id": 8999,
                   "document_number": "50002"}],
        "parked": [{"order": 5002, "doc_key": "sale", "reason": "line 'Gift <wrap>' has no product"}],
        "failed": [{"order": 5003, "doc_key": "sale", "error": "OfficeGuy timed out"}],
        "cards": [{"woo_id": 301, "og_item_id": 7001, "name": "מחזיק מפתחות 🔑", "sku": "KEY-1"}],
        "skipped": [{"order": 5004, "reason": "cancelled before it was documented"}],
        "history": [{"run_id": "r1", "started_at": "2026-03-01T09:45:00+00:00", "created": 3, "parked": 0,
                     "failed": 0}],
    }
    data.update(overrides)
    return data


class _Checker(HTMLParser):
    """Collects tags, text and script elements, and checks that open/close tags balance."""

    VOID = {"meta", "br", "img", "input", "link", "hr", "col", "rect", "line", "path", "circle", "polyline"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> _Checker:
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert checker.stack == [], f"unclosed tags: {checker.stack}"
    return checker


# --- pages -----------------------------------------------------------------------------------------


def test_stock_page_from_rich_data():
    page = render_stock_report(stock_data())
    parsed = parse(page)
    text = "".join(parsed.text)
    assert page.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in page
    for heading in ("What changed", "Skipped", "Unmatched in OfficeGuy", "Unmatched in WooCommerce", "Alerts sent",
                    "Last runs", "Counts"):
        assert heading in text
    assert STOCK_DAG in text and RUN_ID in text
    assert "2 min 5 s" in text  # duration
    assert "2026-03-01 03:00:00+00:00" in text and "2026-03-01 03:02:05+00:00" in text
    assert "4 → 9" in text  # pandas floats shown as whole numbers
    assert "– → 0" in text  # NaN shown as a dash
    assert "woocommerce_rest_invalid: <b>bad</b>" in text  # the error, as text
    assert "brake share" in text  # a count the renderer does not know is still shown
    assert "<svg" in page
    # The failed status is red; the header carries the colour inline.
    assert "background:#c0392b" in page


def test_orders_page_from_rich_data():
    page = render_orders_report(orders_data())
    text = "".join(parse(page).text)
    for heading in ("Documents created", "Found already in OfficeGuy", "Parked", "Waiting for retry",
                    "Item cards created", "Skipped", "Last runs", "Window read"):
        assert heading in text
    assert "40012" in text and "50003" in text
    assert "refund" in text and "cancel" in text and "sale" in text
    assert "2026-03-01 10:00:00+00:00 → 2026-03-01 10:15:00+00:00" in text
    assert "line 'Gift <wrap>' has no product" in text
    assert "מחזיק מפתחות 🔑" in text


@pytest.mark.parametrize("render", [render_stock_report, render_orders_report])
@pytest.mark.parametrize("data", [{}, None, {"counts": None, "changes": None, "created": "oops", "history": 5,
                                             "window": None, "skipped": [None, 3], "parked": {"not": "a list"}}])
def test_pages_from_empty_or_odd_data_render_empty_sections(render, data):
    page = render(data)
    text = "".join(parse(page).text)
    assert "Last runs" in text and "No runs recorded yet." in text
    assert "unknown" in text  # the missing status


def test_merchant_text_is_escaped_and_hebrew_and_emoji_survive():
    page = render_stock_report(stock_data(dag_id='x"><script>alert(1)</script>', run_id="<img src=x onerror=y>"))
    parsed = parse(page)
    assert not [tag for tag, _ in parsed.tags if tag in {"script", "img"}]
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "כוס קפה" in page and "☕🎉" in page  # raw UTF-8, not mangled or entity-encoded
    assert EVIL in "".join(parsed.text)
    # Cells holding merchant names lay out by their own direction (Hebrew right-to-left).
    name_cells = [attrs for tag, attrs in parsed.tags if tag == "td" and attrs.get("dir") == "auto"]
    assert name_cells
    page.encode("utf-8")  # no lone surrogates


def test_long_tables_show_the_first_rows_and_count_the_rest():
    changes = [{"name": f"מוצר {i}", "sku": f"S{i}", "woo_id": i, "field": "stock_quantity", "old": 1, "new": 2,
                "outcome": "applied"} for i in range(MAX_ROWS + 234)]
    page = render_stock_report(stock_data(changes=changes))
    assert f"Showing the first {MAX_ROWS} rows; 234 more not shown." in page
    assert f"מוצר {MAX_ROWS - 1}<" in page and f"מוצר {MAX_ROWS}<" not in page
    assert f"({MAX_ROWS + 234:,})" in page


# --- the trend chart -------------------------------------------------------------------------------

SVG = "{http://www.w3.org/2000/svg}"


def runs(n: int, zero: bool = False) -> list[dict]:
    return [{"run_id": f"scheduled__2026-01-{1 + i % 28:02d}T{i % 24:02d}:00:00+00:00",
             "started_at": f"2026-01-01T00:00:00+00:00#{i:03d}",
             "changed": 0 if zero else i, "skipped": 0 if zero else i % 3, "drift": 0} for i in range(n)]


@pytest.mark.parametrize("n", [0, 1, 50, 75])
@pytest.mark.parametrize("series", [STOCK_SERIES, ORDERS_SERIES])
def test_trend_svg_is_well_formed(n, series):
    root = ET.fromstring(trend_svg(runs(n), series))
    assert root.tag == f"{SVG}svg"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    for _, label, _ in series:  # the legend
        assert label in texts
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(bars) == min(n, 50) * len(series)
    for bar in bars:
        assert math.isfinite(float(bar.get("height"))) and float(bar.get("height")) >= 0
    if n == 0:
        assert "No runs recorded yet." in texts


def test_trend_svg_scales_bars_and_labels_the_axis():
    history = [{"run_id": "a", "started_at": "2026-01-02T03:00:00+00:00", "changed": 10, "skipped": 0, "drift": 5},
               {"run_id": "b", "started_at": "2026-01-01T03:00:00+00:00", "changed": 3, "skipped": "x"}]
    root = ET.fromstring(trend_svg(history, STOCK_SERIES))
    titles = [t.text for t in root.iter(f"{SVG}title")]
    # Sorted oldest first by started_at; every bar explains itself on hover.
    assert titles.index("Changed: 3 · b") < titles.index("Changed: 10 · a")
    assert "Skipped: x · b" in titles
    heights = {t.text: float(r.get("height")) for r in root.iter(f"{SVG}rect")
               if (t := r.find(f"{SVG}title")) is not None}
    assert heights["Changed: 10 · a"] == pytest.approx(2 * heights["Drift: 5 · a"])
    assert heights["Skipped: x · b"] == 0
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "10" in texts and "0" in texts  # y axis
    assert "01-01 03:00" in texts  # x axis


def test_trend_svg_all_zero_and_hostile_labels():
    svg = trend_svg(runs(5, zero=True), [("changed", "<Changed & co>", '"red"')])
    root = ET.fromstring(svg)
    assert all(float(r.get("height")) == 0 for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None)
    assert "<Changed & co>" in [t.text for t in root.iter(f"{SVG}text")]


# --- files -----------------------------------------------------------------------------------------


def test_report_path_is_stable_readable_and_reversible(tmp_path):
    path = report_path(tmp_path, STOCK_DAG, RUN_ID)
    assert path == report_path(tmp_path, STOCK_DAG, RUN_ID)
    assert path.parent == tmp_path / STOCK_DAG
    assert path.name == "scheduled__2026-03-01T03%3A00%3A00%2B00%3A00.html"
    assert run_id_from_filename(path.name) == RUN_ID
    for run_id in ("manual__2026-03-01T10:15:00.123456+00:00", "הרצה ידנית 🎉", "a/b\\c", ".hidden", "..", "~x%41"):
        name = report_path(tmp_path, STOCK_DAG, run_id).name
        assert "/" not in name and "\\" not in name and not name.startswith(".")
        assert run_id_from_filename(name) == run_id
    # Different run ids never share a file.
    assert len({report_path(tmp_path, STOCK_DAG, r).name for r in ("a:b", "a%3Ab", "a+b", "a b")}) == 4


def test_report_path_long_run_ids_are_hashed_and_distinct(tmp_path):
    a, b = "manual__" + "ש" * 240, "manual__" + "ש" * 239 + "ת"
    path_a, path_b = report_path(tmp_path, STOCK_DAG, a), report_path(tmp_path, STOCK_DAG, b)
    assert path_a != path_b
    assert len(path_a.name.encode()) < 255
    assert run_id_from_filename(path_a.name) is None


@pytest.mark.parametrize("dag_id", ["../../etc", "..", ".", "", "a/b", "/etc", "a\\b", ".hidden", "x\x00y", None])
def test_report_path_refuses_bad_dag_ids(tmp_path, dag_id):
    with pytest.raises(ValueError):
        report_path(tmp_path, dag_id, RUN_ID)


@pytest.mark.parametrize("run_id", ["../../etc/passwd", "..", "/etc/passwd", "..\\..\\x"])
def test_report_path_keeps_traversal_run_ids_inside(tmp_path, run_id):
    path = report_path(tmp_path, STOCK_DAG, run_id)
    assert path.parent == tmp_path / STOCK_DAG
    assert path.resolve().is_relative_to(tmp_path.resolve())


@pytest.mark.parametrize("run_id", ["", None, "a\x00b"])
def test_report_path_refuses_bad_run_ids(tmp_path, run_id):
    with pytest.raises(ValueError):
        report_path(tmp_path, STOCK_DAG, run_id)


def test_report_path_refuses_a_dag_folder_symlinked_out(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / STOCK_DAG).symlink_to(outside)
    with pytest.raises(ValueError):
        report_path(reports, STOCK_DAG, RUN_ID)


def test_write_report_is_atomic_and_leaves_no_temp_files(tmp_path):
    first = write_report(tmp_path, STOCK_DAG, RUN_ID, render_stock_report(stock_data()))
    second = write_report(tmp_path, STOCK_DAG, RUN_ID, "<p>retry ☕</p>")
    assert first == second == report_path(tmp_path, STOCK_DAG, RUN_ID)
    assert second.read_text(encoding="utf-8") == "<p>retry ☕</p>"
    assert [p.name for p in second.parent.iterdir()] == [second.name]
    assert second.stat().st_mode & 0o777 == 0o644


# --- log summary -----------------------------------------------------------------------------------


def test_text_summary_stock():
    changes = [{"name": f"מוצר {i}", "sku": f"S{i}", "woo_id": i, "field": "stock_quantity", "old": 1.0,
                "new": 2.0, "outcome": "applied"} for i in range(12)]
    summary = text_summary(stock_data(changes=changes))
    lines = summary.splitlines()
    assert lines[0] == f"{STOCK_DAG} {RUN_ID}: failed, 2 min 5 s"
    assert "changed=3" in summary and "api_calls=17" in summary
    assert "מוצר 0 [SKU S0, Woo 0] stock_quantity: 1 → 2 (applied)" in summary
    assert "מוצר 9 " in summary and "מוצר 10 " not in summary
    assert "… and 2 more" in summary
    assert len(lines) < 20


def test_text_summary_orders_and_empty():
    summary = text_summary(orders_data())
    assert "(dry run)" in summary
    assert "order 5001 → document 40012 (sale)" in summary
    assert "Parked, need a person (1):" in summary
    assert "Window: 2026-03-01 10:00:00+00:00 → 2026-03-01 10:15:00+00:00" in summary
    assert text_summary({}).splitlines()[0] == "? ?: unknown, –"
    assert text_summary(None)
