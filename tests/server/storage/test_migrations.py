"""The migrations build exactly the schema `tables.py` describes: a column or table added to one
and not the other fails here, not on a user's database."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from app.server.storage import tables as t
from app.server.storage.migrate import upgrade


def test_migrations_build_the_schema_the_tables_describe(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    with engine.begin() as connection:
        upgrade(connection)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), t.metadata)
    engine.dispose()
    assert differences == []
