"""A problem's statement files (per language: Markdown, LaTeX, PDF, the images they
show) and attachments, from Kattis packages; versioned with the problem's tests.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Blob = sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")
FileName = sa.String(255).with_variant(
    mysql.VARCHAR(255, collation="utf8mb4_bin"), "mysql", "mariadb"
)
RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "problem_files",
        sa.Column("id", RowId, primary_key=True, autoincrement=True),
        sa.Column(
            "problem_id",
            sa.String(64),
            sa.ForeignKey("problems.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),  # "statement" | "attachment"
        sa.Column("name", FileName, nullable=False),  # case-sensitive on MySQL too
        sa.Column("content_type", sa.String(128), nullable=False),
        sa.Column("data", Blob, nullable=False),
        sa.UniqueConstraint("problem_id", "version", "kind", "name", name="uq_problem_file"),
        mysql_charset="utf8mb4",
    )


def downgrade() -> None:
    op.drop_table("problem_files")
