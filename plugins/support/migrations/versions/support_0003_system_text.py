"""system texts: notes and return links support wrote in English or Chinese become message keys

Revision ID: support_0003
Revises: support_0001
Create Date: 2026-12-07 16:30:00.000000

Frozen copies (English, Chinese) of the sentences support (and inventory's stock-move links it
keeps) wrote before; other values stay as typed.
"""

from alembic import op

from erp_core.system_text_migration import convert_column, revert_column

revision = 'support_0003'
down_revision = 'support_0001'
branch_labels = None
depends_on = None

AUDIT_NOTES = [
    ("support.link_renewed", ["A new customer link was made; the old one no longer works.", "已生成新的客户链接，旧链接已失效。"]),
    ("support.link_revoked", ["The customer link was switched off.", "客户链接已关闭。"]),
]
LINK_LABELS = [
    ("support.restocked_by_hand", ["Put back on the shelf by hand", "已手工重新上架"]),
    ("support.written_off_by_hand", ["Written off by hand", "已手工报废"]),
    ("support.replacement_by_hand", ["Replacement sent by hand", "已手工寄出换货"]),
    ("support.refunded_by_hand", ["Refunded by hand: %(amount)s", "已手工退款：%(amount)s"]),
    ("inventory.move_link", ["Stock move #%(id)s: %(type)s of %(quantity)s", "库存流水 #%(id)s：%(type)s %(quantity)s 件"]),
]


def upgrade():
    conn = op.get_bind()
    convert_column(conn, "core_audit_log", "note", AUDIT_NOTES, where="object_type = 'order'")
    convert_column(conn, "support_return_link", "label", LINK_LABELS)


def downgrade():
    conn = op.get_bind()
    revert_column(conn, "core_audit_log", "note", AUDIT_NOTES)
    revert_column(conn, "support_return_link", "label", LINK_LABELS)
