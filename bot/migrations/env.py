"""Alembic's entry point: migrations run on the connection `bot.migrations` hands over."""

from __future__ import annotations

from alembic import context

# Both modules put their tables on Base.metadata (for `alembic revision --autogenerate`).
import bot.outbox.table
import bot.store.tables  # noqa: F401
from bot.store.db import Base

target_metadata = Base.metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
