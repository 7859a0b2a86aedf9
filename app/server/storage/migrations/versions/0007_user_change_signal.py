"""users and groups: a changed user, group or group membership is heard by every server process

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 15:00:00

Each process keeps the answer of `GET /me` per user (`auth.MeCache`): the user's name and email
and their groups with their roles. The API changes none of these rows; `trip keys create` adds a
user with a personal group, and an operator may change any of them in SQL. The triggers of 0002
(and 0006) count in the same api_key_changes row and NOTIFY the same channel (`tripdeck_keys`):
a process that hears it forgets its cached keys, members and answers alike. Unlike a trip
member, a group member added changes a cached answer (the group joins the list), so inserts into
group_members count too; a new user or group does not (only users found are cached, and a group
shows only through a group_members row). All of this is rare.

On SQLite, a later batch migration that recreates users, groups or group_members drops these
triggers: create them again there (tests/server/test_me.py fails otherwise).
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

WATCHED = {
    "users": ("id, name, email", False),
    "groups": ("id, name, personal_of, created_at", False),
    "group_members": ("group_id, user_id, role", True),
}
"""table: (the columns a cached answer shows, whether an insert changes one)"""


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, (columns, inserts) in WATCHED.items():
        events = [("deleted", "DELETE"), ("changed", f"UPDATE OF {columns}")]
        if inserts:
            events.append(("added", "INSERT"))
        if sqlite:
            for suffix, event in events:
                op.execute(
                    f"CREATE TRIGGER {table}_{suffix} AFTER {event} ON {table} "
                    "BEGIN UPDATE api_key_changes SET count = count + 1 WHERE id = 1; END"
                )
            continue
        # tripdeck_api_key_changed() (0002) counts and notifies in the schema of the changed table.
        op.execute(
            f"CREATE TRIGGER {table}_changed AFTER {' OR '.join(event for _, event in events)} ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION tripdeck_api_key_changed()"
        )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in WATCHED:
        if sqlite:
            for suffix in ("deleted", "changed", "added"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{suffix}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_changed ON {table}")
