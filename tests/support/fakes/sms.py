"""An SMS provider plugin for tests: keeps what it was asked to send; a number ending in 0 fails."""

from erp_core import hookimpl
from erp_core.plugins import PluginMeta
from plugins.support.notifications import SmsAdapter, SmsResult

meta = PluginMeta(name="fakesms", version="0", title="Fake SMS", requires=("orders", "support"))

SENT: list = []


class FakeSmsAdapter(SmsAdapter):
    key = "fake_sms"
    label = "Fake SMS"

    def send(self, phone, text):
        if phone.endswith("0"):
            return SmsResult("failed", error="number refused")
        SENT.append((phone, text))
        return SmsResult("sent", reference=f"msg-{len(SENT)}")


class BadKeyAdapter(SmsAdapter):
    key = "Bad Key!"
    label = "ignored"


@hookimpl
def erp_sms_adapters():
    return [FakeSmsAdapter, BadKeyAdapter]
