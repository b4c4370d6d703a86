"""order entry key

Revision ID: orders_0002
Revises: orders_0001
Create Date: 2026-11-28 05:38:18.792788
"""

import sqlalchemy as sa
from alembic import op

revision = 'orders_0002'
down_revision = 'orders_0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('entry_key', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_orders_order_entry_key'), ['entry_key'])



def downgrade():
    with op.batch_alter_table('orders_order', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_orders_order_entry_key'), type_='unique')
        batch_op.drop_column('entry_key')

