"""Ad-hoc runs: the problem a run's job carries inline (its stdin as the one test, its
limits and options), since no stored problem is behind it; and the door a job came in
by when that door answers in its own format (Judge0: the request's own fields).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

LongText = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("inline_problem", LongText, nullable=True))
        batch.add_column(sa.Column("door", sa.String(16), nullable=True))
        batch.add_column(sa.Column("door_data", LongText, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("door_data")
        batch.drop_column("door")
        batch.drop_column("inline_problem")
