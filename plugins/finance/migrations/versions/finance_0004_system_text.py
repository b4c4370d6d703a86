"""system texts: payment notes and refund reasons written in English or Chinese become message keys

Revision ID: finance_0004
Revises: finance_0003
Create Date: 2026-12-07 16:30:00.000000

Frozen copies (English, Chinese) of the sentences written before; other values stay as typed.
"""

from alembic import op

from erp_core.system_text_migration import convert_column, revert_column

revision = 'finance_0004'
down_revision = 'finance_0003'
branch_labels = None
depends_on = None

AUDIT_NOTES = [
    ("finance.paid_after_failed", ["Paid at %(method)s after the payment was marked failed: needs review",
                                   "在标记为失败后通过 %(method)s 付款成功：待复核"]),
    ("finance.confirmed_by", ["Confirmed by %(method)s", "由%(method)s确认"]),
]
REASONS = [
    ("logistics.exception_on", ["Delivery exception on shipment %(number)s: %(kind)s", "发货单 %(number)s 配送异常：%(kind)s"]),
    ("support.return_reason", ["Return %(number)s", "退货 %(number)s"]),
    ("support.exchange_reason", ["Exchange %(number)s", "换货 %(number)s"]),
]


def upgrade():
    conn = op.get_bind()
    convert_column(conn, "core_audit_log", "note", AUDIT_NOTES, where="object_type = 'payment'")
    convert_column(conn, "finance_refund", "reason", REASONS, where="source_type <> 'manual'")


def downgrade():
    conn = op.get_bind()
    revert_column(conn, "core_audit_log", "note", AUDIT_NOTES)
    revert_column(conn, "finance_refund", "reason", REASONS)
