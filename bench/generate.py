"""Fill a database fast with realistic data of all five plugins, for benchmarks.

    python -m bench.generate --orders 100000                       # new SQLite file /tmp/erp-bench/bench.sqlite
    python -m bench.generate --orders 100000 --database-url postgresql://postgres@127.0.0.1:5432/erp_bench_pg
    python -m bench.generate --orders 100000 --append --database-url ...   # add orders to a generated site

The schema is made by the real migrations (what ``erp db upgrade`` does), the small things
(warehouses, a carrier, a support team, settings, a bench user) by the services, and the bulk by
plain multi-row inserts (``executemany`` on SQLite, ``COPY`` on PostgreSQL) in a few big
transactions, with a progress bar.

What it makes at ``--orders 100000``: 10,000 products with stock rules, 20,000 customers with
an address, two warehouses; 100,000 orders over the last two years with 1-9 lines (5 on
average), whose status follows their age (drafts and confirmed orders are recent, old ones are
completed, some cancelled); for every order that went out a shipment with its lines and
tracking events; payments (some part-refunded); support tickets with their messages; the audit
entries of every order (created, each status change); and the stock ledger: initial receipts,
a reservation per product when an order was confirmed, a shipment move when it left, a release
when a confirmed order was cancelled, and restocking receipts whenever stock ran short (about
ten moves per order).

It keeps the invariants the application keeps: order numbers SO-<year>-<n> are unique and
gap-free per year of the company's calendar (and the counters continue after them), order
totals are the sums of their lines (half-up per line), every stock level is the sum of its moves
with running totals that follow the ledger, and confirmed orders hold exactly their
reservation. ``tests/bench/test_generate.py`` checks all of it.
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import json
import random
import secrets
import time
from calendar import timegm
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from sqlalchemy import func, select, text

from bench.common import TIMEZONE, build_app, fresh_database, is_sqlite, line_tax
from plugins.orders.barcode import check_digit

DAY = 86400
HOUR = 3600
BENCH_USER = "bench"
BENCH_PASSWORD = "bench-password-123"

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
         "秀兰", "霞", "平", "刚", "桂英", "建华", "文", "华", "红", "建国", "小红", "晓明"]
COMPANY_WORDS = ["华东", "鑫源", "恒达", "宏图", "金桥", "天成", "瑞丰", "长城", "新世纪", "东方", "联合", "永安"]
COMPANY_KINDS = ["贸易有限公司", "五金商行", "电子科技有限公司", "建材店", "机电设备有限公司", "百货商店"]
CITIES = [("上海", "上海", "200000"), ("北京", "北京", "100000"), ("广州", "广东", "510000"), ("深圳", "广东", "518000"),
          ("杭州", "浙江", "310000"), ("南京", "江苏", "210000"), ("苏州", "江苏", "215000"), ("成都", "四川", "610000"),
          ("武汉", "湖北", "430000"), ("西安", "陕西", "710000"), ("天津", "天津", "300000"), ("重庆", "重庆", "400000")]
STREETS = ["人民路", "中山路", "解放路", "建设路", "南京路", "长江路", "和平路", "新华路", "文化路", "工业园路"]
PRODUCT_KINDS = [("Hex bolt", "M{a} x {b}mm", "pcs"), ("Wood screw", "{a} x {b}mm", "box"),
                 ("Cable tie", "{b}mm, pack of 100", "pack"), ("LED bulb", "E27 {a}W", "pcs"),
                 ("Copper wire", "{a}mm², 100 m", "roll"), ("Ball bearing", "62{a:02d}", "pcs"),
                 ("PVC pipe", "DN{b}, 4 m", "pcs"), ("Work gloves", "size {a}", "pair"),
                 ("Paint", "{a} L, white", "can"), ("Padlock", "{b}mm", "pcs"), ("Drill bit", "{a}mm HSS", "pcs"),
                 ("Hinge", "{b}mm steel", "pcs")]
MATERIALS = ["Stainless", "Galvanised", "Heavy-duty", "Brass", "Industrial", "Compact", "Premium", "Standard"]
TICKET_SUBJECTS = [("Where is my parcel?", "delivery"), ("Wrong item received", "product"),
                   ("Invoice request", "billing"), ("Change delivery address", "delivery"),
                   ("Item damaged in transit", "product"), ("Question about the price", "billing")]
PAY_METHODS = ("bank_transfer", "cash", "demo_gateway")
LINE_COUNTS, LINE_WEIGHTS = range(1, 10), (1, 2, 3, 4, 5, 4, 3, 2, 1)


@dataclass
class Counts:
    """What one run inserted, per table."""

    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, table: str, n: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + n


# ----------------------------------------------------------------------------- bulk writer


COLUMNS = {
    "orders_customer": "id, name, name_key, phone, phone_key, email, notes, active, created_at, updated_at",
    "orders_address": "id, customer_id, label, recipient, phone, line1, line2, city, region, postcode, country, "
                      "is_default",
    "orders_product": "id, sku, barcode, name, name_key, spec, unit, price_minor, currency, active, created_at, updated_at",
    "inventory_stock_rule": "product_id, low_threshold, reorder_quantity, updated_at",
    "inventory_document": "id, number, kind, warehouse_id, to_warehouse_id, supplier, note, form_token, actor_id, "
                          "actor_name, created_at",
    "orders_order": "id, number, status, customer_id, contact_name, contact_phone, contact_phone_key, contact_email, "
                    "ship_recipient, ship_line1, ship_line2, ship_city, ship_region, ship_postcode, ship_country, "
                    "currency, subtotal_minor, discount_minor, total_minor, tax_minor, notes, warehouse_id, promised_date, "
                    "created_at, updated_at, confirmed_at, cancelled_at, created_by_id, version, entry_key",
    "orders_order_line": "id, order_id, position, product_id, sku, name, spec, unit, quantity, unit_price_minor, "
                         "discount_percent, line_total_minor, tax_rate_percent, net_minor, tax_minor, gross_minor",
    "support_order_access": "order_id, nonce, created_at, rotated_at, lock_count",
    "core_audit_log": "id, at, actor_id, actor_name, object_type, object_id, action, before, after, note",
    "logistics_shipment": "id, number, order_id, kind, status, outcome, carrier_id, carrier_name, tracking_number, "
                          "registration, registration_error, ship_date, expected_delivery, shipped_at, delivered_at, "
                          "packages, weight_grams, notes, label_type, label_name, reason, last_event_at, "
                          "created_at, updated_at, created_by_id",
    "logistics_shipment_line": "id, shipment_id, order_line_id, product_id, sku, name, quantity",
    "logistics_tracking_event": "id, shipment_id, external_id, occurred_at, status, description, location, source, "
                                "received_at",
    "finance_payment": "id, order_id, method, status, amount_minor, currency, refunded_minor, credit_minor, paid_at, "
                       "reference, provider_ref, note, created_at, updated_at, created_by_name",
    "finance_refund": "id, payment_id, order_id, method, status, amount_minor, currency, reason, source_type, "
                      "source_id, reference, decision_note, requested_at, refunded_at, decided_at, "
                      "requested_by_name, decided_by_name",
    "support_ticket": "id, number, subject, status, priority, category, channel, customer_id, order_id, "
                      "contact_name, contact_email, contact_phone, team_id, created_at, updated_at, "
                      "first_response_due, first_responded_at, resolution_due, resolved_at, closed_at, nonce, version",
    "support_ticket_message": "id, ticket_id, kind, body, author_name, created_at, emailed",
    "inventory_move": "id, product_id, warehouse_id, type, quantity, on_hand_delta, reserved_delta, on_hand_after, "
                      "reserved_after, order_id, document_id, reference, note, actor_id, actor_name, created_at",
    "inventory_level": "id, product_id, warehouse_id, on_hand, reserved, low_alerted, updated_at",
    "inventory_low_stock_alert": "id, product_id, warehouse_id, available, threshold, created_at",
}
ORDER = list(COLUMNS)  # flush order: parents before children


class Writer:
    """Buffers rows per table and writes them in big batches through the DB-API connection."""

    def __init__(self, engine, counts: Counts, progress=None):
        self.sqlite = engine.dialect.name == "sqlite"
        self.raw = engine.raw_connection()
        self.cursor = self.raw.cursor()
        self.buffers: dict[str, list[tuple]] = {t: [] for t in ORDER}
        self.counts = counts
        self.progress = progress
        if self.sqlite:
            self.cursor.execute("PRAGMA cache_size=-400000")
            self.cursor.execute("PRAGMA synchronous=OFF")
            self.cursor.execute("BEGIN IMMEDIATE")

    def ts(self, seconds: int):
        """A UTC column value for epoch ``seconds`` (SQLite: SQLAlchemy's text form; PostgreSQL: aware)."""
        if self.sqlite:
            return time.strftime("%Y-%m-%d %H:%M:%S.000000", time.gmtime(seconds))
        return datetime.fromtimestamp(seconds, UTC)

    def day(self, seconds: int, zone: ZoneInfo):
        local = datetime.fromtimestamp(seconds, zone).date()
        return local.isoformat() if self.sqlite else local

    def dec(self, value: int):
        return str(value) if self.sqlite else Decimal(value)

    def add(self, table: str, row: tuple) -> None:
        self.buffers[table].append(row)

    def pending(self) -> int:
        return sum(len(b) for b in self.buffers.values())

    def flush(self) -> None:
        for table in ORDER:
            rows = self.buffers[table]
            if not rows:
                continue
            cols = COLUMNS[table]
            if self.sqlite:
                marks = ", ".join("?" * len(cols.split(",")))
                self.cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)
            else:
                with self.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            self.counts.add(table, len(rows))
            self.buffers[table] = []

    def execute(self, sql: str, params=()) -> None:
        if not self.sqlite:
            sql = sql.replace("?", "%s")
        self.cursor.execute(sql, params)

    def executemany(self, sql: str, rows) -> None:
        if not self.sqlite:
            sql = sql.replace("?", "%s")
        self.cursor.executemany(sql, rows)

    def commit(self) -> None:
        self.flush()
        if self.sqlite:
            self.cursor.execute("COMMIT")
        else:
            self.raw.commit()

    def close(self) -> None:
        self.raw.close()


