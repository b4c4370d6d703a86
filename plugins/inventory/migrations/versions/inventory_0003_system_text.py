"""system texts: stock move notes inventory wrote in English or Chinese become message keys

Revision ID: inventory_0003
Revises: inventory_0001
Create Date: 2026-12-07 16:30:00.000000

Frozen copies (English, Chinese) of the notes inventory wrote before; other notes stay as typed.
The ledger stays append-only in meaning: only the representation of these notes changes.
"""

from alembic import op

from erp_core.system_text_migration import convert_column, revert_column

revision = 'inventory_0003'
down_revision = 'inventory_0001'
branch_labels = None
depends_on = None

NOTES = [
    ("inventory.expected_receipt", ["Expected receipt #%(id)s", "预计到货 #%(id)s"]),
    ("inventory.returned_written_off", ["Returned goods written off (not put back on hand).", "退回货物已报损（未重新入库）。"]),
]


def upgrade():
    convert_column(op.get_bind(), "inventory_move", "note", NOTES)


def downgrade():
    revert_column(op.get_bind(), "inventory_move", "note", NOTES)
