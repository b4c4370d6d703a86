"""Shared helpers of the provider adapters: RSA keys pasted in the settings, SHA256withRSA
signatures (both WeChat Pay API v3 and Alipay's RSA2 use PKCS#1 v1.5 with SHA-256, base64), and
one HTTP call through the standard library with a timeout."""

from __future__ import annotations

import base64
import binascii
import functools
import re
import urllib.error
import urllib.request
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import load_der_x509_certificate
from flask_babel import lazy_gettext as _l

from ..adapters import AdapterError

TIMEOUT = 15  # seconds a provider may take to answer

_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)


def _der(text: str) -> tuple[str, bytes]:
    """The kind and DER bytes of a PEM block, or of bare base64 (as consoles show keys). Pasted
    keys often lose their line breaks (a password field drops them): only the base64 matters."""
    text = str(text or "").strip()
    match = _PEM.search(text)
    kind, payload = (match.group(1), match.group(2)) if match else ("", text)
    try:
        return kind, base64.b64decode("".join(payload.split()), validate=True)
    except (binascii.Error, ValueError):
        raise AdapterError(_l("The key is not readable: paste the whole PEM text.")) from None


@functools.lru_cache(maxsize=16)
def private_key(text: str) -> rsa.RSAPrivateKey:
    """An RSA private key from PEM text (PKCS#8 "PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY") or base64."""
    _kind, der = _der(text)
    try:
        key = serialization.load_der_private_key(der, None)  # PKCS#8 or PKCS#1 DER
    except (ValueError, TypeError):
        raise AdapterError(_l("The private key is not readable: paste the whole PEM text.")) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise AdapterError(_l("The private key is not an RSA key."))
    return key


@functools.lru_cache(maxsize=16)
def public_key(text: str) -> rsa.RSAPublicKey:
    """An RSA public key from PEM text: a public key, or a certificate carrying one, or base64."""
    kind, der = _der(text)
    try:
        key = load_der_x509_certificate(der).public_key() if kind == "CERTIFICATE" \
            else serialization.load_der_public_key(der)
    except (ValueError, TypeError):
        raise AdapterError(_l("The public key is not readable: paste the whole PEM text.")) from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise AdapterError(_l("The public key is not an RSA key."))
    return key


def rsa_sign(key: rsa.RSAPrivateKey, message: bytes) -> str:
    """SHA256withRSA (PKCS#1 v1.5) of ``message``, base64."""
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa_verify(key: rsa.RSAPublicKey, message: bytes, signature: str) -> bool:
    """True when ``signature`` (base64) is the SHA256withRSA signature of ``message``."""
    try:
        raw = base64.b64decode(str(signature or ""), validate=True)
        key.verify(raw, message, padding.PKCS1v15(), hashes.SHA256())
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True


def header(headers: Mapping[str, str], name: str) -> str:
    """A header's value, its name matched case-insensitively ("" when absent)."""
    wanted = name.lower()
    for key, value in headers.items():
        if str(key).lower() == wanted:
            return str(value)
    return ""


def http_call(method: str, url: str, body: bytes | None = None,
              headers: Mapping[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request; returns ``(status, headers, body)`` for any answer, error statuses
    included. A network failure raises OSError (``urllib.error.URLError`` is one)."""
    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:  # noqa: S310 - https or the test fake
            return answer.status, dict(answer.headers.items()), answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), exc.read()
