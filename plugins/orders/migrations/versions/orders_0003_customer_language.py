"""customer language

Revision ID: orders_0003
Revises: orders_0002
Create Date: 2026-12-07 15:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'orders_0003'
down_revision = 'orders_0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders_customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table('orders_customer', schema=None) as batch_op:
        batch_op.drop_column('language')
