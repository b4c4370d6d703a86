"""a return's refund as finance tells it: requested, paid, failed, rejected (or paid back by hand)

Revision ID: support_0004_return_refund_state
Revises: support_0003
Create Date: 2026-12-07 19:45:00.000000

Existing returns learn their refunds' state once: from finance's refunds of each return when
finance's table is there, else "manual" for refunds recorded by hand (the rest stays unknown
until finance's next event).
"""

import sqlalchemy as sa
from alembic import op

import erp_core.db

revision = 'support_0004_return_refund_state'
down_revision = 'support_0003'
branch_labels = None
depends_on = None

RETURN = sa.table("support_return", sa.column("id", sa.Integer), sa.column("refund_amount_minor", sa.BigInteger),
                  sa.column("refund_state", sa.String), sa.column("refund_paid_minor", sa.BigInteger))
LINK = sa.table("support_return_link", sa.column("return_id", sa.Integer), sa.column("kind", sa.String),
                sa.column("manual", sa.Boolean))
ROW = sa.table("support_return_refund", sa.column("return_id", sa.Integer), sa.column("refund_key", sa.String),
               sa.column("status", sa.String), sa.column("amount_minor", sa.BigInteger),
               sa.column("updated_at", erp_core.db.UTCDateTime))
FINANCE_STATUS = {"requested": "requested", "refunded": "paid", "rejected": "rejected"}


def _summary(rows):
    """Frozen copy of plugins.support.returns_refunds.combine as of this revision."""
    paid = sum(amount for status, amount in rows if status == "paid")
    statuses = {status for status, _amount in rows}
    if statuses == {"rejected"}:
        return "rejected", 0
    return ("requested" if "requested" in statuses else "paid"), paid


def _finance_refunds(conn, returns) -> dict:
    """Finance's refunds of ``returns`` (ids), by return: ``[(refund id, state, amount)]``."""
    found: dict[int, list] = {}
    if not sa.inspect(conn).has_table("finance_refund"):
        return found
    refund = sa.table("finance_refund", sa.column("id", sa.Integer), sa.column("status", sa.String),
                      sa.column("amount_minor", sa.BigInteger), sa.column("source_type", sa.String),
                      sa.column("source_id", sa.String))
    for row in conn.execute(sa.select(refund).where(refund.c.source_type == "support_return")):
        if str(row.source_id).isdigit() and int(row.source_id) in returns and row.status in FINANCE_STATUS:
            found.setdefault(int(row.source_id), []).append((row.id, FINANCE_STATUS[row.status], row.amount_minor))
    return found


def _backfill(conn):
    from erp_core.timeutil import utcnow

    refunded = dict(conn.execute(sa.select(RETURN.c.id, RETURN.c.refund_amount_minor)
                                 .where(RETURN.c.refund_amount_minor.is_not(None))).all())
    by_hand = {r for (r,) in conn.execute(sa.select(LINK.c.return_id).where(LINK.c.kind == "refund", LINK.c.manual))}
    found = _finance_refunds(conn, refunded)
    now = utcnow()
    for return_id, amount in refunded.items():
        rows = found.get(return_id)
        if rows:
            conn.execute(ROW.insert(), [{"return_id": return_id, "refund_key": str(rid), "status": status,
                                         "amount_minor": minor, "updated_at": now} for rid, status, minor in rows])
            state, paid = _summary([(status, minor) for _rid, status, minor in rows])
        elif return_id in by_hand:
            state, paid = "manual", amount
        else:
            continue
        conn.execute(RETURN.update().where(RETURN.c.id == return_id).values(refund_state=state, refund_paid_minor=paid))


def upgrade():
    with op.batch_alter_table('support_return', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refund_state', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('refund_paid_minor', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('refund_state_at', erp_core.db.UTCDateTime(), nullable=True))
    op.create_table('support_return_refund',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('return_id', sa.Integer(), nullable=False),
    sa.Column('refund_key', sa.String(length=60), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', erp_core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['return_id'], ['support_return.id'], name=op.f('fk_support_return_refund_return_id_support_return'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_return_refund')),
    sa.UniqueConstraint('return_id', 'refund_key', name='uq_support_return_refund_key')
    )
    with op.batch_alter_table('support_return_refund', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_return_refund_return_id'), ['return_id'], unique=False)
    _backfill(op.get_bind())


def downgrade():
    with op.batch_alter_table('support_return_refund', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_return_refund_return_id'))
    op.drop_table('support_return_refund')
    with op.batch_alter_table('support_return', schema=None) as batch_op:
        batch_op.drop_column('refund_state_at')
        batch_op.drop_column('refund_paid_minor')
        batch_op.drop_column('refund_state')
