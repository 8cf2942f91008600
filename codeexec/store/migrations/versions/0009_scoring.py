"""Scoring problems (Kattis ``type: scoring``): a problem's test groups and their
settings, each test's group, and a finished job's score. Problems and jobs stored
before it are pass-fail (NULL).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

LongText = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("problems") as batch:
        batch.add_column(sa.Column("scoring", LongText, nullable=True))  # JSON model.Scoring
    with op.batch_alter_table("test_cases") as batch:
        batch.add_column(sa.Column("test_group", sa.String(255), nullable=True))
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("score", LongText, nullable=True))  # JSON ScoreReport


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("score")
    with op.batch_alter_table("test_cases") as batch:
        batch.drop_column("test_group")
    with op.batch_alter_table("problems") as batch:
        batch.drop_column("scoring")
