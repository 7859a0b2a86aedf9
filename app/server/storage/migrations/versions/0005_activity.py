"""operations: who made each one and the rows it changed, for the activity feed and revert (issue 19)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 06:40:00

Operations logged before this have no actor and no row changes: the feed shows them with a
generic sentence, and they cannot be reverted.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("actor_key_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("row_changes", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("reverts", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("reverted_by", sa.String(length=40), nullable=True))
        batch_op.create_index("ix_operations_trip_op_id", ["trip_id", "op_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("operations", schema=None) as batch_op:
        batch_op.drop_index("ix_operations_trip_op_id")
        batch_op.drop_column("reverted_by")
        batch_op.drop_column("reverts")
        batch_op.drop_column("row_changes")
        batch_op.drop_column("actor_key_name")
        batch_op.drop_column("actor_id")
