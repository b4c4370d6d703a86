"""__plugin__: notes table

Revision ID: __plugin___0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

import erp_core.db

revision = "__plugin___0001"
down_revision = None
branch_labels = ("__plugin__",)
depends_on = __depends_on__


def upgrade():
    op.create_table(
        "__plugin___note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.Column("created_at", erp_core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk___plugin___note")),
    )


def downgrade():
    op.drop_table("__plugin___note")
