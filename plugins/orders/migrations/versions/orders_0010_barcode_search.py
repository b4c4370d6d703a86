"""products' barcodes

Revision ID: orders_0010_barcode_search
Revises: orders_0005_invoicing_details
Create Date: 2026-12-07 23:30:00

A nullable, unique ``barcode`` on products; existing products get none.
"""

import sqlalchemy as sa
from alembic import op

revision = 'orders_0010_barcode_search'
down_revision = 'orders_0005_invoicing_details'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders_product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('barcode', sa.String(length=14), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_orders_product_barcode'), ['barcode'])


def downgrade():
    with op.batch_alter_table('orders_product', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_orders_product_barcode'), type_='unique')
        batch_op.drop_column('barcode')
