"""products' barcodes

Revision ID: orders_0010_barcode_search
Revises: orders_0009_customers
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
down_revision = 'orders_0009_customers'
branch_labels = None
depends_on = None


def upgrade():
    # A unique index (not a constraint): SQLite adds and drops it without copying the table.
    op.add_column('orders_product', sa.Column('barcode', sa.String(length=14), nullable=True))
    op.create_index('ix_orders_product_barcode', 'orders_product', ['barcode'], unique=True)
    for table, columns in SEARCH.items():
        create_search_indexes(op, table, **columns)


def downgrade():
    for table, columns in SEARCH.items():
        drop_search_indexes(op, table, **columns)
    op.drop_index('ix_orders_product_barcode', table_name='orders_product')
    op.drop_column('orders_product', 'barcode')  # SQLite 3.35+ drops it in place
