"""Checker arguments and custom checker programs; test case names (e.g. Kattis'
``secret/group1/03``).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

LongText = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("problems") as batch:
        # JSON list of strings: the tokens checker's flags, or a custom checker's args.
        batch.add_column(sa.Column("checker_args", sa.Text, nullable=True))
        batch.add_column(sa.Column("checker_language", sa.String(32), nullable=True))
        # JSON list of [name, text]: a custom checker's source files.
        batch.add_column(sa.Column("checker_files", LongText, nullable=True))
    with op.batch_alter_table("test_cases") as batch:
        batch.add_column(sa.Column("name", sa.String(255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("test_cases") as batch:
        batch.drop_column("name")
    with op.batch_alter_table("problems") as batch:
        batch.drop_column("checker_files")
        batch.drop_column("checker_language")
        batch.drop_column("checker_args")
