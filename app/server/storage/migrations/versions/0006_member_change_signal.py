"""trip members: a removed member or a changed role is heard by every server process

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 14:00:00

Each process keeps a cache of trip members for the chat's access check (`auth.MemberCache`), so
a member removed (or whose role changes) must be told to every process, whoever changed the row.
The triggers of 0002 already do that for keys; trip_members gets the same ones, which count in the
same api_key_changes row and NOTIFY the same channel (`tripdeck_keys`): a process that hears it
forgets its cached keys and members alike. Both are rare. A member added needs no signal: only
members are cached, never a refusal.

On SQLite, a later batch migration that recreates trip_members drops these triggers: create them
again there (tests/server/test_member_access.py fails otherwise).
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

WATCHED = "trip_id, user_id, role"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name, event in (
            ("trip_members_deleted", "DELETE"),
            ("trip_members_changed", f"UPDATE OF {WATCHED}"),
        ):
            op.execute(
                f"CREATE TRIGGER {name} AFTER {event} ON trip_members "
                "BEGIN UPDATE api_key_changes SET count = count + 1 WHERE id = 1; END"
            )
        return
    # tripdeck_api_key_changed() (0002) counts and notifies in the schema of the changed table.
    op.execute(
        f"CREATE TRIGGER trip_members_changed AFTER DELETE OR UPDATE OF {WATCHED} ON trip_members "
        "FOR EACH STATEMENT EXECUTE FUNCTION tripdeck_api_key_changed()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS trip_members_deleted")
        op.execute("DROP TRIGGER IF EXISTS trip_members_changed")
    else:
        op.execute("DROP TRIGGER IF EXISTS trip_members_changed ON trip_members")
