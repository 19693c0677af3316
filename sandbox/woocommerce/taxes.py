"""Tax rates, tax classes and ``WC_Tax``'s matching and arithmetic.

REST (``WC_REST_Taxes_Controller`` V3 over V1): a rate is ``{id, country, state, postcode, city,
rate, name, priority, compound, shipping, order, class, postcodes, cities, _links}``; ``rate`` is
the stored string (``number_format(rate, 4)``: "18.0000"); ``postcode``/``city`` repeat the last
postcode/city of the rate (V1 fields); ``class`` is "standard" for the standard class. Writes
follow ``create_or_update_tax``: country/state upper-cased ("*" = all), a posted ``postcodes`` /
``cities`` list replaces the locations only when it is not empty (``postcode``/``city`` accept
"A;B"), create defaults are priority 1, compound false, shipping true, class standard. Missing
ids: GET 404 / PUT 404 / DELETE 400 ``woocommerce_rest_invalid_id``; DELETE without
``force=true`` -> 501 ``woocommerce_rest_trash_not_supported``.

Tax classes are WooCommerce's defaults, "Standard rate" plus "Reduced rate" and "Zero rate"
(``GET /taxes/classes``); creating or deleting classes is not emulated.

``find_rates`` is ``WC_Tax::get_matched_tax_rates``: country and state equal or empty, the class
equal, and the locations: a rate without postcodes and cities matches everywhere; with postcodes
one of them must match (exact, a wildcard such as "88*", or a range "88000...88999") and, if it
also has cities, the city too; with cities only, the city. Matches are sorted (priority, then
rates with a country/state before those without, then more postcodes, more cities, then id) and
the first of each priority is taken. ``calc_tax`` is ``WC_Tax::calc_tax`` (compound rates
included), each tax rounded to 6 places.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection

from sandbox.woocommerce import products as P
from sandbox.woocommerce.errors import RestError
from sandbox.woocommerce.products import sanitize_title
from sandbox.woocommerce.store import tax_rates
from sandbox.woocommerce.wcmath import ROUNDING_PRECISION, php_round, to_float

CLASS_SLUGS = list(P.TAX_CLASS_SLUGS)  # wc_tax_rate_classes, ordered by name
TAX_CLASSES = list(zip(CLASS_SLUGS, ["Reduced rate", "Zero rate"], strict=True))

_STR = {"type": "string"}
TAX_SCHEMA: dict[str, dict[str, Any]] = {
    "country": _STR, "state": _STR, "postcode": _STR, "city": _STR, "rate": _STR, "name": _STR,
    "priority": {"type": "integer"}, "compound": {"type": "boolean"}, "shipping": {"type": "boolean"},
    "order": {"type": "integer"}, "class": {"type": "string", "enum": ["standard", *CLASS_SLUGS]},
    "postcodes": {"type": "array", "items": _STR}, "cities": {"type": "array", "items": _STR},
}
TAX_CREATE_DEFAULTS = {"priority": 1, "compound": False, "shipping": True, "class": "standard"}
TAX_LIST_SCHEMA: dict[str, dict[str, Any]] = {
    "context": {"type": "string", "enum": ["view", "edit"]},
    "page": {"type": "integer", "minimum": 1}, "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
    "offset": {"type": "integer"}, "order": {"type": "string", "enum": ["asc", "desc"]},
    "orderby": {"type": "string", "enum": ["id", "order", "priority"]},
    "class": {"type": "string", "enum": ["standard", *CLASS_SLUGS]},
}


# ----------------------------------------------------------------------------------------------
# Rows and views

def get_rate(conn: Connection, rate_id: Any) -> dict[str, Any] | None:
    try:
        rate_id = int(rate_id)
    except (TypeError, ValueError):
        return None
    row = conn.execute(select(tax_rates).where(tax_rates.c.id == rate_id)).mappings().first()
    return dict(row) if row else None


def rate_view(api: str, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"], "country": row["country"], "state": row["state"],
        "postcode": row["postcodes"][-1] if row["postcodes"] else "",
        "city": row["cities"][-1] if row["cities"] else "",
        "rate": row["rate"], "name": row["name"], "priority": row["priority"], "compound": bool(row["compound"]),
        "shipping": bool(row["shipping"]), "order": row["rate_order"], "class": row["rate_class"] or "standard",
        "postcodes": list(row["postcodes"]), "cities": list(row["cities"]),
        "_links": {"self": [{"href": f"{api}/taxes/{row['id']}"}], "collection": [{"href": f"{api}/taxes"}]},
    }


def rate_code(row: dict[str, Any] | None) -> str:
    """``WC_Tax::get_rate_code``: COUNTRY-STATE-NAME-PRIORITY without empty parts ("IL-VAT-1")."""
    if row is None:
        return ""
    parts = [row["country"], row["state"], row["name"] or "TAX", str(abs(int(row["priority"])))]
    return "-".join(p for p in parts if p and p != "0").upper()


def rate_label(row: dict[str, Any] | None) -> str:
    """``WC_Tax::get_rate_label``: the name, else ``tax_or_vat()`` ("Tax" outside the EU)."""
    return (row or {}).get("name") or "Tax"


def _clean(value: Any) -> str:
    """``wc_clean`` of a scalar: true -> "1", false/None -> ""."""
    if value is True:
        return "1"
    if value is False or value is None:
        return ""
    return str(value).strip()


def _locations(value: Any) -> list[str]:
    parts = value if isinstance(value, list) else str(value).split(";")
    out = []
    for part in parts:
        text = str(part).replace("\u2026", "...").strip().upper()
        if text and text != "*":
            out.append(text)
    return out


def create_or_update(conn: Connection, req: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, Any]:
    """``create_or_update_tax`` + ``WC_Tax::prepare_tax_rate`` + the V3 postcodes/cities."""
    req = dict(req)
    if req.get("cities") is not None:
        req["city"] = ";".join(str(c) for c in req["cities"])
    if req.get("postcodes") is not None:
        req["postcode"] = ";".join(str(p) for p in req["postcodes"])
    data: dict[str, Any] = {}
    if req.get("country") is not None:
        country = _clean(req["country"]).upper()
        data["country"] = "" if country == "*" else country
    if req.get("state") is not None:
        state = "".join(ch for ch in _clean(req["state"]).lower() if ch.isalnum() or ch in "_-").upper()  # sanitize_key
        data["state"] = "" if state == "*" else state
    if req.get("rate") is not None:
        data["rate"] = f"{php_round(to_float(_clean(req['rate'])), 4):.4f}"
    if req.get("name") is not None:
        data["name"] = _clean(req["name"]) or "Tax"
    if req.get("priority") is not None:
        data["priority"] = abs(int(to_float(req["priority"])))
    for key in ("compound", "shipping"):
        if req.get(key) is not None:
            data[key] = _clean(req[key]) not in ("", "0")
    if req.get("order") is not None:
        data["rate_order"] = int(to_float(req["order"]))
    if req.get("class") is not None:
        cls = sanitize_title(_clean(req["class"]))
        data["rate_class"] = cls if cls in CLASS_SLUGS else ""
    if req.get("postcode"):
        data["postcodes"] = _locations(_clean(req["postcode"]))
    if req.get("city"):
        data["cities"] = _locations(_clean(req["city"]))
    if current is None:
        row = {"country": "", "state": "", "rate": "", "name": "", "priority": 1, "compound": False,
               "shipping": True, "rate_order": 0, "rate_class": "", "postcodes": [], "cities": [], **data}
        rate_id = conn.execute(insert(tax_rates).values(**row)).inserted_primary_key[0]
    else:
        rate_id = current["id"]
        if data:
            conn.execute(update(tax_rates).where(tax_rates.c.id == rate_id).values(**data))
    return get_rate(conn, rate_id)


def list_rates(conn: Connection, args: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    column = {"id": tax_rates.c.id, "priority": tax_rates.c.priority}.get(args.get("orderby") or "order",
                                                                           tax_rates.c.rate_order)
    where = []
    if args.get("class"):
        where.append(tax_rates.c.rate_class == ("" if args["class"] == "standard" else args["class"]))
    per_page = args.get("per_page") or 10
    offset = args["offset"] if args.get("offset") else ((args.get("page") or 1) - 1) * per_page
    ordering = column.desc() if args.get("order") == "desc" else column.asc()
    rows = conn.execute(select(tax_rates).where(*where).order_by(ordering, tax_rates.c.id)
                        .limit(per_page).offset(offset)).mappings()
    total = conn.execute(select(func.count()).select_from(tax_rates).where(*where)).scalar()
    return [dict(r) for r in rows], total


def delete_rate(conn: Connection, rate_id: int) -> None:
    conn.execute(delete(tax_rates).where(tax_rates.c.id == rate_id))


def must_rate(conn: Connection, rate_id: Any, status: int) -> dict[str, Any]:
    row = get_rate(conn, rate_id)
    if row is None:
        raise RestError("woocommerce_rest_invalid_id", "Invalid resource ID.", status)
    return row


def classes_view(api: str) -> list[dict[str, Any]]:
    """``GET /taxes/classes``: "standard" first, then the additional classes."""
    links = {"collection": [{"href": f"{api}/taxes/classes"}]}
    return [{"slug": slug, "name": name, "_links": links}
            for slug, name in [("standard", "Standard rate"), *TAX_CLASSES]]


# ----------------------------------------------------------------------------------------------
# Matching

def normalize_postcode(postcode: str) -> str:
    """``wc_normalize_postcode``: upper case, no spaces or dashes."""
    return "".join(ch for ch in str(postcode or "").strip().upper() if ch not in " \t\n-")


def wildcard_postcodes(postcode: str) -> list[str]:
    """``wc_get_wildcard_postcodes``: the postcode and each of its prefixes followed by "*"."""
    formatted = str(postcode).strip()
    out = [postcode, formatted, f"{formatted}*"]
    out += [f"{formatted[:len(formatted) - i - 1]}*" for i in range(len(formatted))]
    return [p for p in out if p]


def _numeric_postcode(postcode: str) -> str:
    """``wc_make_numeric_postcode``: each character as two digits (A=01 ... Z=26)."""
    out = ""
    for ch in postcode.replace(" ", "").replace("-", ""):
        if ch.isdigit():
            out += ch.zfill(2)
        elif "A" <= ch <= "Z":
            out += str(ord(ch) - 64).zfill(2)
        else:
            out += "00"
    return out


def _in_range(postcode: str, code: str) -> bool:
    """One ``wc_postcode_location_matcher`` range test ("88000...88999")."""
    bounds = [b.strip() for b in code.split("...")]
    if len(bounds) != 2:
        return False
    low, high = bounds
    try:
        return float(low) <= float(postcode) <= float(high)
    except ValueError:
        compare = _numeric_postcode(postcode)
        low = _numeric_postcode(low).ljust(len(compare), "0")
        high = _numeric_postcode(high).ljust(len(compare), "0")
        return low <= compare <= high


def find_rates(conn: Connection, country: str, state: str, postcode: str, city: str,
               tax_class: str) -> dict[int, dict[str, Any]]:
    """``WC_Tax::find_rates``: ``{rate_id: {"rate", "label", "shipping", "compound", "row"}}`` in order."""
    if not country:
        return {}
    country, state, city = country.upper(), (state or "").upper(), (city or "").strip().upper()
    postcode = normalize_postcode(postcode)
    tax_class = sanitize_title(str(tax_class or ""))
    rows = [dict(r) for r in conn.execute(select(tax_rates).where(
        tax_rates.c.country.in_([country, ""]), tax_rates.c.state.in_([state, ""]),
        tax_rates.c.rate_class == tax_class)).mappings()]
    if not rows:
        return {}
    search = set(wildcard_postcodes(postcode))
    ranges = {code for row in conn.execute(select(tax_rates.c.postcodes)).scalars() for code in row if "..." in code}
    search |= {code for code in ranges if _in_range(postcode, code)}
    found = []
    for row in rows:
        postcodes, cities = row["postcodes"], row["cities"]
        if postcodes:
            ok = any(p in search for p in postcodes) and (not cities or city in cities)
        elif cities:
            ok = city in cities
        else:
            ok = True
        if ok:
            found.append(row)

    def key(row: dict[str, Any]) -> tuple:
        return (row["priority"], row["country"] == "", row["country"], row["state"] == "", row["state"],
                -len(row["postcodes"]), -len(row["cities"]), row["id"])

    matched: dict[int, dict[str, Any]] = {}
    priorities: set[int] = set()
    for row in sorted(found, key=key):
        if row["priority"] in priorities:
            continue
        priorities.add(row["priority"])
        matched[row["id"]] = {"rate": to_float(row["rate"]), "label": row["name"], "shipping": bool(row["shipping"]),
                              "compound": bool(row["compound"]), "row": row}
    return matched


def find_shipping_rates(conn: Connection, country: str, state: str, postcode: str, city: str,
                        tax_class: str) -> dict[int, dict[str, Any]]:
    return {k: r for k, r in find_rates(conn, country, state, postcode, city, tax_class).items() if r["shipping"]}


# ----------------------------------------------------------------------------------------------
# Arithmetic

def _round(value: float) -> float:
    return php_round(value, ROUNDING_PRECISION)  # WC_Tax::round


def calc_tax(price: Any, rates: dict[int, dict[str, Any]], price_includes_tax: bool = False) -> dict[int, float]:
    """``WC_Tax::calc_tax``: the tax of each rate on ``price``, each rounded to 6 places."""
    price = to_float(price)
    taxes: dict[int, float] = {}
    if price_includes_tax:
        compound = {k: r["rate"] for k, r in rates.items() if r["compound"]}
        regular = {k: r["rate"] for k, r in rates.items() if not r["compound"]}
        for key in rates:
            taxes[key] = 0.0
        non_compound = price
        for key, rate in reversed(list(compound.items())):
            amount = non_compound - non_compound / (1 + rate / 100)
            taxes[key] += amount
            non_compound -= amount
        regular_rate = 1 + sum(regular.values()) / 100
        for key, rate in regular.items():
            the_rate = (rate / 100) / regular_rate
            net = price - the_rate * non_compound
            taxes[key] += price - net
    elif rates:
        for key, r in rates.items():
            if not r["compound"]:
                taxes[key] = taxes.get(key, 0.0) + price * (r["rate"] / 100)
        pre_compound = sum(taxes.values())
        for key, r in rates.items():
            if r["compound"]:
                taxes[key] = taxes.get(key, 0.0) + (price + pre_compound) * (r["rate"] / 100)
                pre_compound = sum(taxes.values())
    return {k: _round(v) for k, v in taxes.items()}
