"""Demo invoicing details: the demo's companies ask for invoices, with taxpayer IDs that pass
their check character (made up for the demo, in the shape of real ones), and a few people ask
for an ordinary invoice in their own name."""

from __future__ import annotations

from . import services
from .taxpayer_id import ALPHABET, check_character

# The administrative division code and the area code of the demo's cities.
DIVISIONS = {"上海": ("310115", "021"), "北京": ("110105", "010"), "杭州": ("330106", "0571"),
             "广州": ("440106", "020"), "深圳": ("440305", "0755"), "成都": ("510104", "028"),
             "南京": ("320106", "025"), "苏州": ("320508", "0512"), "武汉": ("420103", "027"),
             "西安": ("610113", "029"), "重庆": ("500103", "023"), "厦门": ("350203", "0592")}
BANKS = ["中国工商银行", "中国建设银行", "中国银行", "招商银行", "交通银行", "中国农业银行"]


def taxpayer_id(rng, division: str) -> str:
    """A made-up unified social credit code of a company (registered by the market regulator: 91)."""
    first17 = "91" + division + "MA" + "".join(rng.choice(ALPHABET) for _ in range(7))
    return first17 + check_character(first17)


def _company_details(rng, customer, kind: str) -> dict:
    address = customer.default_address
    city = address.city if address is not None else "上海"
    division, area = DIVISIONS.get(city, DIVISIONS["上海"])
    bank = rng.choice(BANKS)
    account = " ".join(f"{rng.randint(0, 9999):04d}" for _ in range(4)) + f" {rng.randint(100, 999)}"
    return {"invoice_type": kind, "title": customer.name, "taxpayer_id": taxpayer_id(rng, division),
            "address": address.one_line(country_names=False).removesuffix(", CN") if address is not None else "",
            "phone": f"{area}-{rng.randint(5000_0000, 8999_9999)}", "bank": f"{bank}{city}分行", "account": account}


def add_invoicing_details(rng, customers, companies: int) -> int:
    """Give the first ``companies`` customers (the demo's companies) invoicing details, two in
    three a special VAT invoice, and one person in five an ordinary invoice in their own name.
    Returns how many customers got details."""
    given = 0
    for index, customer in enumerate(customers):
        if index < companies:
            data = _company_details(rng, customer, "ordinary" if index % 3 == 1 else "special")
        elif rng.random() < 0.2:
            data = {"invoice_type": "ordinary", "title": customer.name}
        else:
            continue
        services.set_customer_invoicing(customer, data)
        given += 1
    return given
