"""Alembic environment: runs on the connection handed over by `server.storage.migrate`."""

from __future__ import annotations

from alembic import context

from server.storage.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    # Output entity tables are created at run time and are not part of the schema.
    include_name=lambda name, type_, _parent: type_ != "table" or name in metadata.tables,
)
with context.begin_transaction():
    context.run_migrations()
