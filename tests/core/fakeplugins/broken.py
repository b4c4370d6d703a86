"""A plugin that fails at import."""

raise RuntimeError("boom at import")
