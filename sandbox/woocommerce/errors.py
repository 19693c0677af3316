"""WordPress REST errors and the schema validation WP runs before a WooCommerce handler.

The error envelope is ``{"code", "message", "data": {"status", ...}}`` (woocommerce-api.md A6).
``validate`` mirrors ``WP_REST_Request::has_valid_params`` + ``sanitize_params``: every invalid
argument is reported in ``data.params`` / ``data.details``; null values skip validation and are
then sanitised to the type's zero value (that is why ``stock_quantity: null`` sets 0, rec 164).
Batch items never come through here (A4: they skip schema validation).
"""

from __future__ import annotations

import re
from typing import Any


class RestError(Exception):
    """A WP_Error on its way to the client. ``data`` is the error data besides ``status``."""

    def __init__(self, code: str, message: str, status: int, **data: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.data = data
        # WC sometimes passes a bare number as error data (refunds: ``new WP_Error(code, msg, 500)``);
        # WP then answers HTTP 500 with ``"data": 500`` instead of an object.
        self.raw_data: Any = None
        # set when the real store consumed a post id before failing (a refund the gateway refused)
        self.burns_post_id = False

    def body(self) -> dict[str, Any]:
        data = self.raw_data if self.raw_data is not None else {"status": self.status, **self.data}
        return {"code": self.code, "message": self.message, "data": data}


def invalid_id(kind: str, status: int) -> RestError:
    """``woocommerce_rest_<post_type>_invalid_id`` (rec 14-16, 94, 120)."""
    return RestError(f"woocommerce_rest_{kind}_invalid_id", "Invalid ID.", status)


# A tiny subset of JSON Schema, as WordPress applies it to REST arguments.
# Each spec: {"type": "integer"|"boolean"|"string"|"number"|"array"|"object"|[types],
#             "enum": [...], "minimum": n, "maximum": n, "format": "date-time", "items": {...}}

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}(?::\d{2})?)?$")


def _wp_list(items: list[str]) -> str:
    """``wp_sprintf_l('%l')``: "a, b, and c" / "a and b"."""
    if len(items) == 1:
        return items[0]
    if len(items) == 2:
        return f"{items[0]} and {items[1]}"
    return ", ".join(items[:-1]) + ", and " + items[-1]


def is_integer(value: Any) -> bool:
    """``rest_is_integer``: numeric and whole ("4" and 4.0 pass, 2.5 and "abc" do not)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return value.is_integer()
    if isinstance(value, str):
        try:
            return float(value.strip()).is_integer() and value.strip() != ""
        except ValueError:
            return False
    return False


def is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    if isinstance(value, str):
        try:
            float(value)
            return True
        except ValueError:
            return False
    return False


def is_boolean(value: Any) -> bool:
    """``rest_is_boolean``: true/false, "true"/"false"/"1"/"0", 1/0 - but not "yes" (rec 167)."""
    if isinstance(value, bool):
        return True
    if isinstance(value, str):
        return value.lower() in ("true", "false", "1", "0")
    if isinstance(value, int):
        return value in (0, 1)
    return False


def to_bool(value: Any) -> bool:
    """``rest_sanitize_boolean``."""
    if isinstance(value, str):
        return value.lower() not in ("false", "0", "")
    return bool(value)


def parse_list(value: Any) -> list:
    """``wp_parse_list``: arrays stay, strings split on commas/spaces."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value.values())
    if value is None:
        return []
    return [part for part in re.split(r"[\s,]+", str(value)) if part != ""]


_TYPE_CHECKS = {
    "integer": is_integer,
    "number": is_number,
    "boolean": is_boolean,
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, (list, str)),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


def _check(name: str, value: Any, spec: dict[str, Any]) -> tuple[str, str, Any] | None:
    """The first problem with one value as (code, message, details data), or None."""
    types = spec.get("type")
    types = types if isinstance(types, list) else [types] if types else []
    if types and not any(_TYPE_CHECKS[t](value) for t in types):
        return "rest_invalid_type", f"{name} is not of type {','.join(types)}.", {"param": name}
    if "array" in types and not isinstance(value, dict):
        for i, item in enumerate(parse_list(value)):
            problem = _check(f"{name}[{i}]", item, spec.get("items", {}))
            if problem:
                return problem
        return None
    if "enum" in spec and value not in spec["enum"]:
        return "rest_not_in_enum", f"{name} is not one of {_wp_list(list(spec['enum']))}.", None
    if spec.get("format") == "date-time" and not DATE_RE.match(str(value)):
        return "rest_invalid_date", "Invalid date.", None
    if ("integer" in types or "number" in types) and value is not None:
        low, high, number = spec.get("minimum"), spec.get("maximum"), float(value)
        if low is not None and high is not None and not low <= number <= high:
            return "rest_out_of_bounds", f"{name} must be between {low} (inclusive) and {high} (inclusive)", None
        if low is not None and number < low:
            return "rest_out_of_bounds", f"{name} must be greater than or equal to {low}", None
        if high is not None and number > high:
            return "rest_out_of_bounds", f"{name} must be less than or equal to {high}", None
    return None


def sanitize(value: Any, spec: dict[str, Any]) -> Any:
    """``rest_sanitize_value_from_schema`` for the types used here."""
    types = spec.get("type")
    types = types if isinstance(types, list) else [types] if types else []
    if value is None:
        if "null" in types or not types:
            return None
        return {"integer": 0, "number": 0, "string": "", "boolean": False, "array": [], "object": {}}[types[0]]
    if "array" in types:
        return [sanitize(item, spec.get("items", {})) for item in parse_list(value)]
    if "integer" in types and is_integer(value):
        return int(float(value))
    if "number" in types and is_number(value):
        return float(value)
    if "boolean" in types:
        return to_bool(value)
    return value


def validate(params: dict[str, Any], schema: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Check ``params`` against ``schema`` (as WP does before dispatch) and return them sanitised.

    Unknown keys pass through untouched, as in WordPress.
    """
    bad: dict[str, tuple[str, str, Any]] = {}
    for name, spec in schema.items():
        if name in params and params[name] is not None:
            problem = _check(name, params[name], spec)
            if problem:
                bad[name] = problem
    if bad:
        raise RestError(
            "rest_invalid_param",
            f"Invalid parameter(s): {', '.join(bad)}",
            400,
            params={name: msg for name, (_, msg, _) in bad.items()},
            details={name: {"code": code, "message": msg, "data": data} for name, (code, msg, data) in bad.items()},
        )
    out = dict(params)
    for name, spec in schema.items():
        if name in out:
            out[name] = sanitize(out[name], spec)
    return out
