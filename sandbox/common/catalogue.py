"""Datasets both sandboxes load: one catalogue, seen from the store and from OfficeGuy.

A dataset is named on the command line (``--dataset demo``, ``--dataset bench:10000``,
``--dataset empty``). Both sandboxes build the same ``Catalogue`` from the name (it is
deterministic), the WooCommerce sandbox loads ``catalogue.products`` with their ids, the
OfficeGuy sandbox loads ``catalogue.items`` (whose ``external_identifier`` holds those Woo ids,
as the official plugin leaves them).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

FIRST_WOO_ID = 10  # the recorded store's first product id (woocommerce-recordings 01)


@dataclass
class WooVariation:
    id: int
    sku: str
    option: str  # attribute value, e.g. size "M"
    price: str
    manage_stock: bool  # False + parent manages -> manage_stock "parent"
    stock_quantity: int | None = None
    stock_status: str = "instock"
    backorders: str = "no"
    low_stock_amount: int | None = None


@dataclass
class WooProduct:
    id: int
    name: str
    sku: str
    type: str  # simple | variable
    price: str
    manage_stock: bool
    stock_quantity: int | None = None
    stock_status: str = "instock"
    backorders: str = "no"
    low_stock_amount: int | None = None
    sold_individually: bool = False
    status: str = "publish"
    attribute: str = ""  # the variation attribute's name for variable products
    variations: list[WooVariation] = field(default_factory=list)
    meta_data: list[dict] = field(default_factory=list)


@dataclass
class OgItem:
    id: int
    name: str
    sku: str
    price: float
    stock: float
    external_identifier: str = ""


@dataclass
class Catalogue:
    name: str
    products: list[WooProduct] = field(default_factory=list)
    items: list[OgItem] = field(default_factory=list)


HEBREW_NOUNS = [
    "חולצה", "מכנסיים", "כובע", "צעיף", "כוס קפה", "מחברת", "עט", "תיק גב", "ספל", "נעלי ספורט",
    "שמן זית", "דבש", "יין אדום", "גבינה", "לחם מחמצת", "כרטיס להופעה", "ספר בישול", "פאזל",
    "משחק קופסה", "נר ריחני",
]
HEBREW_ADJECTIVES = ["כחול", "אדום", "ירוק", "גדול", "קטן", "מהודר", "קלאסי", "חדש", "אורגני", "ישן"]
SIZES = ["S", "M", "L", "XL"]


def build(name: str) -> Catalogue:
    """The catalogue called ``name``: ``empty``, ``demo`` or ``bench:N``."""
    if name == "empty":
        return Catalogue(name)
    if name == "demo":
        return _generate(name, n_products=300, variable_share=0.2, seed=7, demo=True)
    if name.startswith("bench:"):
        n = int(name.split(":", 1)[1])
        return _generate(name, n_products=n, variable_share=0.2, seed=11, demo=False)
    raise ValueError(f"unknown dataset {name!r}: use empty, demo or bench:N")


def _generate(name: str, n_products: int, variable_share: float, seed: int, demo: bool) -> Catalogue:
    rnd = random.Random(seed)
    cat = Catalogue(name)
    next_id = FIRST_WOO_ID
    og_id = 1000
    n_variable = int(n_products * variable_share)
    variable_slots = set(rnd.sample(range(n_products), n_variable))
    for i in range(n_products):
        noun = HEBREW_NOUNS[i % len(HEBREW_NOUNS)]
        adj = HEBREW_ADJECTIVES[(i // len(HEBREW_NOUNS)) % len(HEBREW_ADJECTIVES)]
        pname = f"{noun} {adj} {i + 1}" if demo else f"Product {i + 1}"
        sku = f"SKU-{i + 1:05d}"
        price = f"{rnd.randint(5, 400)}.{rnd.choice(['00', '50', '90'])}"
        # demo: a few products without SKU, some unmanaged, some with backorders
        if demo and i % 37 == 5:
            sku = ""
        managed = not (demo and i % 9 == 4)
        backorders = "notify" if demo and i % 23 == 3 else "no"
        qty = rnd.randint(0, 60)
        if i in variable_slots:
            parent_managed = demo and i % 5 == 0
            product = WooProduct(
                id=next_id, name=pname, sku=sku, type="variable", price=price,
                manage_stock=parent_managed, stock_quantity=qty if parent_managed else None,
                attribute="מידה" if demo else "size",
            )
            next_id += 1
            for size in SIZES:
                vqty = rnd.randint(0, 25)
                var = WooVariation(
                    id=next_id, sku=f"{sku}-{size}" if sku else "", option=size, price=price,
                    manage_stock=not parent_managed, stock_quantity=None if parent_managed else vqty,
                )
                next_id += 1
                product.variations.append(var)
                if not parent_managed:
                    var.stock_status = "instock" if vqty > 0 else "outofstock"
                    og_id += 1
                    cat.items.append(_og_item(rnd, og_id, f"{pname} - {size}", var.sku, var.id, vqty, demo, i))
            if parent_managed:
                product.stock_status = "instock" if qty > 0 else "outofstock"
                og_id += 1
                cat.items.append(_og_item(rnd, og_id, pname, sku, product.id, qty, demo, i))
            else:
                statuses = [v.stock_status for v in product.variations]
                product.stock_status = "instock" if "instock" in statuses else "outofstock"
            cat.products.append(product)
            continue
        product = WooProduct(
            id=next_id, name=pname, sku=sku, type="simple", price=price, manage_stock=managed,
            stock_quantity=qty if managed else None, backorders=backorders if managed else "no",
            low_stock_amount=5 if demo and i % 11 == 0 and managed else None,
            sold_individually=demo and i % 29 == 7,
        )
        next_id += 1
        if managed:
            product.stock_status = "instock" if qty > 0 else ("onbackorder" if backorders != "no" else "outofstock")
        else:
            product.stock_status = rnd.choice(["instock", "instock", "outofstock", "onbackorder"])
        cat.products.append(product)
        if demo and i % 31 == 9:
            continue  # a store product OfficeGuy has no card for
        og_id += 1
        cat.items.append(_og_item(rnd, og_id, pname, sku, product.id, qty, demo, i))
    if demo:
        # cards that exist only in OfficeGuy (services, discontinued goods)
        for j in range(8):
            og_id += 1
            cat.items.append(OgItem(og_id, f"שירות התקנה {j + 1}", f"SRV-{j + 1:03d}", 120.0, 0.0))
    return cat


def _og_item(rnd, og_id, name, sku, woo_id, woo_qty, demo, i) -> OgItem:
    stock = float(woo_qty)
    if demo:
        if i % 6 == 1:
            stock = float(max(0, woo_qty + rnd.randint(-5, 12)))  # drift since the last sync
        if i % 43 == 2:
            stock += 0.5  # fractional stock (weighed goods)
    # demo: a third of the cards carry no ExternalIdentifier and must be matched by SKU
    ext = "" if demo and i % 3 == 2 and sku else str(woo_id)
    return OgItem(og_id, name, sku, float(rnd.randint(5, 400)), stock, ext)
