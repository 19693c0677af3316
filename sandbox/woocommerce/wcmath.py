"""PHP and WooCommerce number handling, as WooCommerce 9.4.3 on PHP 8.2 does it.

- ``php_round``: PHP's ``round()`` (before 8.4): the value is first rounded to 15 significant
  digits ("pre-rounding", so ``round(1.005, 2)`` is 1.01), then to ``places`` with the mode
  (``HALF_UP`` = PHP_ROUND_HALF_UP, away from zero; ``HALF_DOWN`` = PHP_ROUND_HALF_DOWN, towards
  zero). ``NumberUtil::round`` is this.
- ``wc_format_decimal``: a float becomes ``sprintf('%.6f')`` with the trailing zeros trimmed
  (``17.847457627`` -> ``"17.847458"``, ``18.0`` -> ``"18"``), an int its digits, a string is
  cleaned; with ``dp`` it is ``number_format`` (PHP rounding, half up). This is how order items
  store their amounts and how the REST API prints them (``dp`` = 2).
- ``WC_ROUNDING_PRECISION`` is 6, ``WC_DISCOUNT_ROUNDING_MODE`` is half down, and
  ``WC_TAX_ROUNDING_MODE`` is half down when prices are entered with tax, else half up
  (``class-woocommerce.php::define_constants``).
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

HALF_UP = 1  # PHP_ROUND_HALF_UP
HALF_DOWN = 2  # PHP_ROUND_HALF_DOWN
ROUNDING_PRECISION = 6  # wc_get_rounding_precision(): max(price decimals, WC_ROUNDING_PRECISION)
PRICE_DECIMALS = 2  # wc_get_price_decimals()


def php_round(value: Any, places: int = 0, mode: int = HALF_UP) -> float:
    value = to_float(value)
    if value == 0 or not math.isfinite(value):
        return value
    rounding = ROUND_HALF_UP if mode == HALF_UP else ROUND_HALF_DOWN
    try:
        exact = Decimal(repr(value))
        pre = exact.quantize(Decimal(1).scaleb(exact.adjusted() - 14), rounding=rounding)
        return float(pre.quantize(Decimal(1).scaleb(-places), rounding=rounding))
    except InvalidOperation:  # far beyond any price
        return value


def to_float(value: Any) -> float:
    """PHP ``(float)``: numbers as they are, numeric strings parsed, anything else 0."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    match = re.match(r"\s*[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)", str(value or ""))
    return float(match.group()) if match else 0.0


def php_number(value: Any) -> int | float:
    """A request value the way PHP arithmetic sees it: ints stay ints, other numbers are floats."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        return int(value)
    return to_float(value)


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def wc_format_decimal(value: Any, dp: int | None = None, trim_zeros: bool = False) -> str:
    if value is None:
        value = ""
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, float):
        text = None
    elif isinstance(value, int):
        text = str(value)
    else:
        text = re.sub(r"\.(?![^.]+$)|[^0-9.-]", "", str(value).strip())
    if dp is not None:
        number = php_round(value if text is None else to_float(text), dp)
        out = f"{number:.{dp}f}"
        if out.startswith("-") and float(out) == 0:
            out = out[1:]
        return _trim(out) if trim_zeros else out
    if text is None:
        return _trim(f"{value:.{ROUNDING_PRECISION}f}")
    return _trim(text) if trim_zeros else text


def money(value: Any) -> str:
    """An amount as the REST API prints it: ``wc_format_decimal(value, 2)``."""
    return wc_format_decimal(value if value not in (None, "") else 0, PRICE_DECIMALS)


def number(value: float) -> int | float:
    """A JSON number the way PHP prints a whole float here: ``10``, ``2.5`` (rec 71)."""
    return int(value) if float(value).is_integer() else value


def round_tax_total(value: Any, prices_include_tax: bool, precision: int = PRICE_DECIMALS) -> float:
    """``wc_round_tax_total``: the tax rounding mode follows ``woocommerce_prices_include_tax``."""
    return php_round(value, precision, HALF_DOWN if prices_include_tax else HALF_UP)


def round_discount(value: Any, precision: int = 0) -> float:
    """``wc_round_discount`` (WC_DISCOUNT_ROUNDING_MODE = half down)."""
    return php_round(value, precision, HALF_DOWN)


def add_precision(value: Any, rounded: bool = True) -> float:
    """``wc_add_number_precision``: to cents, rounded to 4 places unless ``rounded`` is False."""
    cents = to_float(value) * 10 ** PRICE_DECIMALS
    return php_round(cents, ROUNDING_PRECISION - PRICE_DECIMALS) if rounded else cents


def remove_precision(value: Any) -> float:
    return to_float(value) / 10 ** PRICE_DECIMALS
