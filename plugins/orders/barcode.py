"""Product barcodes: EAN-13, UPC-A (12 digits) and EAN-8, each with its check digit."""

from __future__ import annotations

from flask_babel import gettext as _

from erp_core.errors import DomainError

LENGTHS = (8, 12, 13)


def check_digit(body: str) -> int:
    """The GS1 check digit of ``body`` (the code without its last digit): weights 3 and 1
    alternate from the rightmost digit of the body."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def is_barcode(text: str) -> bool:
    """Whether ``text`` is an EAN-13, UPC-A or EAN-8 code with a right check digit."""
    return (text.isascii() and text.isdigit() and len(text) in LENGTHS
            and check_digit(text[:-1]) == int(text[-1]))


def clean_barcode(value: str | None) -> str | None:
    """The barcode as stored (digits, spaces and dashes dropped), or None when empty.

    Raises ``DomainError`` on ``barcode`` when it is not 8, 12 or 13 digits or its check digit
    is wrong (the message says which digit was expected)."""
    text = "".join(str(value or "").split()).replace("-", "")
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) in LENGTHS):
        raise DomainError(_("A barcode is an EAN-13 (13 digits), UPC-A (12 digits) or EAN-8 (8 digits) code."),
                          field="barcode")
    expected = check_digit(text[:-1])
    if expected != int(text[-1]):
        raise DomainError(_("The barcode %(code)s has a wrong check digit: the last digit should be %(digit)s.",
                            code=text, digit=expected), field="barcode")
    return text
