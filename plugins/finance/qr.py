"""QR codes of payments the customer pays by scanning (WeChat Pay Native), and the signed token
with which the page showing one asks whether it was paid."""

from __future__ import annotations

import segno
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from . import states

_SALT = "finance-payment-status"


def qr_data_uri(text: str) -> str:
    """The QR code of ``text`` as an SVG ``data:`` URI for an ``<img>``: drawn by segno, shown
    without any markup of ours built from the text (the CSP allows data: images)."""
    return segno.make(text, error="m").svg_data_uri(scale=5, border=2)


def payment_qr(payment) -> str | None:
    """The QR image of a pending payment that the customer pays by scanning, else None."""
    if payment is None or payment.status != states.PENDING or not payment.qr_text:
        return None
    return qr_data_uri(payment.qr_text)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def status_token(payment) -> str:
    """An unguessable token naming ``payment`` for the public status poll of its QR code."""
    return _serializer().dumps(payment.id)


def payment_id_from_token(token: str) -> int | None:
    """The payment a status token names, None for a forged or mangled token."""
    try:
        value = _serializer().loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) else None
