"""Stands in for the finance plugin: answers erp_refund_requested and records the call."""

from erp_core import hookimpl
from erp_core.errors import DomainError
from erp_core.plugins import PluginMeta

meta = PluginMeta(name="finance", version="0", title="Fake finance", requires=("orders",))

CALLS: list = []
BEHAVIOUR: dict = {}


@hookimpl
def erp_refund_requested(order, amount_minor, currency, reason, source_type, source_id):
    CALLS.append((order.number, amount_minor, currency, reason, source_type, source_id))
    if BEHAVIOUR.get("fail"):
        raise DomainError(BEHAVIOUR["fail"])
    return [{"id": 77, "label": "Refund #77", "url": "/fake/refund/77"}]
