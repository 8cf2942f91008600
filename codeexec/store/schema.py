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
    UniqueConstraint("problem_id", "version", "position", name="uq_test_position"),
    Index("ix_tests_problem_version", "problem_id", "version"),
    mysql_charset="utf8mb4",
)
