"""Data migrations to system texts: old English and Chinese sentences become message keys, each
reader then sees their own language; typed text stays as it is; a downgrade writes English back."""

import json

from alembic import command
from sqlalchemy import text

from erp_core.app import create_app
from erp_core.extensions import db
from erp_core.i18n import render_system_text
from erp_core.migrate import alembic_config, upgrade
from erp_core.system_text_migration import compile_patterns, recognise
from tests.conftest import base_config

OLD_NOTES = [  # (object_type, note as stored before)
    ("order", "Shipment SH-2026-000007 dispatched."),
    ("order", "发货单 SH-2026-000008 已发出。"),
    ("shipment", "Created and dispatched."),
    ("shipment", "Delivered, signed by recipient"),
    ("delivery_exception", "预计 2026-01-02 送达，至今未签收。"),
    ("order", "The customer link was switched off."),
    ("payment", "Confirmed by Alipay"),
    ("order", "Shipment dispatched to my cousin, typed by hand."),
]


def _notes(conn):
    return [n for (n,) in conn.execute(text("SELECT note FROM core_audit_log WHERE action = 'old' ORDER BY id"))]


def test_old_sentences_become_keys_and_read_in_each_language(empty_database_url, tmp_path):
    app = create_app(base_config(empty_database_url), instance=tmp_path)
    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            cfg = alembic_config(conn)
            for revision in ("logistics_0001", "support_0002", "finance_0003"):
                command.downgrade(cfg, revision)
            conn.execute(text("INSERT INTO core_setting (key, value, changed_at) "
                              "VALUES ('support.hours_text', :v, CURRENT_TIMESTAMP)"), {"v": '"每天 9:00–18:00"'})
            for object_type, note in OLD_NOTES:
                conn.execute(text("INSERT INTO core_audit_log (at, actor_name, object_type, object_id, action, note) "
                                  "VALUES (CURRENT_TIMESTAMP, 'system', :t, '1', 'old', :n)"), {"t": object_type, "n": note})
        upgrade()
        with db.engine.connect() as conn:
            stored = _notes(conn)
            hours = dict(conn.execute(text("SELECT key, value FROM core_setting WHERE key LIKE 'support.hours%'")).all())
    assert {k: json.loads(v) if isinstance(v, str) and v.startswith('"') else v for k, v in hours.items()} == {
        "support.hours_text.zh_CN": "每天 9:00–18:00"}  # Chinese text: the Chinese value
    assert stored[-1] == "Shipment dispatched to my cousin, typed by hand."  # typed text stays
    assert all(s.startswith('{"key":') for s in stored[:-1])
    with app.test_request_context(headers={"Accept-Language": "en"}):
        english = [render_system_text(s) for s in stored]
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        chinese = [render_system_text(s) for s in stored]
    assert english[:3] == ["Shipment SH-2026-000007 dispatched.", "Shipment SH-2026-000008 dispatched.",
                           "Created and dispatched."]
    assert chinese[:3] == ["发货单 SH-2026-000007 已发出。", "发货单 SH-2026-000008 已发出。", "已创建并发出。"]
    assert english[3] == "Delivered, signed by recipient" and chinese[3] == "已送达，收件人已签收"
    assert english[4] == "Expected on Jan 2, 2026; not delivered yet."
    assert english[5] == "The customer link was switched off." and chinese[5] == "客户链接已关闭。"
    assert english[6] == "Confirmed by Alipay"
    with app.app_context():
        with db.engine.begin() as conn:
            command.downgrade(alembic_config(conn), "logistics_0001")
        with db.engine.connect() as conn:
            reverted = _notes(conn)
        db.session.remove()
        db.engine.dispose()
    assert reverted[0] == "Shipment SH-2026-000007 dispatched." and reverted[1] == "Shipment SH-2026-000008 dispatched."


def test_only_whole_sentences_are_recognised():
    compiled = compile_patterns([("k.return", ["Return %(number)s", "退货 %(number)s"])])
    assert recognise("Return RMA-1", compiled) == '{"key":"k.return","params":{"number":"RMA-1"}}'
    assert recognise("退货 RMA-2", compiled) == '{"key":"k.return","params":{"number":"RMA-2"}}'
    assert recognise("Please return it", compiled) is None
    assert recognise('{"key":"k.return","params":{}}', compiled) is None
    assert recognise("", compiled) is None
