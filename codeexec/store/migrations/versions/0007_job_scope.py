"""A job's scope: the tests it judges, every test of its problem ("all") or only the
shown ones ("shown", the page's Run samples), so whichever worker takes it judges the
same tests. Jobs stored before it judged every test.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("scope", sa.String(8), nullable=False, server_default="all"))


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("scope")
