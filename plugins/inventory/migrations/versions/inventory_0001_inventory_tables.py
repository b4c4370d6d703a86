"""inventory tables

Revision ID: inventory_0001
Revises:
Create Date: 2026-11-28 05:39:05.877904
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import erp_core.db

revision = 'inventory_0001'
down_revision = None
branch_labels = ('inventory',)
depends_on = ['core_0001', 'orders_0001']


def upgrade():
    op.create_table('inventory_warehouse',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('created_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_warehouse')),
    sa.UniqueConstraint('code', name=op.f('uq_inventory_warehouse_code'))
    )
    # A site starts with one default warehouse (renamed freely on the warehouses page).
    warehouse = sa.table('inventory_warehouse', sa.column('code', sa.String), sa.column('name', sa.String),
                         sa.column('address', sa.Text), sa.column('active', sa.Boolean),
                         sa.column('is_default', sa.Boolean), sa.column('created_at', erp_core.db.UTCDateTime()))
    op.bulk_insert(warehouse, [{'code': 'MAIN', 'name': 'Main warehouse', 'address': '', 'active': True,
                                'is_default': True, 'created_at': datetime.now(UTC)}])
    op.create_table('inventory_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('to_warehouse_id', sa.Integer(), nullable=True),
    sa.Column('supplier', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('form_token', sa.String(length=64), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=120), nullable=False),
    sa.Column('created_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['core_user.id'], name=op.f('fk_inventory_document_actor_id_core_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['to_warehouse_id'], ['inventory_warehouse.id'], name=op.f('fk_inventory_document_to_warehouse_id_inventory_warehouse')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['inventory_warehouse.id'], name=op.f('fk_inventory_document_warehouse_id_inventory_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_document')),
    sa.UniqueConstraint('form_token', name=op.f('uq_inventory_document_form_token')),
    sa.UniqueConstraint('number', name=op.f('uq_inventory_document_number'))
    )
    with op.batch_alter_table('inventory_document', schema=None) as batch_op:
        batch_op.create_index('ix_inventory_document_kind', ['kind', 'id'], unique=False)

    op.create_table('inventory_level',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('on_hand', sa.Integer(), nullable=False),
    sa.Column('reserved', sa.Integer(), nullable=False),
    sa.Column('low_alerted', sa.Boolean(), nullable=False),
    sa.Column('updated_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('on_hand >= reserved', name=op.f('ck_inventory_level_reserved_within_on_hand')),
    sa.CheckConstraint('reserved >= 0', name=op.f('ck_inventory_level_reserved_not_negative')),
    sa.ForeignKeyConstraint(['product_id'], ['orders_product.id'], name=op.f('fk_inventory_level_product_id_orders_product')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['inventory_warehouse.id'], name=op.f('fk_inventory_level_warehouse_id_inventory_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_level')),
    sa.UniqueConstraint('product_id', 'warehouse_id', name='uq_inventory_level_product_warehouse')
    )
    with op.batch_alter_table('inventory_level', schema=None) as batch_op:
        batch_op.create_index('ix_inventory_level_warehouse', ['warehouse_id', 'product_id'], unique=False)

    op.create_table('inventory_low_stock_alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('available', sa.Integer(), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.Column('created_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['product_id'], ['orders_product.id'], name=op.f('fk_inventory_low_stock_alert_product_id_orders_product')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['inventory_warehouse.id'], name=op.f('fk_inventory_low_stock_alert_warehouse_id_inventory_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_low_stock_alert'))
    )
    with op.batch_alter_table('inventory_low_stock_alert', schema=None) as batch_op:
        batch_op.create_index('ix_inventory_alert_level', ['product_id', 'warehouse_id', 'resolved_at'], unique=False)
        batch_op.create_index('ix_inventory_alert_open', ['resolved_at', 'id'], unique=False)

    op.create_table('inventory_stock_rule',
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('low_threshold', sa.Integer(), nullable=False),
    sa.Column('reorder_quantity', sa.Integer(), nullable=False),
    sa.Column('updated_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('low_threshold >= 0', name=op.f('ck_inventory_stock_rule_threshold_not_negative')),
    sa.CheckConstraint('reorder_quantity >= 0', name=op.f('ck_inventory_stock_rule_reorder_not_negative')),
    sa.ForeignKeyConstraint(['product_id'], ['orders_product.id'], name=op.f('fk_inventory_stock_rule_product_id_orders_product')),
    sa.PrimaryKeyConstraint('product_id', name=op.f('pk_inventory_stock_rule'))
    )
    op.create_table('inventory_expected_receipt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('supplier', sa.String(length=200), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('expected_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('received_quantity', sa.Integer(), nullable=True),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_inventory_expected_receipt_quantity_positive')),
    sa.ForeignKeyConstraint(['document_id'], ['inventory_document.id'], name=op.f('fk_inventory_expected_receipt_document_id_inventory_document')),
    sa.ForeignKeyConstraint(['product_id'], ['orders_product.id'], name=op.f('fk_inventory_expected_receipt_product_id_orders_product')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['inventory_warehouse.id'], name=op.f('fk_inventory_expected_receipt_warehouse_id_inventory_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_expected_receipt'))
    )
    with op.batch_alter_table('inventory_expected_receipt', schema=None) as batch_op:
        batch_op.create_index('ix_inventory_expected_date', ['status', 'expected_date'], unique=False)
        batch_op.create_index('ix_inventory_expected_open', ['status', 'product_id', 'warehouse_id'], unique=False)

    op.create_table('inventory_move',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('on_hand_delta', sa.Integer(), nullable=False),
    sa.Column('reserved_delta', sa.Integer(), nullable=False),
    sa.Column('on_hand_after', sa.Integer(), nullable=False),
    sa.Column('reserved_after', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=120), nullable=False),
    sa.Column('created_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('quantity >= 0', name=op.f('ck_inventory_move_quantity_not_negative')),
    sa.ForeignKeyConstraint(['actor_id'], ['core_user.id'], name=op.f('fk_inventory_move_actor_id_core_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['document_id'], ['inventory_document.id'], name=op.f('fk_inventory_move_document_id_inventory_document')),
    sa.ForeignKeyConstraint(['order_id'], ['orders_order.id'], name=op.f('fk_inventory_move_order_id_orders_order'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['product_id'], ['orders_product.id'], name=op.f('fk_inventory_move_product_id_orders_product')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['inventory_warehouse.id'], name=op.f('fk_inventory_move_warehouse_id_inventory_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inventory_move'))
    )
    with op.batch_alter_table('inventory_move', schema=None) as batch_op:
        batch_op.create_index('ix_inventory_move_document', ['document_id'], unique=False)
        batch_op.create_index('ix_inventory_move_order', ['order_id', 'product_id'], unique=False)
        batch_op.create_index('ix_inventory_move_product_warehouse', ['product_id', 'warehouse_id', 'id'], unique=False)
        batch_op.create_index('ix_inventory_move_reference', ['reference'], unique=False)



def downgrade():
    with op.batch_alter_table('inventory_move', schema=None) as batch_op:
        batch_op.drop_index('ix_inventory_move_reference')
        batch_op.drop_index('ix_inventory_move_product_warehouse')
        batch_op.drop_index('ix_inventory_move_order')
        batch_op.drop_index('ix_inventory_move_document')

    op.drop_table('inventory_move')
    with op.batch_alter_table('inventory_expected_receipt', schema=None) as batch_op:
        batch_op.drop_index('ix_inventory_expected_open')
        batch_op.drop_index('ix_inventory_expected_date')

    op.drop_table('inventory_expected_receipt')
    op.drop_table('inventory_stock_rule')
    with op.batch_alter_table('inventory_low_stock_alert', schema=None) as batch_op:
        batch_op.drop_index('ix_inventory_alert_open')
        batch_op.drop_index('ix_inventory_alert_level')

    op.drop_table('inventory_low_stock_alert')
    with op.batch_alter_table('inventory_level', schema=None) as batch_op:
        batch_op.drop_index('ix_inventory_level_warehouse')

    op.drop_table('inventory_level')
    with op.batch_alter_table('inventory_document', schema=None) as batch_op:
        batch_op.drop_index('ix_inventory_document_kind')

    op.drop_table('inventory_document')
    op.drop_table('inventory_warehouse')
