"""A test plugin offering a payment method with one settings field of each kind."""

from erp_core import hookimpl
from erp_core.contrib import SettingField
from erp_core.plugins import PluginMeta
from plugins.finance.adapters import PaymentAdapter

meta = PluginMeta(name="fincfg", version="1", title="Configurable pay", requires=("orders", "finance"))


def _merchant(value):
    return None if not value or value.startswith("M-") else "A merchant id starts with M-."


class ConfigurablePayAdapter(PaymentAdapter):
    code = "cfg_pay"
    label = "Configurable Pay"
    enabled_by_default = False

    @classmethod
    def settings_fields(cls):
        section = "Finance"
        return [SettingField("finance.cfg_pay.merchant_id", "Merchant id", "string", "", section, required=True,
                             validate=_merchant),
                SettingField("finance.cfg_pay.timeout", "Timeout (seconds)", "integer", 30, section),
                SettingField("finance.cfg_pay.sandbox", "Sandbox", "boolean", True, section),
                SettingField("finance.cfg_pay.region", "Region", "choice", "cn", section,
                             choices=(("cn", "Mainland"), ("hk", "Hong Kong"))),
                SettingField("finance.cfg_pay.api_secret", "API secret", "secret", "", section)]


@hookimpl
def erp_payment_adapters():
    return [ConfigurablePayAdapter]
