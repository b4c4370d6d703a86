"""A third-party carrier plugin, as a package would ship it: one adapter through the hook."""

from erp_core import hookimpl
from erp_core.plugins import PluginMeta
from plugins.logistics.adapters import LINK, CarrierAdapter, CredentialField

meta = PluginMeta(name="acme", version="1", title="ACME carriers", requires=("logistics",))


class AcmeAdapter(CarrierAdapter):
    key = "acme_post"
    title = "ACME Post"
    supports = frozenset({LINK})
    credential_fields = (CredentialField("customer_no", "Customer number", required=True),)
    example_tracking_number = "AC123456"

    def tracking_url(self, tracking_number):
        return f"https://acme.example/track/{tracking_number}" if tracking_number else None


class NamelessAdapter(CarrierAdapter):
    key = "Not A Valid Key!"


@hookimpl
def erp_carrier_adapters():
    return [AcmeAdapter, NamelessAdapter]
