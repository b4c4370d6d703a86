"""header search: tickets by number

Revision ID: support_0006_search
Revises: support_0005_survey_followup
Create Date: 2026-12-07 23:40:00

On PostgreSQL a pattern index on the ticket number, serving prefixes (erp_core.search).
"""

from alembic import op

from erp_core.search import create_search_indexes, drop_search_indexes

revision = 'support_0006_search'
down_revision = 'support_0005_survey_followup'
branch_labels = None
depends_on = None


def upgrade():
    create_search_indexes(op, 'support_ticket', prefix_columns=('number',))


def downgrade():
    drop_search_indexes(op, 'support_ticket', prefix_columns=('number',))
