"""price lists, customer groups, discount limits of roles; fixed and order-level discounts

Revision ID: orders_0007_pricing
Revises: orders_0006_channels
Create Date: 2026-12-07 23:40:00

Existing customers get no group and no list; existing orders and lines get zero fixed and
order-level discounts, so their amounts stay as they are.
"""

import sqlalchemy as sa
from alembic import op

import erp_core.db

revision = 'orders_0007_pricing'
down_revision = 'orders_0006_channels'
branch_labels = None
depends_on = None


def _create_tables():
    op.create_table('orders_price_list',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', erp_core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders_price_list'))
    )
    op.create_table('orders_price_list_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('price_list_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('min_quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price_minor', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('min_quantity >= 1', name=op.f('ck_orders_price_list_item_min_quantity_positive')),
    sa.CheckConstraint('unit_price_minor >= 0', name=op.f('ck_orders_price_list_item_price_not_negative')),
    sa.ForeignKeyConstraint(['price_list_id'], ['orders_price_list.id'],
                            name=op.f('fk_orders_price_list_item_price_list_id_orders_price_list'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['orders_product.id'],
                            name=op.f('fk_orders_price_list_item_product_id_orders_product'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders_price_list_item')),
    sa.UniqueConstraint('price_list_id', 'product_id', 'min_quantity', name='uq_orders_price_list_item_break')
    )
    op.create_index(op.f('ix_orders_price_list_item_price_list_id'), 'orders_price_list_item', ['price_list_id'])
    op.create_index(op.f('ix_orders_price_list_item_product_id'), 'orders_price_list_item', ['product_id'])
    op.create_table('orders_customer_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('price_list_id', sa.Integer(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['price_list_id'], ['orders_price_list.id'],
                            name=op.f('fk_orders_customer_group_price_list_id_orders_price_list'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders_customer_group')),
    sa.UniqueConstraint('name', name=op.f('uq_orders_customer_group_name'))
    )
    op.create_index(op.f('ix_orders_customer_group_price_list_id'), 'orders_customer_group', ['price_list_id'])
    op.create_table('orders_role_discount_limit',
    sa.Column('role_id', sa.Integer(), nullable=False),
    sa.Column('max_percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.CheckConstraint('max_percent >= 0 AND max_percent <= 100',
                       name=op.f('ck_orders_role_discount_limit_max_percent_range')),
    sa.ForeignKeyConstraint(['role_id'], ['core_role.id'],
                            name=op.f('fk_orders_role_discount_limit_role_id_core_role'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('role_id', name=op.f('pk_orders_role_discount_limit'))
    )


def _add_customer_fk(column: str, target: str) -> None:
    # Plain ALTER TABLE ... ADD COLUMN on SQLite too: rebuilding the customers table, which
    # orders refer to, would fail its foreign keys once orders exist.
    fk_name = f'fk_orders_customer_{column}_{target}'
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f'ALTER TABLE orders_customer ADD COLUMN {column} INTEGER CONSTRAINT {fk_name} '
                   f'REFERENCES {target} (id)')
    else:
        op.add_column('orders_customer', sa.Column(column, sa.Integer(), nullable=True))
        op.create_foreign_key(op.f(fk_name), 'orders_customer', target, [column], ['id'])
    op.create_index(op.f(f'ix_orders_customer_{column}'), 'orders_customer', [column], unique=False)


def upgrade():
    _create_tables()
    _add_customer_fk('group_id', 'orders_customer_group')
    _add_customer_fk('price_list_id', 'orders_price_list')
    op.add_column('orders_order', sa.Column('order_discount_percent', sa.Numeric(precision=5, scale=2),
                                            nullable=False, server_default='0'))
    op.add_column('orders_order', sa.Column('order_discount_amount_minor', sa.BigInteger(), nullable=False,
                                            server_default='0'))
    op.add_column('orders_order_line', sa.Column('line_discount_minor', sa.BigInteger(), nullable=False,
                                                 server_default='0'))
    op.add_column('orders_order_line', sa.Column('order_discount_minor', sa.BigInteger(), nullable=False,
                                                 server_default='0'))


def _drop_column(table: str, column: str) -> None:
    # Plain ALTER TABLE ... DROP COLUMN on SQLite too (3.35+): rebuilding these tables would
    # cascade to, or break the foreign keys of, the rows that refer to them.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')
    else:
        op.drop_column(table, column)


def downgrade():
    for column in ('order_discount_minor', 'line_discount_minor'):
        _drop_column('orders_order_line', column)
    for column in ('order_discount_amount_minor', 'order_discount_percent'):
        _drop_column('orders_order', column)
    op.drop_index(op.f('ix_orders_customer_price_list_id'), table_name='orders_customer')
    op.drop_index(op.f('ix_orders_customer_group_id'), table_name='orders_customer')
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(op.f('fk_orders_customer_price_list_id_orders_price_list'), 'orders_customer',
                           type_='foreignkey')
        op.drop_constraint(op.f('fk_orders_customer_group_id_orders_customer_group'), 'orders_customer',
                           type_='foreignkey')
    _drop_column('orders_customer', 'price_list_id')
    _drop_column('orders_customer', 'group_id')
    op.drop_table('orders_role_discount_limit')
    op.drop_table('orders_customer_group')
    op.drop_index(op.f('ix_orders_price_list_item_product_id'), table_name='orders_price_list_item')
    op.drop_index(op.f('ix_orders_price_list_item_price_list_id'), table_name='orders_price_list_item')
    op.drop_table('orders_price_list_item')
    op.drop_table('orders_price_list')
