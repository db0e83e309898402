"""outbox: an index by lead

A message about a lead looks up what was already sent about it (the channel post to thread
under, the rep's DM to update): without this index each such message read the whole outbox,
so a burst's delivery slowed as the outbox grew.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_lead", "outbox", ["lead_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_lead", table_name="outbox")
