"""Fapiao adapters: how the tax authority's fapiao of an invoice gets recorded.

The fapiao itself is issued in the tax authority's system. The built-in manual adapter lets staff
type its code, number and date; an e-fapiao provider's adapter (returned by ``erp_fapiao_adapters``)
may issue it through the provider and record what comes back with
:func:`plugins.finance.services.invoices.record_fapiao`.
"""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l

from erp_core.plugins import hooks


class FapiaoAdapter:
    """The interface of a fapiao adapter. ``code`` is stored with each fapiao recorded through it."""

    code: str = ""
    label = ""
    #: staff type the fapiao's code, number and date on the invoice page
    manual: bool = False

    def record(self, invoice, code: str, number: str, issued_on: date):
        """Record the fapiao ``number`` (and ``code``, dated ``issued_on``) against ``invoice``; returns the invoice.
        Raises a DomainError with a message for the user when the values are refused."""
        from .services.invoices import record_fapiao

        return record_fapiao(invoice, code, number, issued_on, adapter=self.code)


class ManualFapiaoAdapter(FapiaoAdapter):
    """Staff issue the fapiao in the tax authority's system and type it in here."""

    code = "manual"
    label = _l("Typed in by staff")
    manual = True


def fapiao_adapters() -> dict[str, FapiaoAdapter]:
    """Every fapiao adapter of the enabled plugins by code (the manual one is finance's own)."""
    found: dict[str, FapiaoAdapter] = {}
    for classes in hooks().erp_fapiao_adapters():
        for cls in classes or []:
            found.setdefault(cls.code, cls())
    return found


def adapter_label(code: str | None) -> str:
    """The label of the adapter that recorded a fapiao (the code itself when it is gone)."""
    adapter = fapiao_adapters().get(code or "")
    return str(adapter.label) if adapter else (code or "")
