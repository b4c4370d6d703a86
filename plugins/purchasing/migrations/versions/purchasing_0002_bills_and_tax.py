"""tax on purchase order lines: the product's rate and the line's net/tax/gross

Existing purchase order lines migrate as "no tax": rate 0 % (not exempt), tax 0 and
net = gross = quantity x unit price, so every order's total is unchanged.

Revision ID: purchasing_0002_bills_and_tax
Revises: purchasing_0001
Create Date: 2026-12-07 21:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'purchasing_0002_bills_and_tax'
down_revision = 'purchasing_0001'
branch_labels = None
depends_on = ['orders_0004_tax']


def upgrade():
    with op.batch_alter_table('purchasing_order_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tax_rate_percent', sa.Numeric(precision=5, scale=2), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('tax_exempt', sa.Boolean(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('net_minor', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('tax_minor', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('gross_minor', sa.BigInteger(), nullable=False, server_default='0'))
    # Existing lines: no tax, net = gross = quantity x unit price (unit prices include tax).
    op.execute("UPDATE purchasing_order_line SET net_minor = quantity * unit_price_minor, "
               "gross_minor = quantity * unit_price_minor")


def downgrade():
    with op.batch_alter_table('purchasing_order_line', schema=None) as batch_op:
        for column in ('gross_minor', 'tax_minor', 'net_minor', 'tax_exempt', 'tax_rate_percent'):
            batch_op.drop_column(column)
