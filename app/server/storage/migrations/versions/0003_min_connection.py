"""trips: the minimum connection between two flights, a trip setting (issue 17)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 18:30:00

The itinerary summary calls a flight that departs less than this many minutes after the previous
one lands an impossible_transfer. Existing trips get the default, 45.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("trips", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("min_connection_minutes", sa.Integer(), server_default="45", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("trips", schema=None) as batch_op:
        batch_op.drop_column("min_connection_minutes")
