"""Problems and their versioned test cases.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Blob = sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")
LongText = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "problems",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("title", sa.String(255), nullable=False, server_default=""),
        sa.Column("statement", LongText, nullable=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("time_limit_ms", sa.Integer, nullable=True),
        sa.Column("memory_limit_mb", sa.Integer, nullable=True),
        sa.Column("output_limit_kb", sa.Integer, nullable=True),
        sa.Column("checker", sa.String(32), nullable=False, server_default="lines"),
        sa.Column("screening", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime, nullable=False, server_default=sa.func.now()),
        mysql_charset="utf8mb4",
    )
    op.create_table(
        "test_cases",
        sa.Column("id", RowId, primary_key=True, autoincrement=True),
        sa.Column(
            "problem_id",
            sa.String(64),
            sa.ForeignKey("problems.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("input", Blob, nullable=False),
        sa.Column("expected_output", Blob, nullable=False),
        sa.Column("hidden", sa.Boolean, nullable=False, server_default="0"),
        sa.UniqueConstraint("problem_id", "version", "position", name="uq_test_position"),
        mysql_charset="utf8mb4",
    )
    op.create_index("ix_tests_problem_version", "test_cases", ["problem_id", "version"])


def downgrade() -> None:
    op.drop_table("test_cases")
    op.drop_table("problems")
