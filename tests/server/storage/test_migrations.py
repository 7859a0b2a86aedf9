"""The migrations build exactly the schema `tables.py` describes: a column or table added to one
and not the other fails here, not on a user's database."""

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from app.server.storage import tables as t
from app.server.storage.database import Database
from app.server.storage.migrate import upgrade


def test_migrations_build_the_schema_the_tables_describe(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    with engine.begin() as connection:
        upgrade(connection)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), t.metadata)
    engine.dispose()
    assert differences == []


async def test_servers_starting_at_once_on_a_new_sqlite_file_migrate_it_once(tmp_path):
    """Two `trip serve` on one new file both ran the migrations; one failed with "duplicate column
    name" (tests starting two servers at once). Three databases on one new file, migrated at once."""
    for attempt in range(3):
        url = f"sqlite+aiosqlite:///{tmp_path / f'new-{attempt}.db'}"
        databases = [Database(url) for _ in range(3)]
        try:
            await asyncio.gather(*(db.migrate() for db in databases))
        finally:
            for db in databases:
                await db.dispose()
