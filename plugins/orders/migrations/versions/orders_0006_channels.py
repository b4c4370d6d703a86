"""sales channels, external references and tags of orders

Revision ID: orders_0006_channels
Revises: orders_0005_invoicing_details
Create Date: 2026-12-07 23:30:00

Existing orders were entered by staff on the order pages (or imported): they get the channel
"shop" and no external reference. Tags start empty.
"""

import sqlalchemy as sa
from alembic import op

revision = 'orders_0006_channels'
down_revision = 'orders_0005_invoicing_details'
branch_labels = None
depends_on = None

_NOT_NULL = sa.text("external_ref IS NOT NULL")


def upgrade():
    with op.batch_alter_table('orders_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=24), nullable=False, server_default='shop'))
        batch_op.add_column(sa.Column('external_ref', sa.String(length=100), nullable=True))
        batch_op.create_index('ix_orders_order_channel_created', ['channel', 'created_at'], unique=False)
        batch_op.create_index('uq_orders_order_channel_external_ref', ['channel', 'external_ref'], unique=True,
                              sqlite_where=_NOT_NULL, postgresql_where=_NOT_NULL)
    op.create_table('orders_order_tag',
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders_order.id'], name=op.f('fk_orders_order_tag_order_id_orders_order'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('order_id', 'tag', name=op.f('pk_orders_order_tag'))
    )
    with op.batch_alter_table('orders_order_tag', schema=None) as batch_op:
        batch_op.create_index('ix_orders_order_tag_tag', ['tag'], unique=False)


def downgrade():
    with op.batch_alter_table('orders_order_tag', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_order_tag_tag')
    op.drop_table('orders_order_tag')
    op.drop_index('uq_orders_order_channel_external_ref', table_name='orders_order')
    op.drop_index('ix_orders_order_channel_created', table_name='orders_order')
    # Plain ALTER TABLE ... DROP COLUMN on SQLite too (3.35+): rebuilding orders_order would
    # cascade to the order lines that refer to it.
    for column in ('external_ref', 'channel'):
        if op.get_bind().dialect.name == 'sqlite':
            op.execute(f'ALTER TABLE orders_order DROP COLUMN {column}')
        else:
            op.drop_column('orders_order', column)
