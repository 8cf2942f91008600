"""Asynchronous submissions (jobs) with their events, and API keys.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

LongText = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        sa.Column("webhook_secret", sa.String(64), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("revoked_at", Timestamp, nullable=True),
        mysql_charset="utf8mb4",
    )
    op.create_table(
        "submissions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("owner", sa.String(32), nullable=True),
        sa.Column("problem_id", sa.String(64), nullable=False),
        sa.Column("problem_version", sa.Integer, nullable=True),
        sa.Column("language", sa.String(32), nullable=False),
        sa.Column("files", LongText, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("verdict", sa.String(8), nullable=True),
        sa.Column("passed", sa.Boolean, nullable=True),
        sa.Column("shown_passed", sa.Integer, nullable=True),
        sa.Column("shown_failed", sa.Integer, nullable=True),
        sa.Column("hidden_passed", sa.Integer, nullable=True),
        sa.Column("hidden_failed", sa.Integer, nullable=True),
        sa.Column("compile_output", LongText, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("results", LongText, nullable=True),
        sa.Column("callback_url", sa.Text, nullable=True),
        sa.Column("webhook_state", sa.String(16), nullable=True),
        sa.Column("rerun_of", sa.String(32), nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("started_at", Timestamp, nullable=True),
        sa.Column("finished_at", Timestamp, nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("lease_until", Timestamp, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default="0"),
        mysql_charset="utf8mb4",
    )
    op.create_index("ix_submissions_status_created", "submissions", ["status", "created_at"])
    op.create_index("ix_submissions_owner_created", "submissions", ["owner", "created_at"])
    op.create_index("ix_submissions_problem", "submissions", ["problem_id"])
    op.create_index("ix_submissions_finished", "submissions", ["finished_at"])
    op.create_table(
        "submission_events",
        sa.Column("id", RowId, primary_key=True, autoincrement=True),
        sa.Column(
            "submission_id",
            sa.String(32),
            sa.ForeignKey("submissions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("data", sa.Text, nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.UniqueConstraint("submission_id", "seq", name="uq_event_seq"),
        mysql_charset="utf8mb4",
    )


def downgrade() -> None:
    op.drop_table("submission_events")
    op.drop_table("submissions")
    op.drop_table("api_keys")
