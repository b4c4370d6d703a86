"""invoices and credit notes (finance_invoice, finance_invoice_line)

Revision ID: finance_0005_invoices
Revises: finance_0004
Create Date: 2026-12-07 19:40:00.000000

New tables only: orders invoiced before this revision have no invoice (issue one from the order).
"""

import sqlalchemy as sa
from alembic import op

import erp_core.db

revision = 'finance_0005_invoices'
down_revision = 'finance_0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('finance_invoice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=True),
    sa.Column('refund_id', sa.Integer(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('net_minor', sa.BigInteger(), nullable=False),
    sa.Column('tax_minor', sa.BigInteger(), nullable=False),
    sa.Column('gross_minor', sa.BigInteger(), nullable=False),
    sa.Column('credited_minor', sa.BigInteger(), nullable=False),
    sa.Column('seller', sa.JSON(), nullable=False),
    sa.Column('buyer', sa.JSON(), nullable=False),
    sa.Column('buyer_name', sa.String(length=200), nullable=False),
    sa.Column('invoice_type', sa.String(length=16), nullable=False),
    sa.Column('issued_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('issued_by_name', sa.String(length=120), nullable=False),
    sa.Column('fapiao_code', sa.String(length=20), nullable=True),
    sa.Column('fapiao_number', sa.String(length=20), nullable=True),
    sa.Column('fapiao_date', sa.Date(), nullable=True),
    sa.Column('fapiao_adapter', sa.String(length=40), nullable=True),
    sa.Column('fapiao_recorded_by_name', sa.String(length=120), nullable=True),
    sa.CheckConstraint("kind IN ('invoice', 'credit_note')", name=op.f('ck_finance_invoice_kind_known')),
    sa.CheckConstraint('gross_minor >= 0', name=op.f('ck_finance_invoice_gross_not_negative')),
    sa.CheckConstraint('credited_minor >= 0 AND credited_minor <= gross_minor',
                       name=op.f('ck_finance_invoice_credit_within_gross')),
    sa.ForeignKeyConstraint(['invoice_id'], ['finance_invoice.id'],
                            name=op.f('fk_finance_invoice_invoice_id_finance_invoice')),
    sa.ForeignKeyConstraint(['order_id'], ['orders_order.id'], name=op.f('fk_finance_invoice_order_id_orders_order')),
    sa.ForeignKeyConstraint(['refund_id'], ['finance_refund.id'],
                            name=op.f('fk_finance_invoice_refund_id_finance_refund')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_invoice')),
    sa.UniqueConstraint('number', name=op.f('uq_finance_invoice_number'))
    )
    with op.batch_alter_table('finance_invoice', schema=None) as batch_op:
        batch_op.create_index('ix_finance_invoice_buyer', ['buyer_name'], unique=False)
        batch_op.create_index('ix_finance_invoice_fapiao', ['kind', 'invoice_type', 'fapiao_number'], unique=False)
        batch_op.create_index('ix_finance_invoice_issued', ['kind', 'issued_at'], unique=False)
        batch_op.create_index('ix_finance_invoice_order', ['order_id', 'kind'], unique=False)
        batch_op.create_index('ix_finance_invoice_parent', ['invoice_id'], unique=False)
        batch_op.create_index('ix_finance_invoice_refund', ['refund_id'], unique=False)

    op.create_table('finance_invoice_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price_minor', sa.BigInteger(), nullable=False),
    sa.Column('tax_rate_percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('tax_exempt', sa.Boolean(), nullable=False),
    sa.Column('net_minor', sa.BigInteger(), nullable=False),
    sa.Column('tax_minor', sa.BigInteger(), nullable=False),
    sa.Column('gross_minor', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['finance_invoice.id'],
                            name=op.f('fk_finance_invoice_line_invoice_id_finance_invoice'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_invoice_line'))
    )
    with op.batch_alter_table('finance_invoice_line', schema=None) as batch_op:
        batch_op.create_index('ix_finance_invoice_line_invoice', ['invoice_id', 'position'], unique=False)


def downgrade():
    with op.batch_alter_table('finance_invoice_line', schema=None) as batch_op:
        batch_op.drop_index('ix_finance_invoice_line_invoice')
    op.drop_table('finance_invoice_line')
    with op.batch_alter_table('finance_invoice', schema=None) as batch_op:
        for name in ('ix_finance_invoice_refund', 'ix_finance_invoice_parent', 'ix_finance_invoice_order',
                     'ix_finance_invoice_issued', 'ix_finance_invoice_fapiao', 'ix_finance_invoice_buyer'):
            batch_op.drop_index(name)
    op.drop_table('finance_invoice')
