"""sources: parked requests and lead source

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=100), nullable=True))
    op.create_table(
        "parked_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("split", sa.Boolean(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lead_id", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "digest", name="uq_parked_source_digest"),
    )
    with op.batch_alter_table("parked_requests", schema=None) as batch_op:
        batch_op.create_index("ix_parked_source_open", ["source", "replayed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("parked_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_parked_source_open")
    op.drop_table("parked_requests")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_column("source")
