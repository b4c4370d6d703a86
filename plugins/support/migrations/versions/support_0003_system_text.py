"""system texts: notes and return links support wrote in English or Chinese become message keys

Revision ID: support_0003
Revises: support_0002
Create Date: 2026-12-07 16:30:00.000000

Frozen copies (English, Chinese) of the sentences support (and inventory's stock-move links it
keeps) wrote before; other values stay as typed. The support-hours setting customers read is
kept per language from now on: the existing text becomes the value of the language it is written
in (Chinese when it holds CJK characters, else English).
"""

import re

import sqlalchemy as sa
from alembic import op

from erp_core.system_text_migration import convert_column, revert_column

revision = 'support_0003'
down_revision = 'support_0002'
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


HOURS = "support.hours_text"
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
SETTING = sa.table("core_setting", sa.column("key", sa.String), sa.column("value", sa.JSON),
                   sa.column("changed_at", sa.DateTime))


def _split_hours(conn):
    """The one support-hours text becomes the value of the language it is written in."""
    row = conn.execute(sa.select(SETTING.c.value, SETTING.c.changed_at).where(SETTING.c.key == HOURS)).first()
    if row is None:
        return
    value = row.value
    language = "zh_CN" if CJK.search(str(value or "")) else "en"
    conn.execute(SETTING.delete().where(SETTING.c.key.in_([HOURS, f"{HOURS}.{language}"])))
    conn.execute(SETTING.insert().values(key=f"{HOURS}.{language}", value=value, changed_at=row.changed_at))


def _join_hours(conn):
    rows = conn.execute(sa.select(SETTING.c.key, SETTING.c.value, SETTING.c.changed_at)
                        .where(SETTING.c.key.in_([f"{HOURS}.zh_CN", f"{HOURS}.en"]))).all()
    texts = [r.value for r in sorted(rows, key=lambda r: r.key, reverse=True) if r.value]
    conn.execute(SETTING.delete().where(SETTING.c.key.in_([HOURS, f"{HOURS}.zh_CN", f"{HOURS}.en"])))
    if texts:
        conn.execute(SETTING.insert().values(key=HOURS, value="\n".join(texts), changed_at=rows[0].changed_at))


def upgrade():
    conn = op.get_bind()
    _split_hours(conn)
    convert_column(conn, "core_audit_log", "note", AUDIT_NOTES, where="object_type = 'order'")
    convert_column(conn, "support_return_link", "label", LINK_LABELS)


def downgrade():
    conn = op.get_bind()
    _join_hours(conn)
    revert_column(conn, "core_audit_log", "note", AUDIT_NOTES)
    revert_column(conn, "support_return_link", "label", LINK_LABELS)
