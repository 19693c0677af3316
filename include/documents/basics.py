"""Small helpers every module of the package shares: Woo's text and meta, and the `_Park` signal."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any


class _Park(Exception):
    """Raised inside the builders; turned into `Parked` at the public boundary."""


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _strip_tags(value: str) -> str:
    return re.sub(r"<[^>]*>", "", value).strip()


def _meta(line: Mapping[str, Any], key: str) -> Any:
    for entry in line.get("meta_data") or ():
        if isinstance(entry, Mapping) and entry.get("key") == key:
            return entry.get("value")
    return None


def _has_meta(line: Mapping[str, Any], key: str) -> bool:
    return any(isinstance(e, Mapping) and e.get("key") == key for e in line.get("meta_data") or ())


def _reason(problems: Sequence[str]) -> str:
    shown = list(problems[:5])
    if len(problems) > 5:
        shown.append(f"and {len(problems) - 5} more")
    return "; ".join(shown)
