"""The surveys API of support (``/api/v1/surveys``): answered satisfaction surveys and CSAT."""

from __future__ import annotations

from datetime import date, timedelta

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from erp_core import settings
from erp_core.api.pagination import paginate
from erp_core.api.schemas import (
    PageQuerySchema,
    QuerySchema,
    WholeNumber,
    clamp_date,
    id_field,
    in_range,
    one_of,
    page_schema,
)
from erp_core.security import requires
from erp_core.timeutil import to_zone, utcnow

from .. import states, surveys
from ..models import Survey

MAX_REPORT_DAYS = 800  # as the CSAT page: a longer window keeps its end and moves its start
EARLIEST, LATEST = date(1970, 1, 1), date(9000, 12, 31)

surveys_bp = Blueprint("support_surveys_api", __name__, url_prefix="/api/v1/surveys",
                       description="Answered satisfaction surveys and CSAT")


class SurveyOut(ma.Schema):
    id = WholeNumber(required=True)
    kind = ma.fields.String(required=True, validate=one_of(("ticket", "order")))
    ticket_id = WholeNumber(required=True, allow_none=True)
    ticket_number = ma.fields.Function(lambda s: s.ticket.number if s.ticket is not None else None,
                                       required=True, allow_none=True, metadata={"type": "string"})
    order_id = WholeNumber(required=True, allow_none=True)
    order_number = ma.fields.Function(lambda s: s.order.number if s.order is not None else None,
                                      required=True, allow_none=True, metadata={"type": "string"})
    team_id = WholeNumber(required=True, allow_none=True)
    agent_id = WholeNumber(required=True, allow_none=True)
    category = ma.fields.String(required=True)
    score = WholeNumber(required=True, validate=in_range(1, 5))
    comment = ma.fields.String(required=True)
    issued_at = ma.fields.DateTime(required=True)
    answered_at = ma.fields.DateTime(required=True)
    followup_ticket_id = WholeNumber(required=True, allow_none=True)


SurveyPage = page_schema(SurveyOut, "SurveyPage")


class ReportIn(QuerySchema):
    start = ma.fields.Date(data_key="from", metadata={
        "description": "First day (company calendar); default: 89 days before to"})
    end = ma.fields.Date(data_key="to", metadata={"description": "Last day, included; default: today"})
    kind = ma.fields.String(validate=one_of(("ticket", "order")))
    team_id = id_field()
    agent_id = id_field()
    category = ma.fields.String(validate=one_of(states.CATEGORIES))

    @ma.post_load
    def _within_reach(self, data, **kwargs):
        # No survey exists outside these years; keeping dates inside them keeps the day arithmetic
        # of time zones away from the calendar's ends without changing any result.
        for key in ("start", "end"):
            if key in data:
                data[key] = clamp_date(data[key], EARLIEST, LATEST)
        return data


class SurveyListIn(ReportIn, PageQuerySchema):
    score = WholeNumber(validate=in_range(1, 5))
    max_score = WholeNumber(validate=in_range(1, 5), metadata={"description": "Scores up to this"})


class CsatIn(ReportIn):
    period = ma.fields.String(load_default="week", validate=one_of(("day", "week", "month")))


class StatOut(ma.Schema):
    responses = WholeNumber(required=True)
    satisfied = WholeNumber(required=True, metadata={"description": "Answers scoring 4 or 5"})
    average = ma.fields.Float(required=True, allow_none=True)
    csat = ma.fields.Float(required=True, allow_none=True, metadata={"description": "Share satisfied, in %"})


class PeriodStatOut(StatOut):
    start = ma.fields.Date(attribute="key", required=True)
    label = ma.fields.String(required=True)


class GroupStatOut(StatOut):
    key = ma.fields.String(required=True, allow_none=True, metadata={"description": "Team id, agent id or category"})
    label = ma.fields.String(required=True)


class CsatOut(ma.Schema):
    start = ma.fields.Date(data_key="from", required=True)
    end = ma.fields.Date(data_key="to", required=True)
    period = ma.fields.String(required=True, validate=one_of(("day", "week", "month")))
    summary = ma.fields.Nested(StatOut, required=True)
    periods = ma.fields.List(ma.fields.Nested(PeriodStatOut), required=True)
    by_team = ma.fields.List(ma.fields.Nested(GroupStatOut), required=True)
    by_agent = ma.fields.List(ma.fields.Nested(GroupStatOut), required=True)
    by_category = ma.fields.List(ma.fields.Nested(GroupStatOut), required=True)


def _report_filters(args: dict, period: str = "week", limit: bool = False) -> tuple[surveys.ReportFilters, str]:
    """The filters of the CSAT page from API arguments: the same defaults (the last 90 days),
    ``from`` after ``to`` swapped, and (``limit``) at most 800 days."""
    tz = settings.company_timezone()
    end = args.get("end") or to_zone(utcnow(), tz).date()
    start = args.get("start") or end - timedelta(days=89)
    if start > end:
        start, end = end, start
    if limit and (end - start).days > MAX_REPORT_DAYS:
        start = end - timedelta(days=MAX_REPORT_DAYS)
    return surveys.ReportFilters(start=start, end=end, kind=args.get("kind", ""), period=period,
                                 category=args.get("category", ""), team_id=args.get("team_id"),
                                 agent_id=args.get("agent_id")), tz


def _group(stats) -> list[dict]:
    return [{"key": None if s.key is None else str(s.key), "label": s.label, "responses": s.responses,
             "satisfied": s.satisfied, "average": s.average, "csat": s.csat} for s in stats]


def _stat(s) -> dict:
    return {"responses": s.responses, "satisfied": s.satisfied, "average": s.average, "csat": s.csat}


@surveys_bp.route("")
class Surveys(MethodView):
    @requires("support.reports.view")
    @surveys_bp.arguments(SurveyListIn, location="query")
    @surveys_bp.response(200, SurveyPage)
    def get(self, args):
        """Answered surveys (newest first) within a period, by team, agent, category or score."""
        filters, tz = _report_filters(args)
        stmt = surveys.answered_query(filters, tz, score=args.get("score"), max_score=args.get("max_score"))
        body, headers = paginate(stmt.order_by(Survey.answered_at.desc(), Survey.id.desc()), args)
        return body, 200, headers


@surveys_bp.route("/csat")
class Csat(MethodView):
    @requires("support.reports.view")
    @surveys_bp.arguments(CsatIn, location="query")
    @surveys_bp.response(200, CsatOut)
    def get(self, args):
        """CSAT (share of scores 4-5) over the period and per day, week or month, team, agent and
        category: the numbers of the CSAT report page. Like the page, a window longer than 800
        days keeps its end and starts 800 days before; ``from`` and ``to`` answer the window used."""
        filters, tz = _report_filters(args, args["period"], limit=True)
        periods = surveys.by_period(filters, tz)
        return {"start": filters.start, "end": filters.end, "period": filters.period,
                "summary": _stat(surveys.summary(filters, tz)),
                "periods": [{"key": p.key, "label": p.label, **_stat(p)} for p in periods],
                "by_team": _group(surveys.breakdown(filters, tz, "team")),
                "by_agent": _group(surveys.breakdown(filters, tz, "agent")),
                "by_category": _group(surveys.breakdown(filters, tz, "category"))}
