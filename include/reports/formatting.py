"""Value formatting shared by the HTML pages, the trend chart and the log summary (include/reports)."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any


def _e(value: Any) -> str:
    """Escape any value for HTML text and attributes; None and NaN become an en dash."""
    return html.escape(_plain(value), quote=True)


def _plain(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        # Stock figures arrive as floats from pandas; 12.0 reads better as 12.
        return str(int(value)) if value.is_integer() else f"{value:g}"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(v) for v in value)
    return str(value)


def _when(value: Any) -> str:
    """A time as 'YYYY-MM-DD HH:MM:SS+00:00', whether it came as a datetime or an ISO string."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return _plain(value)


def _number(value: Any) -> float:
    """A count for charts and totals: anything that is not a finite non-negative number is 0."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) and number > 0 else 0.0


def _duration(seconds: Any) -> str:
    try:
        total = float(seconds)
    except (TypeError, ValueError):
        return "–"
    if not math.isfinite(total) or total < 0:
        return "–"
    if total < 60:
        return f"{total:.1f} s"
    minutes, secs = divmod(int(round(total)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min {secs} s" if hours else f"{minutes} min {secs} s"


def _rows(value: Any) -> list[Mapping]:
    """Rows of a table, tolerating None, a non-list or odd items."""
    if value is None or isinstance(value, (str, bytes, Mapping)):
        return []
    try:
        items = list(value)
    except TypeError:
        return []
    return [item if isinstance(item, Mapping) else {"detail": item} for item in items]


def _mapping(value: Any) -> Mapping:
    return value if isinstance(value, Mapping) else {}


def _doc_kind(doc_key: Any) -> str:
    """The ledger's doc_key is ``sale``, ``refund:<id>`` or ``cancel``; the kind is its first part."""
    return str(doc_key or "").split(":", 1)[0] or "–"
