"""ACME Express for the ERP: a carrier adapter shipped as a separate, third-party package.

The package is found through its ``erp.plugins`` entry point (see ``pyproject.toml``); no site
configuration has to name it. It needs the logistics plugin, whose adapter interface it
implements, and contributes one carrier adapter through ``erp_carrier_adapters``. It has no
tables, pages or migrations of its own: carriers configured with it are logistics' carriers.
"""

from flask_babel import lazy_gettext as _l

from erp_core import hookimpl
from erp_core.plugins import PluginMeta

__version__ = "0.1.0"

meta = PluginMeta(
    name="acme_express",
    version=__version__,
    title=_l("ACME Express"),
    description=_l("Carrier adapter for the ACME Express web API: tracking numbers and labels, "
                   "tracking updates and signed push notifications."),
    requires=("logistics",),
)


@hookimpl
def erp_carrier_adapters():
    """The ACME Express adapter, offered under *Carriers → Add carrier* while this plugin is on."""
    from .adapter import AcmeExpressAdapter

    return [AcmeExpressAdapter]
