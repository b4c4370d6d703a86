"""The reference for the framework-cost benchmark: the same create + confirm work as the ERP,
in one flat Flask + SQLAlchemy module with no plugins, hooks, audit log, forms or permissions.

    ERP_BENCH_DATABASE_URL=sqlite:////tmp/ref.sqlite gunicorn -w 2 'bench.reference.app:create_app()'

POST /orders {"customer_id": 1, "lines": [{"product_id": 1, "quantity": 2}, ...]} creates an
order (numbered from a counter row, lines priced from the catalogue, half-up totals);
POST /orders/<id>/confirm reserves its stock with one conditional UPDATE per product and 409s
when stock is short. Both commit once. That is the work the ERP does for the same two requests,
minus everything the framework adds.
"""

from __future__ import annotations

import os
from decimal import ROUND_HALF_UP, Decimal

from flask import Flask, jsonify, request
from sqlalchemy import BigInteger, ForeignKey, Integer, String, create_engine, event, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class Product(Base):
    __tablename__ = "ref_product"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    price_minor: Mapped[int] = mapped_column(BigInteger)


class StockLevel(Base):
    __tablename__ = "ref_stock_level"
    product_id: Mapped[int] = mapped_column(ForeignKey("ref_product.id"), primary_key=True)
    on_hand: Mapped[int] = mapped_column(Integer)
    reserved: Mapped[int] = mapped_column(Integer, default=0)


class Order(Base):
    __tablename__ = "ref_order"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    total_minor: Mapped[int] = mapped_column(BigInteger, default=0)


class OrderLine(Base):
    __tablename__ = "ref_order_line"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("ref_order.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("ref_product.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    line_total_minor: Mapped[int] = mapped_column(BigInteger)


class Counter(Base):
    __tablename__ = "ref_counter"
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


def make_engine(url: str):
    if url.startswith("postgres"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        return create_engine(url, pool_size=10, max_overflow=20)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(conn, _record):
        conn.isolation_level = None
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA synchronous=NORMAL")

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def seed(engine, products: int = 100, stock: int = 10**9) -> None:
    """Create the tables and a catalogue with plenty of stock."""
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with sessionmaker(engine).begin() as session:
        session.add(Counter(key="orders", value=0))
        for i in range(1, products + 1):
            session.add(Product(id=i, sku=f"P{i:05d}", price_minor=1000 + i))
            session.add(StockLevel(product_id=i, on_hand=stock, reserved=0))


def create_app(url: str | None = None) -> Flask:
    url = url or os.environ["ERP_BENCH_DATABASE_URL"]
    engine = make_engine(url)
    Session = sessionmaker(engine, expire_on_commit=False)
    app = Flask(__name__)

    @app.post("/orders")
    def create_order():
        data = request.get_json(force=True)
        lines = data.get("lines") or []
        if not lines:
            return jsonify(error="no lines"), 422
        with Session.begin() as session:
            ids = [int(line["product_id"]) for line in lines]
            prices = dict(session.execute(select(Product.id, Product.price_minor).where(Product.id.in_(ids))).all())
            number = session.execute(text("UPDATE ref_counter SET value = value + 1 WHERE key = 'orders' "
                                          "RETURNING value")).scalar_one()
            order = Order(number=f"SO-{number:06d}", customer_id=int(data.get("customer_id", 1)))
            session.add(order)
            session.flush()
            total = 0
            for line in lines:
                quantity = int(line["quantity"])
                amount = int((Decimal(prices[int(line["product_id"])]) * quantity).quantize(Decimal(1), ROUND_HALF_UP))
                total += amount
                session.add(OrderLine(order_id=order.id, product_id=int(line["product_id"]), quantity=quantity,
                                      line_total_minor=amount))
            order.total_minor = total
        return jsonify(id=order.id, number=order.number), 201

    @app.post("/orders/<int:order_id>/confirm")
    def confirm(order_id: int):
        with Session() as session, session.begin():
            rows = session.execute(select(OrderLine.product_id, OrderLine.quantity)
                                   .where(OrderLine.order_id == order_id)).all()
            for product_id, quantity in rows:
                done = session.execute(text("UPDATE ref_stock_level SET reserved = reserved + :q "
                                            "WHERE product_id = :p AND on_hand - reserved >= :q"),
                                       {"q": quantity, "p": product_id}).rowcount
                if done != 1:
                    session.rollback()
                    return jsonify(error="not enough stock"), 409
            updated = session.execute(text("UPDATE ref_order SET status = 'confirmed' "
                                           "WHERE id = :id AND status = 'draft'"), {"id": order_id}).rowcount
            if updated != 1:
                session.rollback()
                return jsonify(error="not a draft"), 409
        return jsonify(id=order_id, status="confirmed")

    return app
