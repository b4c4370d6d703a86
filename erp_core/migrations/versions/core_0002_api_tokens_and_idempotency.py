"""api tokens and idempotency

Revision ID: core_0002
Revises: core_0001
Create Date: 2026-11-28 05:25:52.852483
"""

import sqlalchemy as sa
from alembic import op

import erp_core.db

revision = 'core_0002'
down_revision = 'core_0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('core_api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['core_user.id'], name=op.f('fk_core_api_token_user_id_core_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_core_api_token_token_hash'))
    )
    with op.batch_alter_table('core_api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_api_token_user_id'), ['user_id'], unique=False)

    op.create_table('core_idempotency',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('content_type', sa.String(length=100), nullable=True),
    sa.Column('location', sa.Text(), nullable=True),
    sa.Column('body', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['core_user.id'], name=op.f('fk_core_idempotency_user_id_core_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_idempotency')),
    sa.UniqueConstraint('user_id', 'key', name='uq_core_idempotency_user_key')
    )
    with op.batch_alter_table('core_idempotency', schema=None) as batch_op:
        batch_op.create_index('ix_core_idempotency_created', ['created_at'], unique=False)



def downgrade():
    with op.batch_alter_table('core_idempotency', schema=None) as batch_op:
        batch_op.drop_index('ix_core_idempotency_created')

    op.drop_table('core_idempotency')
    with op.batch_alter_table('core_api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_api_token_user_id'))

    op.drop_table('core_api_token')
