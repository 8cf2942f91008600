"""Per-problem wall-time limit, process limit and isolation mode.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("problems") as batch:
        batch.add_column(sa.Column("wall_time_limit_ms", sa.Integer, nullable=True))
        batch.add_column(sa.Column("process_limit", sa.Integer, nullable=True))
        # NULL: the server default (CODEEXEC_DEFAULT_ISOLATION).
        batch.add_column(sa.Column("isolation", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("problems") as batch:
        batch.drop_column("isolation")
        batch.drop_column("process_limit")
        batch.drop_column("wall_time_limit_ms")
