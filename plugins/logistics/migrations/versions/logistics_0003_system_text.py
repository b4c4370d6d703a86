"""system texts: notes logistics wrote in English or Chinese become message keys

Revision ID: logistics_0003
Revises: logistics_0001
Create Date: 2026-12-07 16:30:00.000000

The sentences below are frozen copies (English, Chinese) of what logistics wrote before; a value
matching none stays as typed. Stored history keeps its meaning: only its representation changes.
"""

from alembic import op

from erp_core.system_text_migration import convert_column, revert_column, table_exists

revision = 'logistics_0003'
down_revision = 'logistics_0001'
branch_labels = None
depends_on = None

NOTES = [
    ("logistics.created_dispatched", ["Created and dispatched.", "已创建并发出。"]),
    ("logistics.dispatched", ["Dispatched.", "已发出。"]),
    ("logistics.shipment_dispatched", ["Shipment %(number)s dispatched.", "发货单 %(number)s 已发出。"]),
    ("logistics.shipment_cancelled", ["Shipment %(number)s cancelled.", "发货单 %(number)s 已取消。"]),
    ("logistics.shipment_delivered", ["Shipment %(number)s delivered.", "发货单 %(number)s 已签收。"]),
    ("logistics.exception_resolved", ["Delivery exception on shipment %(number)s resolved.",
                                      "发货单 %(number)s 的配送异常已处理。"]),
    ("logistics.expected_not_delivered", ["Expected on %(date)s; not delivered yet.", "预计 %(date)s 送达，至今未签收。"]),
    ("logistics.carrier_delivered", ["The carrier delivered the parcel.", "承运商已送达包裹。"]),
]
ERRORS = [
    ("logistics.malformed_number", ["The carrier answered with a malformed tracking number.",
                                    "承运商返回的快递单号格式不正确。"]),
    ("logistics.number_taken", ["The carrier answered with tracking number %(number)s, already used by %(shipment)s.",
                                "承运商返回的快递单号 %(number)s 已被 %(shipment)s 使用。"]),
]
REASONS = [
    ("logistics.exception_on", ["Delivery exception on shipment %(number)s: %(kind)s", "发货单 %(number)s 配送异常：%(kind)s"]),
    ("support.return_reason", ["Return %(number)s", "退货 %(number)s"]),
    ("support.exchange_reason", ["Exchange %(number)s", "换货 %(number)s"]),
]
DEMO_EVENTS = [
    ("logistics.demo.info_received", ["Shipment information received", "已收到发货信息"]),
    ("logistics.demo.picked_up", ["Picked up by courier", "快递员已揽收"]),
    ("logistics.demo.sorting_centre", ["Arrived at sorting centre", "已到达分拣中心"]),
    ("logistics.demo.second_attempt", ["Out for delivery (second attempt)", "派送中（第二次派送）"]),
    ("logistics.demo.out_for_delivery", ["Out for delivery", "派送中"]),
    ("logistics.demo.delivered_signed", ["Delivered, signed by recipient", "已送达，收件人已签收"]),
    ("logistics.demo.held_weather", ["Held at hub: severe weather", "因恶劣天气滞留中转站"]),
    ("logistics.demo.address_incomplete", ["Address incomplete, recipient not found", "地址不全，收件人未找到"]),
    ("logistics.demo.refused", ["Recipient refused the parcel", "收件人拒收"]),
    ("logistics.demo.returned", ["Returned to sender", "退回寄件人"]),
]


def _params(key, found):
    if key == "logistics.expected_not_delivered":
        return {**found, "date": {"date": found["date"]}}
    return found


COLUMNS = [  # (table, column, patterns, only these rows)
    ("core_audit_log", "note", NOTES + DEMO_EVENTS, "object_type IN ('order', 'shipment', 'delivery_exception')"),
    ("logistics_tracking_event", "description", DEMO_EVENTS, None),
    ("logistics_exception", "note", NOTES, None),
    ("logistics_exception", "resolution_note", NOTES, None),
    ("logistics_shipment", "registration_error", ERRORS, None),
    ("logistics_shipment", "reason", REASONS, None),
]


def upgrade():
    conn = op.get_bind()
    for table, column, patterns, where in COLUMNS:
        if table_exists(conn, table):
            convert_column(conn, table, column, patterns, where=where, params=_params)


def downgrade():
    conn = op.get_bind()
    for table, column, patterns, _where in COLUMNS:
        if table_exists(conn, table):
            revert_column(conn, table, column, patterns)
