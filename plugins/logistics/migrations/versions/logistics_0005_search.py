"""header search: shipments by number and tracking number

Revision ID: logistics_0005_search
Revises: logistics_0004
Create Date: 2026-12-07 23:40:00

An index on the tracking number (a pattern index on PostgreSQL, serving prefixes), and on
PostgreSQL a pattern index on the shipment number (erp_core.search).
"""

from alembic import op

from erp_core.search import create_search_indexes, drop_search_indexes

revision = 'logistics_0005_search'
down_revision = 'logistics_0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_logistics_shipment_tracking_number', 'logistics_shipment', ['tracking_number'],
                    unique=False, postgresql_ops={'tracking_number': 'varchar_pattern_ops'})
    create_search_indexes(op, 'logistics_shipment', prefix_columns=('number',))


def downgrade():
    drop_search_indexes(op, 'logistics_shipment', prefix_columns=('number',))
    op.drop_index('ix_logistics_shipment_tracking_number', table_name='logistics_shipment')
