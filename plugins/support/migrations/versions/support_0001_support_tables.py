"""support tables

Revision ID: support_0001
Revises:
Create Date: 2026-11-28 05:39:15.566432
"""

import sqlalchemy as sa
from alembic import op

import erp_core.db

revision = 'support_0001'
down_revision = None
branch_labels = ('support',)
depends_on = ['core_0001', 'orders_0001']


def upgrade():
    op.create_table('support_canned_reply',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_canned_reply')),
    sa.UniqueConstraint('title', name=op.f('uq_support_canned_reply_title'))
    )
    op.create_table('support_rate_limit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=40), nullable=False),
    sa.Column('client', sa.String(length=120), nullable=False),
    sa.Column('window_start', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_rate_limit')),
    sa.UniqueConstraint('scope', 'client', 'window_start', name='uq_support_rate_limit_window')
    )
    with op.batch_alter_table('support_rate_limit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_rate_limit_window_start'), ['window_start'], unique=False)

    op.create_table('support_team',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('timezone', sa.String(length=60), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_team')),
    sa.UniqueConstraint('name', name=op.f('uq_support_team_name'))
    )
    op.create_table('support_team_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.SmallInteger(), nullable=False),
    sa.Column('start_minute', sa.SmallInteger(), nullable=False),
    sa.Column('end_minute', sa.SmallInteger(), nullable=False),
    sa.CheckConstraint('start_minute >= 0 AND end_minute <= 1440 AND end_minute > start_minute', name=op.f('ck_support_team_hours_minutes_range')),
    sa.CheckConstraint('weekday >= 0 AND weekday <= 6', name=op.f('ck_support_team_hours_weekday_range')),
    sa.ForeignKeyConstraint(['team_id'], ['support_team.id'], name=op.f('fk_support_team_hours_team_id_support_team'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_team_hours'))
    )
    with op.batch_alter_table('support_team_hours', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_team_hours_team_id'), ['team_id'], unique=False)

    op.create_table('support_team_member',
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('is_lead', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['support_team.id'], name=op.f('fk_support_team_member_team_id_support_team'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['core_user.id'], name=op.f('fk_support_team_member_user_id_core_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('team_id', 'user_id', name=op.f('pk_support_team_member'))
    )
    with op.batch_alter_table('support_team_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_team_member_user_id'), ['user_id'], unique=False)

    op.create_table('support_order_access',
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('nonce', sa.String(length=32), nullable=True),
    sa.Column('created_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('rotated_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lock_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders_order.id'], name=op.f('fk_support_order_access_order_id_orders_order'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_support_order_access'))
    )
    op.create_table('support_return',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason_code', sa.String(length=24), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('staff_message', sa.Text(), nullable=False),
    sa.Column('restock', sa.Boolean(), nullable=True),
    sa.Column('refund_amount_minor', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('created_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('rejected_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('received_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('refund_amount_minor IS NULL OR refund_amount_minor >= 0', name=op.f('ck_support_return_refund_not_negative')),
    sa.ForeignKeyConstraint(['created_by_id'], ['core_user.id'], name=op.f('fk_support_return_created_by_id_core_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['orders_order.id'], name=op.f('fk_support_return_order_id_orders_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_return')),
    sa.UniqueConstraint('number', name=op.f('uq_support_return_number'))
    )
    with op.batch_alter_table('support_return', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_return_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_support_return_status_created', ['status', 'created_at'], unique=False)

    op.create_table('support_ticket',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('category', sa.String(length=24), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('contact_name', sa.String(length=200), nullable=False),
    sa.Column('contact_email', sa.String(length=200), nullable=False),
    sa.Column('contact_phone', sa.String(length=40), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('first_response_due', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('first_responded_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolution_due', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('pending_since', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sla_breached_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('source_type', sa.String(length=40), nullable=True),
    sa.Column('source_id', sa.String(length=60), nullable=True),
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['core_user.id'], name=op.f('fk_support_ticket_assignee_id_core_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['core_user.id'], name=op.f('fk_support_ticket_created_by_id_core_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['orders_customer.id'], name=op.f('fk_support_ticket_customer_id_orders_customer'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['orders_order.id'], name=op.f('fk_support_ticket_order_id_orders_order'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['support_team.id'], name=op.f('fk_support_ticket_team_id_support_team'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_ticket')),
    sa.UniqueConstraint('number', name=op.f('uq_support_ticket_number'))
    )
    with op.batch_alter_table('support_ticket', schema=None) as batch_op:
        batch_op.create_index('ix_support_ticket_assignee_status', ['assignee_id', 'status'], unique=False)
        batch_op.create_index('ix_support_ticket_created', ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_ticket_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_ticket_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_support_ticket_source', ['source_type', 'source_id'], unique=False)
        batch_op.create_index('ix_support_ticket_status_first_due', ['status', 'first_response_due'], unique=False)
        batch_op.create_index('ix_support_ticket_status_resolution_due', ['status', 'resolution_due'], unique=False)
        batch_op.create_index('ix_support_ticket_team_status', ['team_id', 'status'], unique=False)

    op.create_table('support_return_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('return_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=True),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_support_return_line_quantity_positive')),
    sa.ForeignKeyConstraint(['order_line_id'], ['orders_order_line.id'], name=op.f('fk_support_return_line_order_line_id_orders_order_line'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['return_id'], ['support_return.id'], name=op.f('fk_support_return_line_return_id_support_return'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_return_line'))
    )
    with op.batch_alter_table('support_return_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_return_line_order_line_id'), ['order_line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_return_line_return_id'), ['return_id'], unique=False)

    op.create_table('support_return_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('return_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('manual', sa.Boolean(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('external_id', sa.String(length=60), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('actor_name', sa.String(length=120), nullable=False),
    sa.Column('created_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['return_id'], ['support_return.id'], name=op.f('fk_support_return_link_return_id_support_return'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_return_link'))
    )
    with op.batch_alter_table('support_return_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_return_link_return_id'), ['return_id'], unique=False)

    op.create_table('support_survey',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('order_key', sa.Integer(), nullable=True),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.String(length=24), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('issued_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('score', sa.SmallInteger(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('followup_ticket_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('score IS NULL OR (score >= 1 AND score <= 5)', name=op.f('ck_support_survey_score_range')),
    sa.ForeignKeyConstraint(['agent_id'], ['core_user.id'], name=op.f('fk_support_survey_agent_id_core_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['followup_ticket_id'], ['support_ticket.id'], name=op.f('fk_support_survey_followup_ticket_id_support_ticket'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['orders_order.id'], name=op.f('fk_support_survey_order_id_orders_order'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['support_team.id'], name=op.f('fk_support_survey_team_id_support_team'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['support_ticket.id'], name=op.f('fk_support_survey_ticket_id_support_ticket'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_survey')),
    sa.UniqueConstraint('order_key', name=op.f('uq_support_survey_order_key')),
    sa.UniqueConstraint('ticket_id', name=op.f('uq_support_survey_ticket_id'))
    )
    with op.batch_alter_table('support_survey', schema=None) as batch_op:
        batch_op.create_index('ix_support_survey_answered', ['answered_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_survey_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_support_survey_unsent', ['sent_at', 'issued_at'], unique=False)

    op.create_table('support_ticket_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author_name', sa.String(length=200), nullable=False),
    sa.Column('created_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('emailed', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['core_user.id'], name=op.f('fk_support_ticket_message_author_id_core_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['support_ticket.id'], name=op.f('fk_support_ticket_message_ticket_id_support_ticket'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_ticket_message'))
    )
    with op.batch_alter_table('support_ticket_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_ticket_message_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('support_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('return_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('stored_name', sa.String(length=80), nullable=False),
    sa.Column('content_type', sa.String(length=80), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('from_customer', sa.Boolean(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['support_ticket_message.id'], name=op.f('fk_support_attachment_message_id_support_ticket_message'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['return_id'], ['support_return.id'], name=op.f('fk_support_attachment_return_id_support_return'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['support_ticket.id'], name=op.f('fk_support_attachment_ticket_id_support_ticket'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['core_user.id'], name=op.f('fk_support_attachment_uploaded_by_id_core_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_attachment')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_support_attachment_stored_name'))
    )
    with op.batch_alter_table('support_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_attachment_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_attachment_return_id'), ['return_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_attachment_ticket_id'), ['ticket_id'], unique=False)



def downgrade():
    with op.batch_alter_table('support_attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_attachment_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_support_attachment_return_id'))
        batch_op.drop_index(batch_op.f('ix_support_attachment_message_id'))

    op.drop_table('support_attachment')
    with op.batch_alter_table('support_ticket_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_ticket_message_ticket_id'))

    op.drop_table('support_ticket_message')
    with op.batch_alter_table('support_survey', schema=None) as batch_op:
        batch_op.drop_index('ix_support_survey_unsent')
        batch_op.drop_index(batch_op.f('ix_support_survey_order_id'))
        batch_op.drop_index('ix_support_survey_answered')

    op.drop_table('support_survey')
    with op.batch_alter_table('support_return_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_return_link_return_id'))

    op.drop_table('support_return_link')
    with op.batch_alter_table('support_return_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_return_line_return_id'))
        batch_op.drop_index(batch_op.f('ix_support_return_line_order_line_id'))

    op.drop_table('support_return_line')
    with op.batch_alter_table('support_ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_support_ticket_team_status')
        batch_op.drop_index('ix_support_ticket_status_resolution_due')
        batch_op.drop_index('ix_support_ticket_status_first_due')
        batch_op.drop_index('ix_support_ticket_source')
        batch_op.drop_index(batch_op.f('ix_support_ticket_order_id'))
        batch_op.drop_index(batch_op.f('ix_support_ticket_customer_id'))
        batch_op.drop_index('ix_support_ticket_created')
        batch_op.drop_index('ix_support_ticket_assignee_status')

    op.drop_table('support_ticket')
    with op.batch_alter_table('support_return', schema=None) as batch_op:
        batch_op.drop_index('ix_support_return_status_created')
        batch_op.drop_index(batch_op.f('ix_support_return_order_id'))

    op.drop_table('support_return')
    op.drop_table('support_order_access')
    with op.batch_alter_table('support_team_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_team_member_user_id'))

    op.drop_table('support_team_member')
    with op.batch_alter_table('support_team_hours', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_team_hours_team_id'))

    op.drop_table('support_team_hours')
    op.drop_table('support_team')
    with op.batch_alter_table('support_rate_limit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_rate_limit_window_start'))

    op.drop_table('support_rate_limit')
    op.drop_table('support_canned_reply')
