pytest_plugins = ["erp_core.testing.fixtures"]
