"""The contract kit runs against every built-in adapter, and the adapters list is pluggable."""

import pytest

from erp_core.extensions import db
from plugins.finance import services
from plugins.finance.adapters import BankTransferAdapter, CashAdapter, DemoGatewayAdapter
from plugins.finance.testing import PaymentAdapterContract
from tests.finance import spy_plugin as spy
from tests.finance.conftest import make_order, with_demo_gateway


class TestCashContract(PaymentAdapterContract):
    adapter_class = CashAdapter


class TestBankTransferContract(PaymentAdapterContract):
    adapter_class = BankTransferAdapter


class TestDemoGatewayContract(PaymentAdapterContract):
    adapter_class = DemoGatewayAdapter
    settings = {"secret": "contract-secret"}


class TestRemoteSpyContract(PaymentAdapterContract):
    """The kit also holds for a third-party adapter (the test plugin's)."""

    adapter_class = spy.RemotePayAdapter


def test_the_kit_catches_a_broken_adapter():
    """A gateway that accepts any signature fails the kit."""

    class Careless(DemoGatewayAdapter):
        code = "careless"

        def verify_callback(self, body, headers):
            import json

            data = json.loads(body)
            from plugins.finance.adapters import CallbackData

            return CallbackData(data["merchant_ref"], data["transaction_id"], data["order"], data["amount_minor"],
                                data["currency"], data["status"])

    kit = PaymentAdapterContract()
    with pytest.raises(pytest.fail.Exception, match="DID NOT RAISE"):
        kit.test_a_tampered_body_is_rejected(Careless({"secret": "s"}))
    kit.test_a_tampered_body_is_rejected(DemoGatewayAdapter({"secret": "s"}))  # the real one passes


def test_demo_gateway_signatures_depend_on_the_secret():
    one, other = DemoGatewayAdapter({"secret": "one"}), DemoGatewayAdapter({"secret": "two"})
    body, headers = one.sign_test_callback(PaymentAdapterContract.payment(), "TX")
    from plugins.finance.adapters import CallbackRejected

    with pytest.raises(CallbackRejected):
        other.verify_callback(body, headers)


@pytest.fixture
def spy_app(make_app):
    spy.reset()
    yield with_demo_gateway(make_app(plugins=["orders", "finance", "finspy=tests.finance.spy_plugin"]))
    spy.reset()


def test_hook_erp_payment_adapters(spy_app, make_app):
    with spy_app.test_request_context(method="POST"):
        assert list(services.adapter_classes()) == ["alipay", "bank_transfer", "cash", "demo_gateway", "remote_pay",
                                                    "wechatpay"]
        assert [a.code for a in services.enabled_methods(online=False)] == ["bank_transfer", "cash", "remote_pay"]
        order = make_order()
        payment = services.record_payment(order, "remote_pay", "100")
        db.session.commit()
        assert payment.method == "remote_pay" and payment.status == "paid"
        # its on/off switch appears among the settings
        from erp_core import settings

        keys = [f.key for _plugin, f in settings.fields()]
        assert "finance.method.remote_pay" in keys and "finance.demo_gateway.secret" in keys
    plain = make_app(plugins=["orders", "finance"])
    with plain.test_request_context():
        assert "remote_pay" not in services.adapter_classes()
