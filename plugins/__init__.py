"""The built-in business plugins of the ERP; each is a pluggy plugin module."""
