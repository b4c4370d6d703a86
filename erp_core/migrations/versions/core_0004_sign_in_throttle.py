"""sign-in throttling moves to Flask-Limiter: drop core_login_throttle

Revision ID: core_0004
Revises: core_0003
Create Date: 2026-12-07 12:40:00
"""

import sqlalchemy as sa
from alembic import op

import erp_core.db

revision = 'core_0004'
down_revision = 'core_0003'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_table('core_login_throttle')


def downgrade():
    op.create_table('core_login_throttle',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('locked_until', erp_core.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_core_login_throttle'))
    )
