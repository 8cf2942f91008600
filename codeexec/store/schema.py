"""The database schema (SQLAlchemy Core), identical on MySQL/MariaDB and SQLite.

Test data lives in LONGBLOB-class columns (tens of MB per case on MySQL) and is kept
as bytes: a problem's data need not be valid UTF-8. Tests are versioned: replacing a
problem's tests writes a new version, so a submission judged against one version never
sees a mix.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects import mysql

metadata = MetaData()

Blob = LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")
LongText = Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
RowId = BigInteger().with_variant(Integer(), "sqlite")

problems = Table(
    "problems",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("title", String(255), nullable=False, server_default=""),
    Column("statement", LongText, nullable=True),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("time_limit_ms", Integer, nullable=True),
    Column("memory_limit_mb", Integer, nullable=True),
    Column("output_limit_kb", Integer, nullable=True),
    Column("wall_time_limit_ms", Integer, nullable=True),
    Column("process_limit", Integer, nullable=True),
    Column("isolation", String(16), nullable=True),  # "submission" | "test" | NULL
    Column("checker", String(32), nullable=False, server_default="lines"),
    Column("checker_args", Text, nullable=True),  # JSON list of strings
    Column("checker_language", String(32), nullable=True),  # custom checkers only
    Column("checker_files", LongText, nullable=True),  # JSON list of [name, text]
    # JSON object {language: [names]}; NULL means "the server default policy".
    Column("screening", Text, nullable=True),
    Column("scoring", LongText, nullable=True),  # JSON model.Scoring; NULL: pass-fail
    Column("created_at", DateTime, nullable=False, server_default=func.now()),
    Column("updated_at", DateTime, nullable=False, server_default=func.now()),
    mysql_charset="utf8mb4",
)

test_cases = Table(
    "test_cases",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column(
        "problem_id",
        String(64),
        ForeignKey("problems.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("version", Integer, nullable=False),
    Column("position", Integer, nullable=False),
    Column("input", Blob, nullable=False),
    Column("expected_output", Blob, nullable=False),
    Column("hidden", Boolean, nullable=False, server_default="0"),
    Column("name", String(255), nullable=True),  # e.g. "secret/group1/03" from a package
    Column("test_group", String(255), nullable=True),  # a scoring problem's: "secret/group1"
    UniqueConstraint("problem_id", "version", "position", name="uq_test_position"),
    Index("ix_tests_problem_version", "problem_id", "version"),
    mysql_charset="utf8mb4",
)

# Names as stored: MySQL's default collation would take Fig.png and fig.png for one.
FileName = String(255).with_variant(mysql.VARCHAR(255, collation="utf8mb4_bin"), "mysql", "mariadb")

# A problem's statement files and attachments (codeexec.model.files), versioned with
# its tests: a new version carries them over, or replaces them when a package is imported.
problem_files = Table(
    "problem_files",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column(
        "problem_id",
        String(64),
        ForeignKey("problems.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("version", Integer, nullable=False),
    Column("kind", String(16), nullable=False),  # "statement" | "attachment"
    Column("name", FileName, nullable=False),  # within statement/ or attachments/
    Column("content_type", String(128), nullable=False),
    Column("data", Blob, nullable=False),
    UniqueConstraint("problem_id", "version", "kind", "name", name="uq_problem_file"),
    mysql_charset="utf8mb4",
)

# Microsecond timestamps (UTC, naive) so job order and durations are exact on MySQL too.
Timestamp = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),  # public part of the token
    Column("name", String(255), nullable=False),
    Column("role", String(16), nullable=False),  # "admin" | "submitter"
    Column("secret_sha256", String(64), nullable=False),  # the token's secret, hashed
    Column("webhook_secret", String(64), nullable=False),  # signs this key's callbacks
    Column("created_at", Timestamp, nullable=False),
    Column("revoked_at", Timestamp, nullable=True),
    mysql_charset="utf8mb4",
)

submissions = Table(
    "submissions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("owner", String(32), nullable=True),  # api key id; NULL without authentication
    Column("problem_id", String(64), nullable=False),
    Column("problem_version", Integer, nullable=True),  # the version it was judged on
    Column("language", String(32), nullable=False),
    Column("files", LongText, nullable=False),  # JSON [[name, text]] as they enter the sandbox
    Column("status", String(16), nullable=False),  # queued|running|paused|finished|...
    Column("verdict", String(8), nullable=True),
    Column("passed", Boolean, nullable=True),
    Column("shown_passed", Integer, nullable=True),
    Column("shown_failed", Integer, nullable=True),
    Column("hidden_passed", Integer, nullable=True),
    Column("hidden_failed", Integer, nullable=True),
    Column("compile_output", LongText, nullable=True),
    Column("error", Text, nullable=True),
    Column("results", LongText, nullable=True),  # JSON list, one object per test
    Column("score", LongText, nullable=True),  # JSON model.ScoreReport (scoring problems)
    Column("callback_url", Text, nullable=True),
    Column("webhook_state", String(16), nullable=True),  # pending|delivered|failed
    Column("rerun_of", String(32), nullable=True),
    Column("created_at", Timestamp, nullable=False),
    Column("started_at", Timestamp, nullable=True),
    Column("finished_at", Timestamp, nullable=True),
    Column("claimed_by", String(64), nullable=True),  # the worker's instance
    Column("worker", String(128), nullable=True),  # the process that claimed it last
    Column("lease_until", Timestamp, nullable=True),  # renewed while it runs
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("cancel_requested", Boolean, nullable=False, server_default="0"),
    Column("accepted_version", Integer, nullable=True),  # the version intake screened on
    Column("screening_error", LongText, nullable=True),  # a syntax error found then (CE)
    Column("inline_problem", LongText, nullable=True),  # an ad-hoc run's (store/inline.py)
    Column("door", String(16), nullable=True),  # e.g. "judge0": answers in its own format
    Column("door_data", LongText, nullable=True),  # JSON: what that door keeps of the request
    Column("scope", String(8), nullable=False, server_default="all"),  # the tests: all|shown
    Column("paused_at", Timestamp, nullable=True),  # while paused: since when
    Index("ix_submissions_status_created", "status", "created_at"),
    Index("ix_submissions_owner_created", "owner", "created_at"),
    Index("ix_submissions_problem", "problem_id"),
    Index("ix_submissions_finished", "finished_at"),
    mysql_charset="utf8mb4",
)

submission_events = Table(
    "submission_events",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column(
        "submission_id",
        String(32),
        ForeignKey("submissions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("seq", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("data", Text, nullable=True),  # JSON object
    Column("created_at", Timestamp, nullable=False),
    UniqueConstraint("submission_id", "seq", name="uq_event_seq"),
    mysql_charset="utf8mb4",
)
