"""products' barcodes

Revision ID: orders_0010_barcode_search
Revises: orders_0005_invoicing_details
Create Date: 2026-12-07 23:30:00

A nullable, unique ``barcode`` on products; existing products get none. On PostgreSQL the
header search's indexes (erp_core.search): prefixes of order numbers, phone digits, codes and barcodes,
trigram indexes (pg_trgm, when available) on the customers' and products' lower-cased names.
"""

import sqlalchemy as sa
from alembic import op

from erp_core.search import create_search_indexes, drop_search_indexes

SEARCH = {
    "orders_order": {"prefix_columns": ("number", "contact_phone_key")},
    "orders_customer": {"prefix_columns": ("phone_key",), "substring_columns": ("name_key",)},
    "orders_product": {"prefix_columns": ("sku", "barcode"), "substring_columns": ("name_key",)},
}

revision = 'orders_0010_barcode_search'
down_revision = 'orders_0005_invoicing_details'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders_product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('barcode', sa.String(length=14), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_orders_product_barcode'), ['barcode'])
    for table, columns in SEARCH.items():
        create_search_indexes(op, table, **columns)


def downgrade():
    for table, columns in SEARCH.items():
        drop_search_indexes(op, table, **columns)
    with op.batch_alter_table('orders_product', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_orders_product_barcode'), type_='unique')
        batch_op.drop_column('barcode')
