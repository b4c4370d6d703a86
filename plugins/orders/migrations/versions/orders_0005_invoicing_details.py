"""buyers' invoicing details: the customer's set and each order's copy

Revision ID: orders_0005_invoicing_details
Revises: orders_0004_tax
Create Date: 2026-12-07 19:50:00

Two 1:1 tables; existing customers and orders get no row, which reads as empty details asking
for no invoice.
"""

import sqlalchemy as sa
from alembic import op

import erp_core.db

revision = 'orders_0005_invoicing_details'
down_revision = 'orders_0004_tax'
branch_labels = None
depends_on = None


def _details_columns():
    return [
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('taxpayer_id', sa.String(length=18), nullable=False),
        sa.Column('address', sa.String(length=300), nullable=False),
        sa.Column('phone', sa.String(length=40), nullable=False),
        sa.Column('bank', sa.String(length=200), nullable=False),
        sa.Column('account', sa.String(length=40), nullable=False),
        sa.Column('invoice_type', sa.String(length=10), nullable=False),
        sa.Column('updated_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    ]


def upgrade():
    op.create_table('orders_customer_invoicing',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    *_details_columns(),
    sa.CheckConstraint("invoice_type IN ('none', 'ordinary', 'special')",
                       name=op.f('ck_orders_customer_invoicing_invoice_type_known')),
    sa.ForeignKeyConstraint(['customer_id'], ['orders_customer.id'],
                            name=op.f('fk_orders_customer_invoicing_customer_id_orders_customer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_orders_customer_invoicing'))
    )
    op.create_table('orders_order_invoicing',
    sa.Column('order_id', sa.Integer(), nullable=False),
    *_details_columns(),
    sa.CheckConstraint("invoice_type IN ('none', 'ordinary', 'special')",
                       name=op.f('ck_orders_order_invoicing_invoice_type_known')),
    sa.ForeignKeyConstraint(['order_id'], ['orders_order.id'],
                            name=op.f('fk_orders_order_invoicing_order_id_orders_order'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_orders_order_invoicing'))
    )


def downgrade():
    op.drop_table('orders_order_invoicing')
    op.drop_table('orders_customer_invoicing')
