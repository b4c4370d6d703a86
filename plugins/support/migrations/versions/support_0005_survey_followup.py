"""system texts: the subject and first note of the follow-up ticket of a low survey score

Revision ID: support_0005_survey_followup
Revises: support_0004_return_refund_state
Create Date: 2026-12-07 20:40:00.000000

Follow-up tickets (source_type 'survey') were written in the language active when the survey was
answered; their subject and first note become message keys, shown in each reader's language.
Frozen copies (English, Chinese) of the sentences; a subject or note staff typed stays as typed.
"""

from alembic import op

from erp_core.system_text_migration import convert_column, revert_column

# Not the assigned support_0005_survey_followup_text: Alembic's version_num column holds 32 characters.
revision = 'support_0005_survey_followup'
down_revision = 'support_0004_return_refund_state'
branch_labels = None
depends_on = None

SUBJECTS = [
    ("support.survey_followup_subject", ["Low satisfaction score on %(about)s", "%(about)s 满意度评分偏低"]),
]
NOTES = [
    ("support.survey_followup_note", [
        "A customer gave a score of %(score)s out of 5 about %(about)s.\n\nComment: %(comment)s",
        "客户对 %(about)s 的评分为 %(score)s 分（满分 5 分）。\n\n评价：%(comment)s"]),
]
FOLLOW_UPS = "(SELECT id FROM support_ticket WHERE source_type = 'survey')"


def _score(_key, params):
    """The score is shown as a number (``%(score)d``)."""
    score = params.get("score", "")
    return {**params, "score": int(score) if score.isdigit() else score}


def upgrade():
    conn = op.get_bind()
    convert_column(conn, "support_ticket", "subject", SUBJECTS, where="source_type = 'survey'")
    convert_column(conn, "support_ticket_message", "body", NOTES, params=_score,
                   where=f"kind = 'note' AND ticket_id IN {FOLLOW_UPS}")


def downgrade():
    conn = op.get_bind()
    revert_column(conn, "support_ticket", "subject", SUBJECTS)
    revert_column(conn, "support_ticket_message", "body", NOTES)
