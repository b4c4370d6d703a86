"""Requests the site makes to addresses that users typed (outgoing webhooks): never to itself.

A subscription URL could otherwise aim the server at its own network (SSRF): the database,
Redis, a cloud metadata service on 169.254.169.254, an admin page on localhost. Both checks
below refuse loopback, private, link-local, multicast, reserved and unspecified addresses
(IPv4-mapped IPv6 included), unless the site setting ``core.webhooks.allow_internal`` is on:

* :func:`check_target` when a subscription is saved: an address literal or a host name that
  resolves to any internal address is refused (a name that does not resolve yet is accepted;
  delivery checks it again);
* :func:`opener` at delivery: the connection resolves the host itself and connects only to the
  addresses it checked, so a name that resolves differently a second time (DNS rebinding) or a
  redirect to an internal address cannot get through.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import urllib.request
from urllib.parse import urlsplit

from flask_babel import gettext as _

from .errors import DomainError

ALLOW_INTERNAL = "core.webhooks.allow_internal"


class InternalTarget(OSError):
    """A delivery would have connected to an internal address."""


def internal_allowed() -> bool:
    """Whether the site setting lets webhooks reach internal addresses (trusted networks, tests)."""
    from . import settings

    return bool(settings.get(ALLOW_INTERNAL, False))


def is_internal(address: str) -> bool:
    """True for every address that is not a public unicast one."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (not ip.is_global or ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
            or ip.is_reserved or ip.is_unspecified)


def _addresses(host: str, port: int) -> list[str]:
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def check_target(url: str) -> None:
    """Refuse (DomainError on ``url``) a URL whose host is, or resolves to, an internal address."""
    if internal_allowed():
        return
    parts = urlsplit(url)
    try:
        host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        host = None
    if not host:
        raise DomainError(_("The URL has no valid host."), field="url")
    try:
        addresses = _addresses(host, port)
    except UnicodeError:
        raise DomainError(_("The URL has no valid host."), field="url") from None
    except OSError:  # not resolvable now: checked again at each delivery
        return
    internal = next((a for a in addresses if is_internal(a)), None)
    if internal:
        raise DomainError(_("The URL points to an internal address (%(address)s). Webhooks may only reach "
                            "public addresses unless the site allows internal ones.", address=internal), field="url")


def _connect(address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None, *args, **kwargs):
    """``socket.create_connection`` that refuses internal addresses and connects to the very
    addresses it checked."""
    host, port = address[0], address[1]
    addresses = _addresses(host, port)
    internal = next((a for a in addresses if is_internal(a)), None)
    if internal:
        raise InternalTarget(f"{host} resolves to an internal address ({internal}); refused")
    error = None
    for checked in addresses:
        try:
            return socket.create_connection((checked, port), timeout, source_address)
        except OSError as exc:
            error = exc
    raise error or OSError(f"{host} has no address")


class _GuardedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _connect


class _GuardedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _connect


class _GuardedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_GuardedHTTPConnection, req)


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_GuardedHTTPSConnection, req, context=self._context)


def opener() -> urllib.request.OpenerDirector:
    """A urllib opener for user-chosen URLs: guarded unless internal targets are allowed; never
    through an environment proxy (which would hide the real target)."""
    if internal_allowed():
        return urllib.request.build_opener()
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), _GuardedHTTPHandler, _GuardedHTTPSHandler)
