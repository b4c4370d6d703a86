"""orders tables

Revision ID: orders_0001
Revises:
Create Date: 2026-11-28 05:19:08.196818
"""

import sqlalchemy as sa
from alembic import op

import erp_core.db

revision = 'orders_0001'
down_revision = None
branch_labels = ('orders',)
depends_on = 'core_0001'


def upgrade():
    op.create_table('orders_customer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('phone_key', sa.String(length=40), nullable=True),
    sa.Column('email', sa.String(length=200), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders_customer'))
    )
    with op.batch_alter_table('orders_customer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orders_customer_email'), ['email'], unique=False)
        batch_op.create_index('ix_orders_customer_name_lower', ['name_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_customer_phone_key'), ['phone_key'], unique=False)

    op.create_table('orders_product',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('spec', sa.String(length=300), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('price_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('price_minor >= 0', name=op.f('ck_orders_product_price_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders_product')),
    sa.UniqueConstraint('sku', name=op.f('uq_orders_product_sku'))
    )
    with op.batch_alter_table('orders_product', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orders_product_active'), ['active'], unique=False)
        batch_op.create_index('ix_orders_product_name_key', ['name_key'], unique=False)

    op.create_table('orders_address',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=60), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('line1', sa.String(length=300), nullable=False),
    sa.Column('line2', sa.String(length=300), nullable=False),
    sa.Column('city', sa.String(length=120), nullable=False),
    sa.Column('region', sa.String(length=120), nullable=False),
    sa.Column('postcode', sa.String(length=20), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['orders_customer.id'], name=op.f('fk_orders_address_customer_id_orders_customer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders_address'))
    )
    with op.batch_alter_table('orders_address', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orders_address_customer_id'), ['customer_id'], unique=False)

    op.create_table('orders_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('contact_name', sa.String(length=200), nullable=False),
    sa.Column('contact_phone', sa.String(length=40), nullable=False),
    sa.Column('contact_phone_key', sa.String(length=40), nullable=False),
    sa.Column('contact_email', sa.String(length=200), nullable=False),
    sa.Column('ship_recipient', sa.String(length=200), nullable=False),
    sa.Column('ship_line1', sa.String(length=300), nullable=False),
    sa.Column('ship_line2', sa.String(length=300), nullable=False),
    sa.Column('ship_city', sa.String(length=120), nullable=False),
    sa.Column('ship_region', sa.String(length=120), nullable=False),
    sa.Column('ship_postcode', sa.String(length=20), nullable=False),
    sa.Column('ship_country', sa.String(length=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('subtotal_minor', sa.BigInteger(), nullable=False),
    sa.Column('discount_minor', sa.BigInteger(), nullable=False),
    sa.Column('total_minor', sa.BigInteger(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=True),
    sa.Column('promised_date', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['core_user.id'], name=op.f('fk_orders_order_created_by_id_core_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['orders_customer.id'], name=op.f('fk_orders_order_customer_id_orders_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders_order')),
    sa.UniqueConstraint('number', name=op.f('uq_orders_order_number'))
    )
    with op.batch_alter_table('orders_order', schema=None) as batch_op:
        batch_op.create_index('ix_orders_order_contact_phone_key', ['contact_phone_key'], unique=False)
        batch_op.create_index('ix_orders_order_created', ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_order_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_orders_order_status_created', ['status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_order_warehouse_id'), ['warehouse_id'], unique=False)

    op.create_table('orders_order_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('spec', sa.String(length=300), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price_minor', sa.BigInteger(), nullable=False),
    sa.Column('discount_percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('line_total_minor', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('discount_percent >= 0 AND discount_percent <= 100', name=op.f('ck_orders_order_line_discount_range')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_orders_order_line_quantity_positive')),
    sa.CheckConstraint('unit_price_minor >= 0', name=op.f('ck_orders_order_line_price_not_negative')),
    sa.ForeignKeyConstraint(['order_id'], ['orders_order.id'], name=op.f('fk_orders_order_line_order_id_orders_order'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['orders_product.id'], name=op.f('fk_orders_order_line_product_id_orders_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders_order_line'))
    )
    with op.batch_alter_table('orders_order_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orders_order_line_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_orders_order_line_product', ['product_id'], unique=False)



def downgrade():
    with op.batch_alter_table('orders_order_line', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_order_line_product')
        batch_op.drop_index(batch_op.f('ix_orders_order_line_order_id'))

    op.drop_table('orders_order_line')
    with op.batch_alter_table('orders_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_order_warehouse_id'))
        batch_op.drop_index('ix_orders_order_status_created')
        batch_op.drop_index(batch_op.f('ix_orders_order_customer_id'))
        batch_op.drop_index('ix_orders_order_created')
        batch_op.drop_index('ix_orders_order_contact_phone_key')

    op.drop_table('orders_order')
    with op.batch_alter_table('orders_address', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_address_customer_id'))

    op.drop_table('orders_address')
    with op.batch_alter_table('orders_product', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_product_name_key')
        batch_op.drop_index(batch_op.f('ix_orders_product_active'))

    op.drop_table('orders_product')
    with op.batch_alter_table('orders_customer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_customer_phone_key'))
        batch_op.drop_index('ix_orders_customer_name_lower')
        batch_op.drop_index(batch_op.f('ix_orders_customer_email'))

    op.drop_table('orders_customer')
