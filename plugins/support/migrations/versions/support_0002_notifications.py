"""customer notifications

Revision ID: support_0002
Revises: support_0001
Create Date: 2026-12-07 16:00:00
"""

import sqlalchemy as sa
from alembic import op

import erp_core.db

revision = 'support_0002'
down_revision = 'support_0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('support_notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('ref', sa.String(length=60), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('adapter', sa.String(length=40), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('created_at', erp_core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders_order.id'], name=op.f('fk_support_notification_order_id_orders_order'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_notification'))
    )
    with op.batch_alter_table('support_notification', schema=None) as batch_op:
        batch_op.create_index('ix_support_notification_event', ['order_id', 'kind', 'ref', 'channel'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_notification_order_id'), ['order_id'], unique=False)


def downgrade():
    with op.batch_alter_table('support_notification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_notification_order_id'))
        batch_op.drop_index('ix_support_notification_event')
    op.drop_table('support_notification')
