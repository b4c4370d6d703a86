"""outgoing webhooks

Revision ID: core_0003
Revises: core_0002
Create Date: 2026-11-28 05:30:11.303991
"""

import sqlalchemy as sa
from alembic import op

import erp_core.db

revision = 'core_0003'
down_revision = 'core_0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('core_webhook',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('created_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_webhook'))
    )
    op.create_table('core_webhook_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('webhook_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=60), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('response_code', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.Text(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['webhook_id'], ['core_webhook.id'], name=op.f('fk_core_webhook_delivery_webhook_id_core_webhook'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_webhook_delivery'))
    )
    with op.batch_alter_table('core_webhook_delivery', schema=None) as batch_op:
        batch_op.create_index('ix_core_webhook_delivery_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_core_webhook_delivery_hook', ['webhook_id', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('core_webhook_delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_core_webhook_delivery_hook')
        batch_op.drop_index('ix_core_webhook_delivery_due')

    op.drop_table('core_webhook_delivery')
    op.drop_table('core_webhook')
