"""system texts: the subject of the ticket "contact the customer" opened about a delivery exception

Revision ID: logistics_0004
Revises: logistics_0003
Create Date: 2026-12-07 21:00:00.000000

Logistics asks support for a ticket (``erp_ticket_requested``) with a subject it wrote in the
language active at that moment; it is now a message key with the order, shipment and kind, shown
in each reader's language. Existing tickets (support's table, when support's tables exist) are
converted from frozen English and Chinese copies of the sentence; a subject staff retyped stays.
"""

import sqlalchemy as sa
from alembic import op

from erp_core.system_text_migration import convert_column, revert_column

revision = 'logistics_0004'
down_revision = 'logistics_0003'
branch_labels = None
depends_on = None

SUBJECTS = [
    ("logistics.delivery_problem", ["Delivery problem with %(order)s (shipment %(number)s): %(kind)s",
                                    "订单 %(order)s 配送问题（发货单 %(number)s）：%(kind)s"]),
]
# The kinds' labels as they were written (English, Chinese) and their msgids, frozen.
KINDS = {"Delayed": "Delayed", "延误": "Delayed", "Lost": "Lost", "丢失": "Lost", "Damaged": "Damaged",
         "破损": "Damaged", "Address problem": "Address problem", "地址问题": "Address problem",
         "Refused by the recipient": "Refused by the recipient", "收件人拒收": "Refused by the recipient",
         "Returned to sender": "Returned to sender", "退回寄件人": "Returned to sender"}
WHERE = "source_type = 'logistics_exception'"


def _kind(_key, params):
    """The kind becomes its label's msgid (translated when shown); an unknown one stays as written."""
    kind = params.get("kind", "")
    return {**params, "kind": {"msgid": KINDS[kind]} if kind in KINDS else kind}


def upgrade():
    conn = op.get_bind()
    if sa.inspect(conn).has_table("support_ticket"):
        convert_column(conn, "support_ticket", "subject", SUBJECTS, where=WHERE, params=_kind)


def downgrade():
    conn = op.get_bind()
    if sa.inspect(conn).has_table("support_ticket"):
        revert_column(conn, "support_ticket", "subject", SUBJECTS)
