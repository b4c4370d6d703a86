"""payment QR code text (WeChat Pay Native)

Revision ID: finance_0003
Revises: finance_0002
Create Date: 2026-12-07 16:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = 'finance_0003'
down_revision = 'finance_0002'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (SQLite too): a batch copy of the table would trip the foreign keys of
    # finance_refund.
    op.add_column('finance_payment', sa.Column('qr_text', sa.String(length=500), nullable=True))


def downgrade():
    with op.batch_alter_table('finance_payment', schema=None) as batch_op:
        batch_op.drop_column('qr_text')
