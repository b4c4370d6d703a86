"""Alembic environment of the ERP: run inside the app, on the connection the CLI hands over."""

from alembic import context

from erp_core.extensions import db
from erp_core.migrate import include_object_for

config = context.config
connection = config.attributes["connection"]
only = config.attributes.get("only_plugin")

context.configure(
    connection=connection,
    target_metadata=db.metadata,
    compare_type=True,
    render_as_batch=connection.dialect.name == "sqlite",
    include_object=include_object_for(only, config.attributes.get("loaded_plugins")),
    user_module_prefix="erp_core.db.",
)

with context.begin_transaction():
    context.run_migrations()
