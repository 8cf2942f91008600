"""Pause and resume: a paused job's status is "paused" (a string, like the others) and
``paused_at`` says since when, so one held longer than CODEEXEC_MAX_PAUSE_S is
cancelled. Jobs stored before it were never paused (NULL).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("paused_at", Timestamp, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("paused_at")
