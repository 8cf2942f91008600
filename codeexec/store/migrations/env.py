"""Alembic environment: codeexec runs migrations itself at start-up, on its own connection."""

from alembic import context

from codeexec.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("migrations run through codeexec.store.engine.migrate()")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
