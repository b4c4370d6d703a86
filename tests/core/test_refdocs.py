"""docs/reference.md, the plugin author's reference, is generated from the code and complete:
current, every documented item has a docstring, and what authors asked for is in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from erp_core import refdocs

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def reference() -> str:
    return (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")


def test_the_reference_is_current(reference):
    assert refdocs.render() == reference, "run `python -m erp_core.refdocs` and commit docs/reference.md"


def test_every_documented_item_has_a_docstring():
    missing = [name for name, obj in refdocs.documented() if not refdocs.own_doc(obj)]
    assert missing == [], f"write docstrings for {missing}"


def test_it_covers_the_value_types_adapters_and_public_surfaces(reference):
    for needle in ("### class SettingField", "validate(value) -> str | None", "loyalty__rate",
                   "### class Panel", "the card's body", "### class DemoContext",
                   "##### class CarrierAdapter", "`asks_carrier_name`", "##### class ShipmentRequest",
                   "##### class Address", "##### class ParcelLine", "##### class CreatedShipment",
                   "##### class CredentialField", "##### verify_hmac_sha256(", "the raw",
                   '200 {"new": n, "duplicate": n, "unknown": n}', "##### class PaymentAdapter",
                   "##### class RefundResult", "`requested`", "`refunded`", "`rejected`",
                   "##### create_customer(", "address: dict | None = None", "##### create_product(",
                   "##### class OrderInput", "##### class LineInput", "#### currency_exponent(",
                   "##### create_carrier(", "##### webhook_secret(", "request context",
                   "##### class CarrierAdapterContract", "##### class PaymentAdapterContract",
                   "#### erp_customer_panels\n", "#### erp_order_money_returned\n", "#### erp_extra_js_urls\n"):
        assert needle in reference, needle


def test_asks_carrier_name_is_part_of_the_interface():
    from plugins.logistics.adapters import CarrierAdapter

    assert CarrierAdapter.asks_carrier_name is False
    assert "| `asks_carrier_name` | `bool` | `False` | catch-all adapters" in refdocs._class_attributes(CarrierAdapter)


def test_plugins_md_links_the_reference_and_says_what_authors_asked():
    guide = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    for needle in ("(reference.md#hooks)", "**the card's body**", "`/dashboard`", "`loyalty__rate`",
                   "erp_customer_panels(customer, user)", "erp_extra_js_urls(template, user)",
                   "erp_order_money_returned"):
        assert needle in guide, needle


def test_signatures_show_annotations_and_defaults():
    def sample(a: int, b: str = "x", *, c: bool = False, **rest) -> bool:
        """A sample."""

    assert refdocs.signature(sample) == "(a: int, b: str = 'x', *, c: bool = False, **rest) -> bool"


def test_docstring_literal_blocks_become_fenced_code():
    text = refdocs.markdown("Sign like this::\n\n    return {'X': 1}\n\nThen ``done``.")
    assert text == "Sign like this:\n\n```python\nreturn {'X': 1}\n```\n\nThen `done`."
