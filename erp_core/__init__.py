"""erp_core: the small core of the ERP. It knows no business area; plugins bring them."""

import pluggy

__version__ = "0.1.0"

PROJECT = "erp"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
