"""tax on purchase order lines; supplier bills and payments against them

Adds purchasing_bill (the supplier's invoice for a purchase order) and purchasing_bill_payment.

Existing purchase order lines migrate as "no tax": rate 0 % (not exempt), tax 0 and
net = gross = quantity x unit price, so every order's total is unchanged.

Revision ID: purchasing_0002_bills_and_tax
Revises: purchasing_0001
Create Date: 2026-12-07 21:05:00
"""

import sqlalchemy as sa
from alembic import op

import erp_core.db

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

    op.create_table('purchasing_bill',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('paid_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('bill_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_purchasing_bill_amount_positive')),
    sa.CheckConstraint('paid_minor >= 0 AND paid_minor <= amount_minor', name=op.f('ck_purchasing_bill_paid_in_range')),
    sa.ForeignKeyConstraint(['order_id'], ['purchasing_order.id'], name=op.f('fk_purchasing_bill_order_id_purchasing_order')),
    sa.ForeignKeyConstraint(['supplier_id'], ['purchasing_supplier.id'], name=op.f('fk_purchasing_bill_supplier_id_purchasing_supplier')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchasing_bill')),
    sa.UniqueConstraint('supplier_id', 'number', name='uq_purchasing_bill_supplier_number')
    )
    with op.batch_alter_table('purchasing_bill', schema=None) as batch_op:
        batch_op.create_index('ix_purchasing_bill_order', ['order_id'], unique=False)
        batch_op.create_index('ix_purchasing_bill_due', ['status', 'due_date'], unique=False)
    op.create_table('purchasing_bill_payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.Integer(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_purchasing_bill_payment_amount_positive')),
    sa.ForeignKeyConstraint(['bill_id'], ['purchasing_bill.id'], name=op.f('fk_purchasing_bill_payment_bill_id_purchasing_bill')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchasing_bill_payment'))
    )
    with op.batch_alter_table('purchasing_bill_payment', schema=None) as batch_op:
        batch_op.create_index('ix_purchasing_bill_payment_bill', ['bill_id', 'id'], unique=False)


def downgrade():
    op.drop_table('purchasing_bill_payment')
    op.drop_table('purchasing_bill')
    with op.batch_alter_table('purchasing_order_line', schema=None) as batch_op:
        for column in ('gross_minor', 'tax_minor', 'net_minor', 'tax_exempt', 'tax_rate_percent'):
            batch_op.drop_column(column)
