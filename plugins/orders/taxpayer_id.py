"""The unified social credit code (统一社会信用代码) a Chinese taxpayer is known by, GB 32100-2015.

18 characters: the registering authority (1), the kind of organisation (1), the administrative
division (6), the organisation code (9) and a check character (1). The characters are the digits
and the capital letters except I, O, Z, S and V (31 in all, worth 0 to 30 in this order). The
check character is worth ``31 - (sum of value x weight over the first 17) mod 31`` (31 counting as
0), the weight of position ``i`` (from 0) being ``3 ** i mod 31``.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _

from erp_core.errors import DomainError

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28
LENGTH = 18


def check_character(first17: str) -> str:
    """The check character of the first 17 characters of a code (all from :data:`ALPHABET`)."""
    total = sum(ALPHABET.index(char) * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalise_taxpayer_id(value: str | None) -> str:
    """The code as it is stored: upper-cased, spaces and hyphens people type between groups removed."""
    return re.sub(r"[\s\-\u3000]+", "", value or "").upper()


def check_taxpayer_id(value: str | None) -> str:
    """The normalised code, or ``""`` when empty. A code of the wrong length, with characters the
    standard does not use, or whose check character does not match raises ``DomainError`` (field
    ``taxpayer_id``) saying which of these it is, in the reader's language."""
    code = normalise_taxpayer_id(value)
    if not code:
        return ""
    if len(code) != LENGTH:
        raise DomainError(_("A taxpayer ID (unified social credit code) has 18 characters; this one has %(n)d.",
                            n=len(code)), field="taxpayer_id")
    wrong = sorted({char for char in code if char not in ALPHABET})
    if wrong:
        raise DomainError(_("A taxpayer ID uses digits and capital letters except I, O, Z, S and V; "
                            "%(chars)s cannot be in it.", chars=" ".join(wrong[:5])), field="taxpayer_id")
    if check_character(code[:17]) != code[17]:
        raise DomainError(_("This taxpayer ID is mistyped: its last character does not match the others. "
                            "Compare it with the business licence."), field="taxpayer_id")
    return code
