"""mail outbox: every outgoing message with its state, attempts and the server's answer

Revision ID: core_0006
Revises: core_0005
Create Date: 2026-12-07 15:50:00
"""

import sqlalchemy as sa
from alembic import op

import erp_core.db

revision = 'core_0006'
down_revision = 'core_0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('core_mail_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=True),
    sa.Column('language', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('server_reply', sa.String(length=500), nullable=True),
    sa.Column('message_id', sa.String(length=250), nullable=True),
    sa.Column('created_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_mail_outbox'))
    )
    with op.batch_alter_table('core_mail_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_core_mail_outbox_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_core_mail_outbox_status', ['status', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('core_mail_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_core_mail_outbox_status')
        batch_op.drop_index('ix_core_mail_outbox_due')
    op.drop_table('core_mail_outbox')
