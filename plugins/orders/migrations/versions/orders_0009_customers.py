"""customers for real businesses: contacts, tags, owner, credit limit, payment terms, address
kinds and each order's billing address

Revision ID: orders_0009_customers
Revises: orders_0008_backorders
Create Date: 2026-12-07 23:30:00

Existing customers get no owner, no limit and no terms; existing addresses serve both billing
and shipping; existing orders get no billing row (billed to their shipping address).
"""

import sqlalchemy as sa
from alembic import op

revision = 'orders_0009_customers'
down_revision = 'orders_0008_backorders'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE ... ADD COLUMN on SQLite too: rebuilding a table that orders and
    # addresses refer to would fail their foreign keys (or cascade) once customers exist.
    fk_name = 'fk_orders_customer_owner_id_core_user'
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f'ALTER TABLE orders_customer ADD COLUMN owner_id INTEGER CONSTRAINT {fk_name} '
                   'REFERENCES core_user (id)')
    else:
        op.add_column('orders_customer', sa.Column('owner_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f(fk_name), 'orders_customer', 'core_user', ['owner_id'], ['id'])
    op.create_index(op.f('ix_orders_customer_owner_id'), 'orders_customer', ['owner_id'], unique=False)
    op.add_column('orders_customer', sa.Column('credit_limit_minor', sa.BigInteger(), nullable=True))
    op.add_column('orders_customer', sa.Column('payment_terms', sa.String(length=20), nullable=False,
                                               server_default=''))
    op.add_column('orders_customer', sa.Column('payment_days', sa.Integer(), nullable=True))
    op.add_column('orders_address', sa.Column('kind', sa.String(length=10), nullable=False, server_default='both'))
    op.create_table('orders_customer_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('email', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['orders_customer.id'],
                            name=op.f('fk_orders_customer_contact_customer_id_orders_customer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders_customer_contact'))
    )
    with op.batch_alter_table('orders_customer_contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orders_customer_contact_customer_id'), ['customer_id'], unique=False)
    op.create_table('orders_customer_tag',
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['orders_customer.id'],
                            name=op.f('fk_orders_customer_tag_customer_id_orders_customer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('customer_id', 'key', name=op.f('pk_orders_customer_tag'))
    )
    with op.batch_alter_table('orders_customer_tag', schema=None) as batch_op:
        batch_op.create_index('ix_orders_customer_tag_key', ['key'], unique=False)
    op.create_table('orders_order_billing',
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('line1', sa.String(length=300), nullable=False),
    sa.Column('line2', sa.String(length=300), nullable=False),
    sa.Column('city', sa.String(length=120), nullable=False),
    sa.Column('region', sa.String(length=120), nullable=False),
    sa.Column('postcode', sa.String(length=20), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders_order.id'],
                            name=op.f('fk_orders_order_billing_order_id_orders_order'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_orders_order_billing'))
    )


def downgrade():
    op.drop_table('orders_order_billing')
    with op.batch_alter_table('orders_customer_tag', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_customer_tag_key')
    op.drop_table('orders_customer_tag')
    with op.batch_alter_table('orders_customer_contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_customer_contact_customer_id'))
    op.drop_table('orders_customer_contact')
    op.drop_column('orders_address', 'kind')
    op.drop_index(op.f('ix_orders_customer_owner_id'), table_name='orders_customer')
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(op.f('fk_orders_customer_owner_id_core_user'), 'orders_customer', type_='foreignkey')
    for column in ('payment_days', 'payment_terms', 'credit_limit_minor', 'owner_id'):
        op.drop_column('orders_customer', column)
