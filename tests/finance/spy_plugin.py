"""A test plugin that listens to finance's events and offers a remote payment adapter."""

from erp_core import hookimpl
from erp_core.plugins import PluginMeta
from plugins.finance.adapters import AdapterError, ConfirmResult, PaymentAdapter, RefundResult, StartResult
from plugins.finance.fapiao import FapiaoAdapter

meta = PluginMeta(name="finspy", version="1", title="Finance spy", requires=("orders", "finance"))

CALLS: list = []
BEHAVIOUR: dict = {}
WAREHOUSES: list = [(1, "Shanghai"), (2, "Shenzhen")]


def reset():
    CALLS.clear()
    BEHAVIOUR.clear()
    RemotePayAdapter.answers.clear()


class RemotePayAdapter(PaymentAdapter):
    """A provider reached over the network: finance must call its refund from a job."""

    code = "remote_pay"
    label = "Remote Pay"
    remote = True
    enabled_by_default = True
    answers: list = []

    def start(self, payment):
        return StartResult(status=self.confirm(payment, {}).status)

    def confirm(self, payment, evidence):
        if payment.amount_minor <= 0:
            raise AdapterError("amount must be positive")
        return ConfirmResult(status="paid")

    def refund(self, refund):
        if refund.amount_minor <= 0:
            raise AdapterError("amount must be positive")
        CALLS.append(("remote_refund", refund.refund_ref, refund.amount_minor))
        answer = self.answers.pop(0) if self.answers else "refunded"
        if answer == "error":
            raise AdapterError("provider down")
        return RefundResult(status=answer, provider_ref="RP-1" if answer == "refunded" else None,
                            message="no" if answer == "failed" else "")


@hookimpl
def erp_payment_adapters():
    return [RemotePayAdapter]


@hookimpl
def erp_payment_recorded(payment):
    CALLS.append(("payment", payment.merchant_ref, payment.status, payment.amount_minor))
    action = BEHAVIOUR.get("payment")
    if action:
        action(payment)


@hookimpl
def erp_refund_recorded(refund):
    CALLS.append(("refund", refund.id, refund.status, refund.amount_minor))


@hookimpl
def erp_refund_failed(refund, message):
    CALLS.append(("refund_failed", refund.id, refund.status, message))


@hookimpl
def erp_warehouse_choices():
    return list(WAREHOUSES)


class EFapiaoAdapter(FapiaoAdapter):
    """An e-fapiao provider's adapter (``erp_fapiao_adapters``): it issues the fapiao at the
    provider (here: a number it makes up) and records what comes back."""

    code = "efapiao_spy"
    label = "E-fapiao Spy"

    def issue(self, invoice, issued_on):
        CALLS.append(("fapiao", invoice.number))
        return self.record(invoice, "", "87654321", issued_on)


@hookimpl
def erp_fapiao_adapters():
    return [EFapiaoAdapter]
