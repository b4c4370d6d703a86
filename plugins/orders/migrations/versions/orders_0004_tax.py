"""tax on every line: VAT rates, the product's rate and cost price, the lines' net/tax/gross

Existing orders migrate as "no tax": each line gets rate 0 % (not exempt), tax 0 and
net = gross = its line_total_minor; each order gets tax_minor 0 (its total_minor is unchanged) and prices_include_tax true.
Products get no rate of their own (they follow the company's default rate setting) and no cost.
The VAT rates in force in China are seeded: 13, 9, 6, 3, 1, 0 % and exempt (免税).

Revision ID: orders_0004_tax
Revises: orders_0003
Create Date: 2026-12-07 19:35:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'orders_0004_tax'
down_revision = 'orders_0003'
branch_labels = None
depends_on = None

# (name, percent, exempt): a frozen copy of plugins.orders.tax.SEEDED_RATES.
SEEDED = [("VAT 13%", "13", False), ("VAT 9%", "9", False), ("VAT 6%", "6", False), ("VAT 3%", "3", False),
          ("VAT 1%", "1", False), ("VAT 0%", "0", False), ("VAT exempt", "0", True)]


def upgrade():
    op.create_table('orders_tax_rate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('percent', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('exempt', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint('percent >= 0 AND percent < 1000', name=op.f('ck_orders_tax_rate_percent_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders_tax_rate'))
    )
    rates = sa.table('orders_tax_rate', sa.column('name', sa.String), sa.column('percent', sa.Numeric(5, 2)),
                     sa.column('exempt', sa.Boolean), sa.column('active', sa.Boolean),
                     sa.column('position', sa.Integer))
    op.bulk_insert(rates, [{'name': name, 'percent': percent, 'exempt': exempt, 'active': True,
                            'position': position} for position, (name, percent, exempt) in enumerate(SEEDED, 1)])
    # Plain ALTER TABLE ... ADD COLUMN on SQLite too: rebuilding a table that order lines refer to
    # would fail its foreign keys once orders exist.
    fk_name = 'fk_orders_product_tax_rate_id_orders_tax_rate'
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f'ALTER TABLE orders_product ADD COLUMN tax_rate_id INTEGER CONSTRAINT {fk_name} '
                   'REFERENCES orders_tax_rate (id)')
    else:
        op.add_column('orders_product', sa.Column('tax_rate_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f(fk_name), 'orders_product', 'orders_tax_rate', ['tax_rate_id'], ['id'])
    op.add_column('orders_product', sa.Column('cost_minor', sa.BigInteger(), nullable=True))
    op.create_index(op.f('ix_orders_product_tax_rate_id'), 'orders_product', ['tax_rate_id'], unique=False)
    with op.batch_alter_table('orders_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tax_minor', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('prices_include_tax', sa.Boolean(), nullable=False, server_default='1'))
    with op.batch_alter_table('orders_order_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tax_rate_percent', sa.Numeric(precision=5, scale=2), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('tax_exempt', sa.Boolean(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('net_minor', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('tax_minor', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('gross_minor', sa.BigInteger(), nullable=False, server_default='0'))
    # Existing lines: no tax, net = gross = what the customer pays for the line.
    op.execute("UPDATE orders_order_line SET net_minor = line_total_minor, gross_minor = line_total_minor")


def downgrade():
    op.drop_index(op.f('ix_orders_product_tax_rate_id'), table_name='orders_product')
    with op.batch_alter_table('orders_order_line', schema=None) as batch_op:
        for column in ('gross_minor', 'tax_minor', 'net_minor', 'tax_exempt', 'tax_rate_percent'):
            batch_op.drop_column(column)
    with op.batch_alter_table('orders_order', schema=None) as batch_op:
        batch_op.drop_column('prices_include_tax')
        batch_op.drop_column('tax_minor')
    with op.batch_alter_table('orders_product', schema=None) as batch_op:
        if op.get_bind().dialect.name != 'sqlite':
            batch_op.drop_constraint(op.f('fk_orders_product_tax_rate_id_orders_tax_rate'), type_='foreignkey')
        batch_op.drop_column('cost_minor')
        batch_op.drop_column('tax_rate_id')
    op.drop_table('orders_tax_rate')