# ----------------------------------------------------------------------------- the state of a site


@dataclass
class Site:
    """Ids to continue from and what the generator needs to know of the existing data."""

    next_id: dict[str, int]
    counters: dict[str, int]
    products: list[tuple[int, str, str, str, str, int]]  # id, sku, name, spec, unit, price
    customers: list[tuple]  # id, name, phone, phone_key, email, line1, city, region, postcode
    warehouses: list[int]
    levels: dict[tuple[int, int], list[int]]  # (product, warehouse) -> [level id or 0, on_hand, reserved]
    thresholds: dict[int, tuple[int, int]]
    carrier_id: int
    team_id: int
    user_id: int


def _max_ids(conn) -> dict[str, int]:
    ids = {}
    for table in ORDER:
        if table in ("inventory_stock_rule", "support_order_access"):
            continue
        ids[table] = int(conn.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")).scalar()) + 1
    return ids


def _setup_small_things(rng: random.Random) -> None:
    """Warehouses, a carrier, a support team, the company settings and the bench user, by the services."""
    from erp_core import settings
    from erp_core.auth import services as auth
    from erp_core.extensions import db
    from plugins.inventory import services as inventory
    from plugins.inventory.models import Warehouse
    from plugins.logistics import services as logistics
    from plugins.logistics.models import Carrier
    from plugins.support.models import Team, TeamHours

    settings.set_many({"company.timezone": TIMEZONE, "company.currency": "CNY"})
    if db.session.scalar(select(func.count()).select_from(Warehouse)) < 2:
        inventory.default_warehouse()  # the one every site has (made on first use)
        inventory.save_warehouse(None, "GZ", "广州分仓", "广州市天河区天河路 200 号")
    if not db.session.scalar(select(func.count()).select_from(Carrier)):
        logistics.create_carrier("顺丰速运", "sf", "manual", {})
    if not db.session.scalar(select(func.count()).select_from(Team)):
        team = Team(name="客服一组", timezone=TIMEZONE)
        team.hours = [TeamHours(weekday=d, start_minute=9 * 60, end_minute=18 * 60) for d in range(5)]
        db.session.add(team)
    from erp_core.auth.models import User

    if db.session.scalar(select(User).where(User.username == BENCH_USER)) is None:
        auth.create_user(BENCH_USER, BENCH_PASSWORD, display_name="Bench", roles=["admin"])
    db.session.commit()


def _load_site(conn) -> Site:
    from erp_core.auth.models import User  # noqa: F401  (tables known)

    products = [tuple(r) for r in conn.execute(text(
        "SELECT id, sku, name, spec, unit, price_minor FROM orders_product WHERE sku LIKE 'BK-%' ORDER BY id"))]
    customers = [tuple(r) for r in conn.execute(text(
        "SELECT c.id, c.name, COALESCE(c.phone, ''), COALESCE(c.phone_key, ''), COALESCE(c.email, ''), "
        "a.line1, a.city, a.region, a.postcode FROM orders_customer c "
        "JOIN orders_address a ON a.customer_id = c.id AND a.is_default ORDER BY c.id"))]
    levels = {(r[1], r[2]): [r[0], r[3], r[4]] for r in conn.execute(text(
        "SELECT id, product_id, warehouse_id, on_hand, reserved FROM inventory_level"))}
    thresholds = {r[0]: (r[1], r[2]) for r in conn.execute(text(
        "SELECT product_id, low_threshold, reorder_quantity FROM inventory_stock_rule"))}
    counters = {r[0]: int(r[1]) for r in conn.execute(text("SELECT key, value FROM core_counter"))}
    return Site(next_id=_max_ids(conn), counters=counters, products=products, customers=customers,
                warehouses=[r[0] for r in conn.execute(text(
                    "SELECT id FROM inventory_warehouse ORDER BY is_default DESC, id"))],
                levels=levels, thresholds=thresholds,
                carrier_id=conn.execute(text("SELECT MIN(id) FROM logistics_carrier")).scalar(),
                team_id=conn.execute(text("SELECT MIN(id) FROM support_team")).scalar(),
                user_id=conn.execute(text(f"SELECT id FROM core_user WHERE username = '{BENCH_USER}'")).scalar())


# ----------------------------------------------------------------------------- the generator


class Generator:
    def __init__(self, w: Writer, site: Site, rng: random.Random, now: int, days: int):
        self.w, self.site, self.rng, self.now = w, site, rng, now
        self.start = now - days * DAY
        self.zone = ZoneInfo(TIMEZONE)
        self.ids = site.next_id
        self.events: list[tuple] = []  # heap of (time, seq, kind, payload)
        self.seq = 0
        self.open_docs: dict[tuple[int, int], tuple[int, str]] = {}  # (local day, warehouse) -> doc id, number
        self.year_starts = {y: timegm(datetime(y, 1, 1, tzinfo=self.zone).astimezone(UTC).timetuple())
                            for y in range(1970, 2200)}

    # -- helpers
    def next(self, table: str) -> int:
        value = self.ids[table]
        self.ids[table] = value + 1
        return value

    def year_of(self, seconds: int) -> int:
        year = time.gmtime(seconds + 8 * HOUR).tm_year  # a guess, then exact against the boundaries
        while seconds < self.year_starts[year]:
            year -= 1
        while seconds >= self.year_starts[year + 1]:
            year += 1
        return year

    def number(self, prefix: str, counter: str, seconds: int) -> str:
        year = self.year_of(seconds)
        key = f"{counter}.{year}"
        value = self.site.counters.get(key, 0) + 1
        self.site.counters[key] = value
        return f"{prefix}-{year}-{value:06d}"

    def audit(self, at: int, object_type: str, object_id, action: str, before=None, after=None, note=None) -> None:
        w = self.w
        w.add("core_audit_log", (self.next("core_audit_log"), w.ts(at), self.site.user_id, BENCH_USER, object_type,
                                 str(object_id), action, json.dumps(before) if before is not None else None,
                                 json.dumps(after, ensure_ascii=False) if after is not None else None, note))

    def schedule(self, at: int, kind: str, payload) -> None:
        self.seq += 1
        heapq.heappush(self.events, (at, self.seq, kind, payload))

    # -- catalogue
    def catalogue(self, n_products: int, n_customers: int) -> None:
        rng, w, site = self.rng, self.w, self.site
        created = w.ts(self.start - 30 * DAY)
        for i in range(n_products):
            pid = self.next("orders_product")
            name_base, spec_t, unit = PRODUCT_KINDS[i % len(PRODUCT_KINDS)]
            name = f"{rng.choice(MATERIALS)} {name_base.lower()} {pid}"
            spec = spec_t.format(a=rng.randint(2, 20), b=rng.choice((20, 25, 32, 40, 50, 63, 80, 100)))
            price = int(10 ** rng.uniform(2, 5.3))  # 1.00 to 2,000.00 CNY
            sku = f"BK-{pid:06d}"
            body = f"690{pid:09d}"  # an EAN-13 with China's prefix and its check digit
            barcode = body + str(check_digit(body))
            w.add("orders_product", (pid, sku, barcode, name, name.lower(), spec, unit, price, "CNY", True, created,
                                     created))
            low, reorder = rng.choice(((0, 0), (10, 100), (20, 200), (50, 500)))
            w.add("inventory_stock_rule", (pid, low, reorder, created))
            site.thresholds[pid] = (low, reorder)
            site.products.append((pid, sku, name, spec, unit, price))
        for _ in range(n_customers):
            cid = self.next("orders_customer")
            if rng.random() < 0.4:
                name = f"{rng.choice(CITIES)[0]}{rng.choice(COMPANY_WORDS)}{rng.choice(COMPANY_KINDS)}"
            else:
                name = rng.choice(SURNAMES) + rng.choice(GIVEN)
            phone = f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"
            email = f"customer{cid}@example.cn" if rng.random() < 0.6 else ""
            city, region, postcode = rng.choice(CITIES)
            line1 = f"{rng.choice(STREETS)} {rng.randint(1, 999)} 号"
            w.add("orders_customer", (cid, name, name.lower(), phone, phone, email or None, None, True, created,
                                      created))
            w.add("orders_address", (self.next("orders_address"), cid, "", name, phone, line1, "", city, region,
                                     postcode, "CN", True))
            site.customers.append((cid, name, phone, phone, email, line1, city, region, postcode))

    def initial_stock(self) -> None:
        """An opening receipt per warehouse for every product without a level yet."""
        at = self.start - 7 * DAY
        for wi, wid in enumerate(self.site.warehouses):
            missing = [p for p, *_ in self.site.products if (p, wid) not in self.site.levels]
            if not missing:
                continue
            doc_id, number = self.document(at, wid, "Opening stock")
            for pid in missing:
                self.site.levels[(pid, wid)] = [0, 0, 0]
                self.move(at, pid, wid, "receipt", self.rng.randint(20, 200) // (wi + 1), 0, None, doc_id, number,
                          "Opening stock")

    def document(self, at: int, wid: int, supplier: str) -> tuple[int, str]:
        doc_id = self.next("inventory_document")
        number = self.number("GR", "inventory.receipt", at)
        self.w.add("inventory_document", (doc_id, number, "receipt", wid, None, supplier, "", None, self.site.user_id,
                                          BENCH_USER, self.w.ts(at)))
        return doc_id, number

    def move(self, at: int, pid: int, wid: int, kind: str, d_on_hand: int, d_reserved: int, order_id, doc_id,
             reference: str, note: str = "") -> None:
        level = self.site.levels[(pid, wid)]
        level[1] += d_on_hand
        level[2] += d_reserved
        assert 0 <= level[2] <= level[1], (pid, wid, level)
        self.w.add("inventory_move", (self.next("inventory_move"), pid, wid, kind, abs(d_on_hand) or abs(d_reserved),
                                      d_on_hand, d_reserved, level[1], level[2], order_id, doc_id, reference, note,
                                      self.site.user_id, BENCH_USER, self.w.ts(at)))

    def restock(self, at: int, pid: int, wid: int, needed: int) -> None:
        """A supplier delivery before a reservation that would not fit (grouped per local day)."""
        _low, reorder = self.site.thresholds.get(pid, (0, 0))
        key = ((at + 8 * HOUR) // DAY, wid)
        doc = self.open_docs.get(key)
        if doc is None:
            self.open_docs = {key: self.document(at, wid, "供应商 " + str(pid % 17 + 1))}
            doc = self.open_docs[key]
        self.move(at, pid, wid, "receipt", needed + max(reorder, 50) + self.rng.randint(0, 100), 0, None, doc[0],
                  doc[1], "Restock")

    # -- events of the ledger, in time order
    def run_events(self, until: int) -> None:
        events = self.events
        while events and events[0][0] <= until:
            at, _seq, kind, (order_id, wid, number, quantities) = heapq.heappop(events)
            if kind == "reserve":
                for pid, q in quantities:
                    level = self.site.levels[(pid, wid)]
                    if level[1] - level[2] < q:
                        self.restock(at, pid, wid, q - (level[1] - level[2]))
                    self.move(at, pid, wid, "reservation", 0, q, order_id, None, number)
            elif kind == "ship":
                for pid, q in quantities:
                    self.move(at, pid, wid, "shipment", -q, -q, order_id, None, number)
            elif kind == "release":
                for pid, q in quantities:
                    self.move(at, pid, wid, "release", 0, -q, order_id, None, number)

    # -- orders and everything that hangs on them
    def order(self, t0: int) -> int:
        rng, w, site = self.rng, self.w, self.site
        self.run_events(t0)
        oid = self.next("orders_order")
        cust = site.customers[min(int(rng.paretovariate(1.2)) - 1, len(site.customers) - 1)
                              if rng.random() < 0.3 else rng.randrange(len(site.customers))]
        wid = site.warehouses[0] if rng.random() < 0.85 or len(site.warehouses) == 1 else site.warehouses[1]
        lines, subtotal, total, tax_total = self.order_lines(oid)
        path, t1, t2, t3, cancel_at = self.order_path(t0)
        status = path[-1][0] if path else "draft"
        last = path[-1][1] if path else t0
        number = self.number("SO", "orders.number", t0)
        reached = {s for s, _t in path}
        confirmed_at = w.ts(t1) if "confirmed" in reached else None
        w.add("orders_order", (oid, number, status, cust[0], cust[1], cust[2], cust[3], cust[4] or "", cust[1],
                               cust[5], "", cust[6], cust[7], cust[8], "CN", "CNY", subtotal, subtotal - total,
                               total, tax_total, "", wid, None, w.ts(t0), w.ts(last), confirmed_at,
                               w.ts(cancel_at) if status == "cancelled" else None, site.user_id,
                               1 + len(path), None))
        w.add("support_order_access", (oid, secrets.token_hex(16), w.ts(t0), None, 0))
        self.audit(t0, "order", oid, "created", after={"number": number, "customer": cust[1], "lines": len(lines),
                                                        "total": f"{total // 100}.{total % 100:02d}",
                                                        "currency": "CNY"})
        previous = "draft"
        for s, t in path:
            self.audit(t, "order", oid, "status_changed", before={"status": previous}, after={"status": s},
                       note="客户取消" if s == "cancelled" else None)
            previous = s
        self.order_stock(oid, wid, number, lines, reached, status, (t1, t2, t3, cancel_at))
        if "confirmed" in reached and status != "cancelled" and total > 0 and rng.random() < 0.9:
            self.payment(oid, total, min(t1 + rng.randint(0, 2 * DAY), self.now))
        if rng.random() < 0.04:
            self.ticket(oid, cust, t0 + rng.randint(HOUR, 20 * DAY))
        return oid

    def order_lines(self, oid: int) -> tuple[list, int, int, int]:
        """An order's lines (1 to 9, 5 on average); returns them with subtotal, total and tax."""
        rng, w = self.rng, self.w
        n_lines = rng.choices(LINE_COUNTS, LINE_WEIGHTS)[0]
        picked = rng.sample(self.site.products, n_lines)
        lines, subtotal, total, tax_total = [], 0, 0, 0
        for position, (pid, sku, name, spec, unit, price) in enumerate(picked, start=1):
            q = rng.choice((1, 1, 1, 2, 2, 3, 4, 5, 6, 10))
            disc = 0 if rng.random() < 0.85 else rng.choice((5, 10, 15))
            gross = price * q
            amount = gross if not disc else (gross * (100 - disc) + 50) // 100
            subtotal += gross
            total += amount
            lid = self.next("orders_order_line")
            lines.append((lid, pid, sku, name, q))
            tax = line_tax(amount)
            tax_total += tax
            w.add("orders_order_line", (lid, oid, position, pid, sku, name, spec, unit, q, price, w.dec(disc), amount,
                                        w.dec(13), amount - tax, tax, amount))
        return lines, subtotal, total, tax_total

    def order_path(self, t0: int):
        """The life of an order: planned times; what happened is what lies before now.

        Returns the states reached with their times, the confirm/ship/deliver times and the
        cancel time (None if never cancelled)."""
        rng, now = self.rng, self.now
        t1 = t0 + rng.randint(300, DAY)                       # confirmed
        t2 = t1 + rng.randint(2 * HOUR, 3 * DAY)              # shipped
        t3 = t2 + rng.randint(DAY, 5 * DAY)                   # delivered
        t4 = t3 + rng.randint(DAY, 10 * DAY)                  # completed
        roll = rng.random()
        cancel_at, cancelled_confirmed = None, False
        if roll < 0.03:
            cancel_at = t0 + rng.randint(600, 2 * DAY)
        elif roll < 0.06:
            cancel_at, cancelled_confirmed = t1 + rng.randint(600, t2 - t1 - 60), True
        if cancel_at is not None and cancel_at <= now and (not cancelled_confirmed or t1 <= now):
            path = [("confirmed", t1)] if cancelled_confirmed else []
            path.append(("cancelled", cancel_at))
        elif roll > 0.995:  # never confirmed
            path = []
        else:
            path = [(s, t) for s, t in (("confirmed", t1), ("shipped", t2), ("delivered", t3), ("completed", t4))
                    if t <= now]
            if cancel_at is not None and cancelled_confirmed and t1 <= now:
                path = [("confirmed", t1)]  # would be cancelled later: still confirmed today
        return path, t1, t2, t3, cancel_at

    def order_stock(self, oid, wid, number, lines, reached, status, times) -> None:
        """The stock events an order causes: reservation, shipment (with its parcel) or release."""
        t1, t2, t3, cancel_at = times
        if "confirmed" not in reached:
            return
        quantities = [(pid, q) for _lid, pid, _sku, _name, q in lines]
        self.schedule(t1, "reserve", (oid, wid, number, quantities))
        if "shipped" in reached:
            shipment_number = self.shipment(oid, lines, t2, t3 if "delivered" in reached else None)
            self.schedule(t2, "ship", (oid, wid, shipment_number, quantities))
        elif status == "cancelled":
            self.schedule(cancel_at, "release", (oid, wid, number, quantities))

    def shipment(self, oid: int, lines, shipped: int, delivered: int | None) -> str:
        """The order's shipment (all of it, in one parcel); returns its number (the stock moves' reference)."""
        w = self.w
        sid = self.next("logistics_shipment")
        number = self.number("SH", "logistics.shipment", shipped)
        tracking = f"SF{sid:010d}"
        status = "delivered" if delivered else "in_transit"
        last = delivered or shipped
        w.add("logistics_shipment", (sid, number, oid, "order", status, None, self.site.carrier_id, "", tracking, "",
                                     "", w.day(shipped, self.zone), w.day(shipped + 3 * DAY, self.zone),
                                     w.ts(shipped), w.ts(delivered) if delivered else None, 1,
                                     None, "", "", "", "", w.ts(last), w.ts(shipped), w.ts(last), self.site.user_id))
        for lid, pid, sku, name, q in lines:
            w.add("logistics_shipment_line", (self.next("logistics_shipment_line"), sid, lid, pid, sku, name, q))
        w.add("logistics_tracking_event", (self.next("logistics_tracking_event"), sid, f"{tracking}-1", w.ts(shipped),
                                           "in_transit", "已揽收", "上海", "carrier", w.ts(shipped)))
        if delivered:
            w.add("logistics_tracking_event", (self.next("logistics_tracking_event"), sid, f"{tracking}-2",
                                               w.ts(delivered), "delivered", "已签收", "", "carrier", w.ts(delivered)))
        return number

    def payment(self, oid: int, total: int, paid: int) -> None:
        w, rng = self.w, self.rng
        pay_id = self.next("finance_payment")
        method = rng.choice(PAY_METHODS)
        refunded = 0
        if rng.random() < 0.03:
            refunded = max(total // rng.choice((2, 4, 10)), 1)
            at = min(paid + rng.randint(DAY, 20 * DAY), self.now)
            w.add("finance_refund", (self.next("finance_refund"), pay_id, oid, method, "refunded", refunded, "CNY",
                                     "部分退款", "manual", None, "", "", w.ts(at), w.ts(at), w.ts(at), BENCH_USER,
                                     BENCH_USER))
        w.add("finance_payment", (pay_id, oid, method, "paid", total, "CNY", refunded, 0, w.ts(paid),
                                  f"REF{pay_id}", f"TX{pay_id}" if method == "demo_gateway" else None, "", w.ts(paid),
                                  w.ts(paid), BENCH_USER))

    def ticket(self, oid: int, cust, created: int) -> None:
        w, rng = self.w, self.rng
        if created > self.now:
            return
        tid = self.next("support_ticket")
        subject, category = rng.choice(TICKET_SUBJECTS)
        age = self.now - created
        status = "closed" if age > 10 * DAY else "resolved" if age > 3 * DAY else rng.choice(("open", "pending"))
        responded = created + rng.randint(600, 4 * HOUR)
        responded = responded if responded <= self.now else None
        resolved = created + rng.randint(DAY, 3 * DAY) if status in ("resolved", "closed") else None
        closed = resolved + 7 * DAY if status == "closed" else None
        w.add("support_ticket", (tid, self.number("TK", "support.ticket", created), subject, status, "normal",
                                 category, "web", cust[0], oid, cust[1], cust[4] or "", cust[2], self.site.team_id,
                                 w.ts(created), w.ts(closed or resolved or responded or created),
                                 w.ts(created + 4 * HOUR), w.ts(responded) if responded else None,
                                 w.ts(created + 3 * DAY), w.ts(resolved) if resolved else None,
                                 w.ts(closed) if closed else None, secrets.token_hex(16), 1))
        w.add("support_ticket_message", (self.next("support_ticket_message"), tid, "customer",
                                         f"您好，关于订单 {oid}：{subject}", cust[1], w.ts(created), False))
        if responded:
            w.add("support_ticket_message", (self.next("support_ticket_message"), tid, "reply",
                                             "您好，我们已收到您的问题，正在处理。", BENCH_USER, w.ts(responded), True))

    # -- the end: levels, low-stock flags, counters
    def finish(self) -> None:
        self.run_events(self.now)
        w, site = self.w, self.site
        now = w.ts(self.now)
        updates = []
        for (pid, wid), (level_id, on_hand, reserved) in site.levels.items():
            low, _reorder = site.thresholds.get(pid, (0, 0))
            is_low = on_hand - reserved < low
            if level_id:
                updates.append((on_hand, reserved, is_low, now, level_id))
            else:
                level_id = self.next("inventory_level")
                site.levels[(pid, wid)][0] = level_id
                w.add("inventory_level", (level_id, pid, wid, on_hand, reserved, is_low, now))
                if is_low:
                    w.add("inventory_low_stock_alert", (self.next("inventory_low_stock_alert"), pid, wid,
                                                        on_hand - reserved, low, now))
        w.flush()
        if updates:
            # An appended run: the levels' totals move on (alerts of existing levels are left as they were).
            w.executemany("UPDATE inventory_level SET on_hand = ?, reserved = ?, low_alerted = ?, updated_at = ? "
                          "WHERE id = ?", [(a, b, bool(c), d, e) for a, b, c, d, e in updates])
        for key, value in site.counters.items():
            w.execute("DELETE FROM core_counter WHERE key = ?", (key,))
            w.execute("INSERT INTO core_counter (key, value) VALUES (?, ?)", (key, value))
        if not w.sqlite:  # explicit ids went in: move the id sequences past them
            for table in ORDER:
                if table not in ("inventory_stock_rule", "support_order_access"):
                    w.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"GREATEST((SELECT MAX(id) FROM {table}), 1))")


def generate(app, orders: int, products: int = 10_000, customers: int | None = None, days: int = 730,
             seed: int = 8, progress: bool = True, append: bool = False) -> Counts:
    """Fill the site of ``app`` (schema already made) with ``orders`` orders and all that hangs on them.

    ``append`` adds orders to a site this generator filled before (same catalogue and customers,
    ids, numbers and stock continue); otherwise the site must hold no orders yet.
    """
    from erp_core.extensions import db

    began = time.perf_counter()
    rng = random.Random(seed + (1000 if append else 0))
    counts = Counts()
    with app.app_context():
        _setup_small_things(rng)
        engine = db.engine
        with engine.connect() as conn:
            site = _load_site(conn)
        if site.products and not append:
            raise SystemExit("the database already holds generated data: use --append, or a fresh database")
        if append and not site.products:
            raise SystemExit("--append needs a site filled by this generator before")
        now = int(time.time()) - 600
        w = Writer(engine, counts)
        try:
            gen = Generator(w, site, rng, now, days)
            if not append:
                gen.catalogue(products, customers if customers is not None else max(products * 2, 10))
            gen.initial_stock()
            w.flush()
            times = sorted(rng.randint(gen.start, now - 60) for _ in range(orders))
            with click.progressbar(times, label=f"Generating {orders} orders") if progress else \
                    contextlib.nullcontext(times) as bar:
                for t0 in bar:
                    gen.order(t0)
                    if w.pending() >= 200_000:
                        w.flush()
            gen.finish()
            w.commit()
        finally:
            w.close()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE" if engine.dialect.name == "sqlite" else "VACUUM ANALYZE"))
    counts.seconds = time.perf_counter() - began
    return counts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate",
                                     description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, required=True)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=None, help="default: twice the products")
    parser.add_argument("--days", type=int, default=730, help="orders spread over this many days before now")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--database-url", default="sqlite:////tmp/erp-bench/bench.sqlite",
                        help="SQLite file (recreated) or PostgreSQL database (dropped and recreated; its name must "
                             "contain 'bench')")
    parser.add_argument("--instance", default="/tmp/erp-bench/instance")
    parser.add_argument("--append", action="store_true", help="add orders to a site generated before")
    args = parser.parse_args(argv)
    url = args.database_url
    if not args.append:
        fresh_database(url)
    began = time.perf_counter()
    app = build_app(url, Path(args.instance))
    migrated = time.perf_counter() - began
    counts = generate(app, args.orders, args.products, args.customers, args.days, args.seed, append=args.append)
    total = sum(counts.rows.values())
    click.echo(f"schema (migrations) {migrated:.1f} s; data {counts.seconds:.1f} s for {total:,} rows "
               f"on {'SQLite' if is_sqlite(url) else 'PostgreSQL'}")
    for table, n in sorted(counts.rows.items(), key=lambda kv: -kv[1]):
        click.echo(f"  {table:<28} {n:>10,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
