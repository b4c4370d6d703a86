"""logistics tables

Revision ID: logistics_0001
Revises:
Create Date: 2026-11-28 06:33:20.189582
"""

import sqlalchemy as sa
from alembic import op

import erp_core.db

revision = 'logistics_0001'
down_revision = None
branch_labels = ('logistics',)
depends_on = ['core_0003', 'orders_0001']


def upgrade():
    op.create_table('logistics_carrier',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('adapter', sa.String(length=60), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('credentials', sa.JSON(), nullable=False),
    sa.Column('webhook_nonce', sa.String(length=64), nullable=False),
    sa.Column('created_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_logistics_carrier')),
    sa.UniqueConstraint('code', name=op.f('uq_logistics_carrier_code'))
    )
    op.create_table('logistics_shipment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('carrier_id', sa.Integer(), nullable=True),
    sa.Column('carrier_name', sa.String(length=120), nullable=False),
    sa.Column('tracking_number', sa.String(length=64), nullable=True),
    sa.Column('registration', sa.String(length=12), nullable=False),
    sa.Column('registration_error', sa.Text(), nullable=False),
    sa.Column('ship_date', sa.Date(), nullable=True),
    sa.Column('expected_delivery', sa.Date(), nullable=True),
    sa.Column('shipped_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('packages', sa.Integer(), nullable=True),
    sa.Column('weight_grams', sa.Integer(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('label_data', sa.LargeBinary(), nullable=True),
    sa.Column('label_type', sa.String(length=60), nullable=False),
    sa.Column('label_name', sa.String(length=120), nullable=False),
    sa.Column('replaces_id', sa.Integer(), nullable=True),
    sa.Column('source_type', sa.String(length=40), nullable=True),
    sa.Column('source_id', sa.String(length=40), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('request_key', sa.String(length=64), nullable=True),
    sa.Column('last_event_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_synced_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('packages IS NULL OR packages > 0', name=op.f('ck_logistics_shipment_packages_positive')),
    sa.CheckConstraint('weight_grams IS NULL OR weight_grams > 0', name=op.f('ck_logistics_shipment_weight_positive')),
    sa.ForeignKeyConstraint(['carrier_id'], ['logistics_carrier.id'], name=op.f('fk_logistics_shipment_carrier_id_logistics_carrier')),
    sa.ForeignKeyConstraint(['created_by_id'], ['core_user.id'], name=op.f('fk_logistics_shipment_created_by_id_core_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['orders_order.id'], name=op.f('fk_logistics_shipment_order_id_orders_order')),
    sa.ForeignKeyConstraint(['replaces_id'], ['logistics_shipment.id'], name=op.f('fk_logistics_shipment_replaces_id_logistics_shipment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_logistics_shipment')),
    sa.UniqueConstraint('carrier_id', 'tracking_number', name='uq_logistics_shipment_tracking'),
    sa.UniqueConstraint('number', name=op.f('uq_logistics_shipment_number')),
    sa.UniqueConstraint('request_key', name=op.f('uq_logistics_shipment_request_key'))
    )
    with op.batch_alter_table('logistics_shipment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_logistics_shipment_carrier_id'), ['carrier_id'], unique=False)
        batch_op.create_index('ix_logistics_shipment_created', ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_logistics_shipment_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_logistics_shipment_replaces_id'), ['replaces_id'], unique=False)
        batch_op.create_index('ix_logistics_shipment_ship_date', ['ship_date'], unique=False)
        batch_op.create_index('ix_logistics_shipment_status_expected', ['status', 'expected_delivery'], unique=False)
        batch_op.create_index('ix_logistics_shipment_status_synced', ['status', 'last_synced_at'], unique=False)

    op.create_table('logistics_exception',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('open_key', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('raised_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('raised_by', sa.String(length=120), nullable=False),
    sa.Column('contacted_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolution', sa.String(length=24), nullable=True),
    sa.Column('resolution_note', sa.Text(), nullable=False),
    sa.Column('resolved_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=120), nullable=True),
    sa.Column('links', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders_order.id'], name=op.f('fk_logistics_exception_order_id_orders_order')),
    sa.ForeignKeyConstraint(['owner_id'], ['core_user.id'], name=op.f('fk_logistics_exception_owner_id_core_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shipment_id'], ['logistics_shipment.id'], name=op.f('fk_logistics_exception_shipment_id_logistics_shipment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_logistics_exception')),
    sa.UniqueConstraint('open_key', name=op.f('uq_logistics_exception_open_key'))
    )
    with op.batch_alter_table('logistics_exception', schema=None) as batch_op:
        batch_op.create_index('ix_logistics_exception_kind_status', ['kind', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_logistics_exception_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_logistics_exception_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index('ix_logistics_exception_raised', ['raised_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_logistics_exception_shipment_id'), ['shipment_id'], unique=False)
        batch_op.create_index('ix_logistics_exception_status_due', ['status', 'due_date'], unique=False)

    op.create_table('logistics_shipment_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=True),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_logistics_shipment_line_quantity_positive')),
    sa.ForeignKeyConstraint(['order_line_id'], ['orders_order_line.id'], name=op.f('fk_logistics_shipment_line_order_line_id_orders_order_line'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shipment_id'], ['logistics_shipment.id'], name=op.f('fk_logistics_shipment_line_shipment_id_logistics_shipment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_logistics_shipment_line'))
    )
    with op.batch_alter_table('logistics_shipment_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_logistics_shipment_line_order_line_id'), ['order_line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_logistics_shipment_line_shipment_id'), ['shipment_id'], unique=False)

    op.create_table('logistics_tracking_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=120), nullable=False),
    sa.Column('occurred_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('exception_kind', sa.String(length=24), nullable=True),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('location', sa.String(length=120), nullable=False),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('received_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['core_user.id'], name=op.f('fk_logistics_tracking_event_created_by_id_core_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shipment_id'], ['logistics_shipment.id'], name=op.f('fk_logistics_tracking_event_shipment_id_logistics_shipment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_logistics_tracking_event')),
    sa.UniqueConstraint('shipment_id', 'external_id', name='uq_logistics_tracking_event_external')
    )
    with op.batch_alter_table('logistics_tracking_event', schema=None) as batch_op:
        batch_op.create_index('ix_logistics_tracking_event_shipment_time', ['shipment_id', 'occurred_at'], unique=False)



def downgrade():
    with op.batch_alter_table('logistics_tracking_event', schema=None) as batch_op:
        batch_op.drop_index('ix_logistics_tracking_event_shipment_time')

    op.drop_table('logistics_tracking_event')
    with op.batch_alter_table('logistics_shipment_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_logistics_shipment_line_shipment_id'))
        batch_op.drop_index(batch_op.f('ix_logistics_shipment_line_order_line_id'))

    op.drop_table('logistics_shipment_line')
    with op.batch_alter_table('logistics_exception', schema=None) as batch_op:
        batch_op.drop_index('ix_logistics_exception_status_due')
        batch_op.drop_index(batch_op.f('ix_logistics_exception_shipment_id'))
        batch_op.drop_index('ix_logistics_exception_raised')
        batch_op.drop_index(batch_op.f('ix_logistics_exception_owner_id'))
        batch_op.drop_index(batch_op.f('ix_logistics_exception_order_id'))
        batch_op.drop_index('ix_logistics_exception_kind_status')

    op.drop_table('logistics_exception')
    with op.batch_alter_table('logistics_shipment', schema=None) as batch_op:
        batch_op.drop_index('ix_logistics_shipment_status_synced')
        batch_op.drop_index('ix_logistics_shipment_status_expected')
        batch_op.drop_index('ix_logistics_shipment_ship_date')
        batch_op.drop_index(batch_op.f('ix_logistics_shipment_replaces_id'))
        batch_op.drop_index(batch_op.f('ix_logistics_shipment_order_id'))
        batch_op.drop_index('ix_logistics_shipment_created')
        batch_op.drop_index(batch_op.f('ix_logistics_shipment_carrier_id'))

    op.drop_table('logistics_shipment')
    op.drop_table('logistics_carrier')
