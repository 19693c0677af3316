"""The store's settings (``/settings/<group>`` and ``/settings/<group>/<id>``, REST v3).

Shapes follow ``WC_REST_Setting_Options_Controller`` (V3 over V2): a setting is
``{id, label, description, type, default, options?, tip?, value}`` in the order
``WC_Register_WP_Admin_Settings::register_setting`` builds it; a single one (GET/PUT) adds
``group_id``; ``single_select_country`` is shown as ``select`` with the countries as options,
appended after ``value``. Unknown group -> 404 ``rest_setting_setting_group_invalid``, unknown id
-> 404 ``rest_setting_setting_invalid`` "Invalid setting."; a value a checkbox/select/radio does
not accept -> 400 ``rest_setting_value_invalid`` "An invalid setting value was passed."; a PUT
without ``value`` sets a checkbox to its default (``validate_setting_checkbox_field``).

Values live in the ``options`` table, so they survive a restart. This store is in Israel:
``woocommerce_default_country`` is "IL" (the setting's own default stays WooCommerce's "US:CA").
Simplified: only the settings the sandbox acts on or that sit beside them (general: store address,
taxes and coupons; tax: the whole "Tax options" section except the tax-classes textarea); the
country list of ``woocommerce_default_country`` is a short one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from sandbox.woocommerce.errors import RestError
from sandbox.woocommerce.store import options

COUNTRIES = {  # get_countries_and_states(): "CC" or "CC:STATE" -> "Country - State" (a short list)
    "AE": "United Arab Emirates", "CY": "Cyprus", "DE": "Germany", "EG": "Egypt", "FR": "France",
    "GB": "United Kingdom (UK)", "GR": "Greece", "IL": "Israel", "JO": "Jordan", "NL": "Netherlands",
    "PS": "Palestinian Territory", "US:CA": "United States (US) - California",
    "US:NY": "United States (US) - New York",
}
TAX_CLASS_OPTIONS = {"": "Standard", "reduced-rate": "Reduced rate", "zero-rate": "Zero rate"}


def _s(id_: str, label: str, description: str, type_: str, default: Any = None, options_: dict | None = None,
       tip: str | bool | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": id_, "label": label, "description": description, "type": type_}
    if default is not None:
        out["default"] = default
    if options_ is not None:
        out["options"] = options_
    if tip is True:
        out["tip"] = description
    elif tip:
        out["tip"] = tip
    return out


GROUPS: dict[str, list[dict[str, Any]]] = {
    "general": [
        _s("woocommerce_store_address", "Address line 1", "The street address for your business location.",
           "text", "", tip=True),
        _s("woocommerce_store_address_2", "Address line 2",
           "An additional, optional address line for your business location.", "text", "", tip=True),
        _s("woocommerce_store_city", "City", "The city in which your business is located.", "text", "", tip=True),
        _s("woocommerce_default_country", "Country / State",
           "The country and state or province, if any, in which your business is located.",
           "single_select_country", "US:CA", tip=True),
        _s("woocommerce_store_postcode", "Postcode / ZIP",
           "The postal code, if any, in which your business is located.", "text", "", tip=True),
        _s("woocommerce_calc_taxes", "Enable taxes", "Enable tax rates and calculations", "checkbox", "no",
           tip="Rates will be configurable and taxes will be calculated during checkout."),
        _s("woocommerce_enable_coupons", "Enable coupons", "Enable the use of coupon codes", "checkbox", "yes",
           tip="Coupons can be applied from the cart and checkout pages."),
        _s("woocommerce_calc_discounts_sequentially", "", "Calculate coupon discounts sequentially", "checkbox", "no",
           tip="When applying multiple coupons, apply the first coupon to the full price and the second coupon "
               "to the discounted price and so on."),
    ],
    "tax": [
        _s("woocommerce_prices_include_tax", "Prices entered with tax", "", "radio", "no",
           {"yes": "Yes, I will enter prices inclusive of tax", "no": "No, I will enter prices exclusive of tax"},
           "This option is important as it will affect how you input prices. Changing it will not update "
           "existing products."),
        _s("woocommerce_tax_based_on", "Calculate tax based on", "", "select", "shipping",
           {"shipping": "Customer shipping address", "billing": "Customer billing address",
            "base": "Shop base address"}, "This option determines which address is used to calculate tax."),
        _s("woocommerce_shipping_tax_class", "Shipping tax class",
           "Optionally control which tax class shipping gets, or leave it so shipping tax is based on the cart "
           "items themselves.", "select", "inherit",
           {"inherit": "Shipping tax class based on cart items", **TAX_CLASS_OPTIONS}, True),
        _s("woocommerce_tax_round_at_subtotal", "Rounding", "Round tax at subtotal level, instead of rounding per line",
           "checkbox", "no"),
        _s("woocommerce_tax_display_shop", "Display prices in the shop", "", "select", "excl",
           {"incl": "Including tax", "excl": "Excluding tax"}),
        _s("woocommerce_tax_display_cart", "Display prices during cart and checkout", "", "select", "excl",
           {"incl": "Including tax", "excl": "Excluding tax"}),
        _s("woocommerce_price_display_suffix", "Price display suffix", "", "text", "",
           tip="Define text to show after your product prices. This could be, for example, \"inc. Vat\" to explain "
               "your pricing. You can also have prices substituted here using one of the following: "
               "{price_including_tax}, {price_excluding_tax}."),
        _s("woocommerce_tax_total_display", "Display tax totals", "", "select", "itemized",
           {"single": "As a single total", "itemized": "Itemized"}),
    ],
}
DEFINITIONS = {s["id"]: (group, s) for group, settings in GROUPS.items() for s in settings}
STORE_VALUES = {"woocommerce_default_country": "IL"}  # what this store saved at setup
# Short names for the testing helpers (woo_sandbox(calc_taxes=True, ...), WooSandbox.set_settings).
ALIASES = {
    "calc_taxes": "woocommerce_calc_taxes", "prices_include_tax": "woocommerce_prices_include_tax",
    "tax_based_on": "woocommerce_tax_based_on", "tax_round_at_subtotal": "woocommerce_tax_round_at_subtotal",
    "shipping_tax_class": "woocommerce_shipping_tax_class", "default_country": "woocommerce_default_country",
    "store_postcode": "woocommerce_store_postcode", "store_city": "woocommerce_store_city",
    "calc_discounts_sequentially": "woocommerce_calc_discounts_sequentially",
    "enable_coupons": "woocommerce_enable_coupons",
}


def _default(option: str) -> str:
    return STORE_VALUES.get(option, DEFINITIONS[option][1].get("default", ""))


def load(conn: Connection) -> dict[str, str]:
    """Every known option: stored value, else the store's value, else the setting's default."""
    stored = dict(conn.execute(select(options.c.name, options.c.value)).all())
    return {name: stored.get(name, _default(name)) for name in DEFINITIONS}


def save_option(conn: Connection, name: str, value: str) -> None:
    if conn.execute(select(options.c.name).where(options.c.name == name)).first() is None:
        conn.execute(insert(options).values(name=name, value=value))
    else:
        conn.execute(update(options).where(options.c.name == name).values(value=value))


@dataclass(frozen=True)
class Options:
    """The options the order calculations read, parsed."""

    values: dict[str, str]

    @property
    def calc_taxes(self) -> bool:  # wc_tax_enabled()
        return self.values["woocommerce_calc_taxes"] == "yes"

    @property
    def prices_include_tax(self) -> bool:  # wc_prices_include_tax() (needs taxes on)
        return self.calc_taxes and self.values["woocommerce_prices_include_tax"] == "yes"

    @property
    def prices_entered_with_tax(self) -> bool:  # the option itself (orders' prices_include_tax, rounding mode)
        return self.values["woocommerce_prices_include_tax"] == "yes"

    @property
    def tax_based_on(self) -> str:
        return self.values["woocommerce_tax_based_on"]

    @property
    def round_at_subtotal(self) -> bool:
        return self.values["woocommerce_tax_round_at_subtotal"] == "yes"

    @property
    def shipping_tax_class(self) -> str:
        return self.values["woocommerce_shipping_tax_class"]

    @property
    def sequential_discounts(self) -> bool:
        return self.values["woocommerce_calc_discounts_sequentially"] == "yes"

    @property
    def base(self) -> dict[str, str]:
        """WC()->countries base country/state/postcode/city."""
        country, _, state = self.values["woocommerce_default_country"].partition(":")
        return {"country": country, "state": state, "postcode": self.values["woocommerce_store_postcode"],
                "city": self.values["woocommerce_store_city"]}


def options_of(conn: Connection) -> Options:
    return Options(load(conn))


# ----------------------------------------------------------------------------------------------
# REST

def _group(group_id: str) -> list[dict[str, Any]]:
    if group_id not in GROUPS:
        raise RestError("rest_setting_setting_group_invalid", "Invalid setting group.", 404)
    return GROUPS[group_id]


def _view(api: str, group_id: str, setting: dict[str, Any], value: str, single: bool) -> dict[str, Any]:
    out = {k: v for k, v in setting.items()}
    out["value"] = value
    if out["type"] == "single_select_country":
        out["type"] = "select"
        out["options"] = dict(COUNTRIES)
    if single:
        out["group_id"] = group_id
    out["_links"] = {
        "self": [{"href": f"{api}/settings/{group_id}/{setting['id']}"}],
        "collection": [{"href": f"{api}/settings/{group_id}"}],
    }
    return out


def list_group(api: str, conn: Connection, group_id: str) -> list[dict[str, Any]]:
    values = load(conn)
    return [_view(api, group_id, s, values[s["id"]], single=False) for s in _group(group_id)]


def _setting(group_id: str, setting_id: str) -> dict[str, Any]:
    found = next((s for s in _group(group_id) if s["id"] == setting_id), None)
    if found is None:
        raise RestError("rest_setting_setting_invalid", "Invalid setting.", 404)
    return found


def get_setting(api: str, conn: Connection, group_id: str, setting_id: str) -> dict[str, Any]:
    setting = _setting(group_id, setting_id)
    return _view(api, group_id, setting, load(conn)[setting_id], single=True)


def validate_value(setting: dict[str, Any], value: Any) -> str:
    """``validate_setting_<type>_field``."""
    invalid = RestError("rest_setting_value_invalid", "An invalid setting value was passed.", 400)
    kind = setting["type"]
    if kind == "checkbox":
        if value in ("yes", "no"):
            return value
        if value in (None, "", 0, "0", False, []):
            return setting.get("default", "no")
        raise invalid
    if kind in ("select", "radio", "single_select_country"):
        choices = COUNTRIES if kind == "single_select_country" else setting.get("options", {})
        key = "" if value is None or value is False else str(int(value) if value is True else value)
        if isinstance(value, (list, dict)) or key not in choices:
            raise invalid
        return key
    if isinstance(value, (list, dict)):
        raise invalid
    return "" if value is None else str(value).strip()


def update_setting(api: str, conn: Connection, group_id: str, setting_id: str, value: Any) -> dict[str, Any]:
    setting = _setting(group_id, setting_id)
    stored = validate_value(setting, value)
    save_option(conn, setting_id, stored)
    return _view(api, group_id, setting, stored, single=True)


def set_options(conn: Connection, **values: Any) -> dict[str, str]:
    """Testing helper: set options by full name or alias; True/False become "yes"/"no"."""
    for key, value in values.items():
        name = ALIASES.get(key, key)
        if name not in DEFINITIONS:
            raise KeyError(f"unknown setting {key!r}; known: {sorted(ALIASES)} or {sorted(DEFINITIONS)}")
        if isinstance(value, bool):
            value = "yes" if value else "no"
        save_option(conn, name, validate_value(DEFINITIONS[name][1], value))
    return load(conn)
