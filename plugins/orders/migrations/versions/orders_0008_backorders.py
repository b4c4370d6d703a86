"""backorders: the quantity of each order line cancelled when the rest of an order is closed

Revision ID: orders_0008_backorders
Revises: orders_0007_pricing
Create Date: 2026-12-07 23:40:00

Existing lines had nothing cancelled (0).
"""

import sqlalchemy as sa
from alembic import op

revision = 'orders_0008_backorders'
down_revision = 'orders_0007_pricing'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders_order_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_quantity', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    # Plain ALTER TABLE ... DROP COLUMN on SQLite too (3.35+), no table rebuild.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE orders_order_line DROP COLUMN cancelled_quantity')
    else:
        op.drop_column('orders_order_line', 'cancelled_quantity')
