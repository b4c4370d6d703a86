"""payment review flag

Revision ID: finance_0002
Revises: finance_0001
Create Date: 2026-12-07 12:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = 'finance_0002'
down_revision = 'finance_0001'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (SQLite too): a batch copy of the table would trip the foreign keys of
    # finance_refund.
    op.add_column('finance_payment', sa.Column('needs_review', sa.Boolean(), server_default=sa.false(),
                                               nullable=False))


def downgrade():
    with op.batch_alter_table('finance_payment', schema=None) as batch_op:
        batch_op.drop_column('needs_review')
