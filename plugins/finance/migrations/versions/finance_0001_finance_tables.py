"""finance tables

Revision ID: finance_0001
Revises:
Create Date: 2026-11-28 05:58:05.955185
"""

import sqlalchemy as sa
from alembic import op

import erp_core.db

revision = 'finance_0001'
down_revision = None
branch_labels = ('finance',)
depends_on = ['core_0001', 'orders_0001']


def upgrade():
    op.create_table('finance_payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('refunded_minor', sa.BigInteger(), nullable=False),
    sa.Column('credit_minor', sa.BigInteger(), nullable=False),
    sa.Column('paid_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reference', sa.String(length=120), nullable=False),
    sa.Column('provider_ref', sa.String(length=120), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_name', sa.String(length=120), nullable=False),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_finance_payment_amount_positive')),
    sa.CheckConstraint('credit_minor >= 0 AND credit_minor <= amount_minor', name=op.f('ck_finance_payment_credit_within_amount')),
    sa.CheckConstraint('refunded_minor >= 0 AND refunded_minor <= amount_minor', name=op.f('ck_finance_payment_refunds_within_amount')),
    sa.ForeignKeyConstraint(['created_by_id'], ['core_user.id'], name=op.f('fk_finance_payment_created_by_id_core_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['orders_order.id'], name=op.f('fk_finance_payment_order_id_orders_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_payment')),
    sa.UniqueConstraint('method', 'provider_ref', name='uq_finance_payment_provider_ref')
    )
    with op.batch_alter_table('finance_payment', schema=None) as batch_op:
        batch_op.create_index('ix_finance_payment_created', ['created_at'], unique=False)
        batch_op.create_index('ix_finance_payment_order', ['order_id', 'status', 'paid_at', 'amount_minor'], unique=False)
        batch_op.create_index('ix_finance_payment_status_paid', ['status', 'paid_at', 'method', 'currency', 'amount_minor', 'order_id'], unique=False)

    op.create_table('finance_refund',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('source_type', sa.String(length=40), nullable=False),
    sa.Column('source_id', sa.String(length=60), nullable=True),
    sa.Column('reference', sa.String(length=120), nullable=False),
    sa.Column('provider_ref', sa.String(length=120), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('requested_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('refunded_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('requested_by_name', sa.String(length=120), nullable=False),
    sa.Column('decided_by_name', sa.String(length=120), nullable=True),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_finance_refund_amount_positive')),
    sa.ForeignKeyConstraint(['order_id'], ['orders_order.id'], name=op.f('fk_finance_refund_order_id_orders_order')),
    sa.ForeignKeyConstraint(['payment_id'], ['finance_payment.id'], name=op.f('fk_finance_refund_payment_id_finance_payment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_refund'))
    )
    with op.batch_alter_table('finance_refund', schema=None) as batch_op:
        batch_op.create_index('ix_finance_refund_order', ['order_id', 'status'], unique=False)
        batch_op.create_index('ix_finance_refund_payment', ['payment_id'], unique=False)
        batch_op.create_index('ix_finance_refund_requested', ['status', 'requested_at'], unique=False)
        batch_op.create_index('ix_finance_refund_source', ['source_type', 'source_id'], unique=False)
        batch_op.create_index('ix_finance_refund_status_refunded', ['status', 'refunded_at', 'method', 'currency', 'source_type', 'amount_minor', 'order_id'], unique=False)



def downgrade():
    with op.batch_alter_table('finance_refund', schema=None) as batch_op:
        batch_op.drop_index('ix_finance_refund_status_refunded')
        batch_op.drop_index('ix_finance_refund_source')
        batch_op.drop_index('ix_finance_refund_requested')
        batch_op.drop_index('ix_finance_refund_payment')
        batch_op.drop_index('ix_finance_refund_order')

    op.drop_table('finance_refund')
    with op.batch_alter_table('finance_payment', schema=None) as batch_op:
        batch_op.drop_index('ix_finance_payment_status_paid')
        batch_op.drop_index('ix_finance_payment_order')
        batch_op.drop_index('ix_finance_payment_created')

    op.drop_table('finance_payment')
