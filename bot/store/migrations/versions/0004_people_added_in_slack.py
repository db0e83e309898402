"""people: who was added to the rotation in Slack

A person a manager adds with `/rotation add` (or the people modal) is marked with the moment,
so a later config file that does not name them keeps them (`bot.routing.admin.people`); the
mark is cleared once a file names them (from then on the file is theirs).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("slack_added_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("slack_added_at")
