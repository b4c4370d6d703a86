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


def _create(table: str, key: str, target: str) -> None:
    """A 1:1 table of details keyed by ``key``, a foreign key to ``target``'s id."""
    op.create_table(table,
    sa.Column(key, sa.Integer(), nullable=False),
    *_details_columns(),
    sa.CheckConstraint("invoice_type IN ('none', 'ordinary', 'special')", name=op.f(f'ck_{table}_invoice_type_known')),
    sa.ForeignKeyConstraint([key], [f'{target}.id'], name=op.f(f'fk_{table}_{key}_{target}'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint(key, name=op.f(f'pk_{table}'))
    )


def upgrade():
    _create('orders_customer_invoicing', 'customer_id', 'orders_customer')
    _create('orders_order_invoicing', 'order_id', 'orders_order')


def downgrade():
    op.drop_table('orders_order_invoicing')
    op.drop_table('orders_customer_invoicing')
