"""api keys: when each was last used, and key changes every server process hears

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 10:00:00

A key that is deleted (`trip keys revoke`, or any DELETE) or whose hash, scopes or user change
must stop working on every server process within a second, although each keeps a cache of known
keys. Triggers on api_keys make the database itself say so, whoever changed the row:
- SQLite: the count in api_key_changes goes up; each process polls it twice a second.
- PostgreSQL: the same count, and `NOTIFY tripdeck_keys, '<schema>'` delivered at commit; each
  process LISTENs (one channel for every schema, so that the trigger needs no naming rule).

On SQLite, a later batch migration that recreates api_keys drops its triggers: create them again
there (tests/server/test_auth.py fails otherwise).
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CHANNEL = "tripdeck_keys"
WATCHED = "key_hash, scopes, user_id"


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_used_at", sa.BigInteger(), nullable=True))
    op.create_table(
        "api_key_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key_changes")),
    )
    op.execute("INSERT INTO api_key_changes (id, count) VALUES (1, 0)")
    if op.get_bind().dialect.name == "sqlite":
        for name, event in (("api_keys_deleted", "DELETE"), ("api_keys_changed", f"UPDATE OF {WATCHED}")):
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON api_keys "
                "BEGIN UPDATE api_key_changes SET count = count + 1 WHERE id = 1; END"
            )
        return
    # The schema comes from the trigger, not the search path: a DELETE typed in psql with another
    # search path counts in the right table and names the right schema.
    op.execute(f"""
        CREATE FUNCTION tripdeck_api_key_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            EXECUTE format('UPDATE %I.api_key_changes SET count = count + 1 WHERE id = 1', TG_TABLE_SCHEMA);
            PERFORM pg_notify('{CHANNEL}', TG_TABLE_SCHEMA);
            RETURN NULL;
        END $$
    """)
    op.execute(
        f"CREATE TRIGGER api_keys_changed AFTER DELETE OR UPDATE OF {WATCHED} ON api_keys "
        "FOR EACH STATEMENT EXECUTE FUNCTION tripdeck_api_key_changed()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS api_keys_deleted")
        op.execute("DROP TRIGGER IF EXISTS api_keys_changed")
    else:
        op.execute("DROP TRIGGER IF EXISTS api_keys_changed ON api_keys")
        op.execute("DROP FUNCTION IF EXISTS tripdeck_api_key_changed()")
    op.drop_table("api_key_changes")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")
