"""What intake accepted for a job: the problem version it was screened on and a syntax
error the screener found, so a worker does not screen it again.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

LongText = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("accepted_version", sa.Integer, nullable=True))
        batch.add_column(sa.Column("screening_error", LongText, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("screening_error")
        batch.drop_column("accepted_version")
