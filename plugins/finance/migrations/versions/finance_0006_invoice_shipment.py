"""invoices per shipment (finance_invoice.shipment_id/shipment_number, finance_invoice_line.order_line_id)

Revision ID: finance_0006_invoice_shipment
Revises: finance_0005_invoices
Create Date: 2026-12-07 23:30:00.000000

New nullable columns only: the invoices issued before this revision are whole-order invoices
(``shipment_id`` NULL) and their lines keep no order line (NULL), which is what they are.
"""

import sqlalchemy as sa
from alembic import op

revision = 'finance_0006_invoice_shipment'
down_revision = 'finance_0005_invoices'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('finance_invoice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shipment_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('shipment_number', sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_finance_invoice_shipment'), ['shipment_id'])
    with op.batch_alter_table('finance_invoice_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_line_id', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('finance_invoice_line', schema=None) as batch_op:
        batch_op.drop_column('order_line_id')
    with op.batch_alter_table('finance_invoice', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_finance_invoice_shipment'), type_='unique')
        batch_op.drop_column('shipment_number')
        batch_op.drop_column('shipment_id')
