"""Forms of support (staff and public). Rules live in the services; these only parse input."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from erp_core.forms import choices

from . import states


class Honeypot:
    """Mixin: a field people never see; robots that fill it are ignored quietly."""

    website = StringField(_l("Website"), validators=[Optional()])

    def is_robot(self) -> bool:
        return bool((self.website.data or "").strip())


def _pairs(labels: dict):
    return choices((key, str(label)) for key, label in labels.items())


# ----------------------------------------------------------------------------- public


class ContactForm(Honeypot, FlaskForm):
    name = StringField(_l("Your name"), validators=[InputRequired(), Length(max=200)])
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    order_number = StringField(_l("Order number (if it is about an order)"), validators=[Optional(), Length(max=32)])
    category = SelectField(_l("What is it about?"), validators=[InputRequired()])
    subject = StringField(_l("Subject"), validators=[InputRequired(), Length(max=200)])
    message = TextAreaField(_l("Message"), validators=[InputRequired(), Length(max=20000)], render_kw={"rows": 6})
    attachments = MultipleFileField(_l("Pictures or documents (optional)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = _pairs({k: states.CATEGORY_LABELS[k] for k in states.PUBLIC_CATEGORIES})


class LookupForm(Honeypot, FlaskForm):
    number = StringField(_l("Order number"), validators=[InputRequired(), Length(max=32)])
    contact = StringField(_l("Phone or e-mail used for the order"), validators=[InputRequired(), Length(max=200)])


class CustomerReplyForm(Honeypot, FlaskForm):
    body = TextAreaField(_l("Your message"), validators=[InputRequired(), Length(max=20000)], render_kw={"rows": 6})
    attachments = MultipleFileField(_l("Pictures or documents (optional)"))


class ReturnRequestForm(Honeypot, FlaskForm):
    kind = RadioField(_l("What would you like?"), default="refund", validators=[InputRequired()])
    reason_code = SelectField(_l("Reason"), validators=[InputRequired()])
    reason = TextAreaField(_l("Tell us more"), validators=[Optional(), Length(max=4000)], render_kw={"rows": 3})
    photos = MultipleFileField(_l("Photos (optional)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = _pairs(states.RETURN_KINDS)
        self.reason_code.choices = _pairs(states.REASONS)


class SurveyForm(Honeypot, FlaskForm):
    score = RadioField(_l("How satisfied are you?"), validators=[InputRequired(_l("Choose a score from 1 to 5."))])
    comment = TextAreaField(_l("Anything you want to tell us? (optional)"), validators=[Optional(), Length(max=4000)],
                            render_kw={"rows": 3})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.score.choices = choices((str(n), str(n)) for n in range(1, 6))


# ----------------------------------------------------------------------------- staff: tickets


class VersionedForm(FlaskForm):
    version = HiddenField()


class TicketForm(FlaskForm):
    subject = StringField(_l("Subject"), validators=[InputRequired(), Length(max=200)])
    body = TextAreaField(_l("What the customer asks"), validators=[InputRequired(), Length(max=20000)], render_kw={"rows": 6})
    channel = SelectField(_l("Channel"), default="phone")
    category = SelectField(_l("Category"), default="order_question")
    priority = SelectField(_l("Priority"), default="normal")
    order_id = HiddenField()
    order_number = StringField(_l("Order number"), validators=[Optional(), Length(max=32)])
    contact_name = StringField(_l("Customer name"), validators=[Optional(), Length(max=200)])
    contact_email = StringField(_l("Customer e-mail"), validators=[Optional(), Length(max=200)])
    contact_phone = StringField(_l("Customer phone"), validators=[Optional(), Length(max=40)])
    team_id = SelectField(_l("Team"), validators=[Optional()])
    assignee_id = SelectField(_l("Assignee"), validators=[Optional()])
    attachments = MultipleFileField(_l("Attachments"))

    def __init__(self, *args, teams=(), agents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.channel.choices = _pairs(states.CHANNEL_LABELS)
        self.category.choices = _pairs(states.CATEGORY_LABELS)
        self.priority.choices = _pairs(states.PRIORITY_LABELS)
        self.team_id.choices = choices([("", str(_l("Route to the team on duty")))] + [(str(t.id), t.name) for t in teams])
        self.assignee_id.choices = choices([("", str(_l("Nobody yet")))] + [(str(u.id), u.label) for u in agents])


class MessageForm(VersionedForm):
    kind = RadioField(_l("Kind"), default="reply")
    body = TextAreaField(_l("Message"), validators=[InputRequired(), Length(max=20000)], render_kw={"rows": 6})
    then_status = SelectField(_l("Then"), default="", validators=[Optional()])
    attachments = MultipleFileField(_l("Attachments"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = choices([("reply", str(_l("Reply to customer"))), ("note", str(_l("Internal note")))])
        self.then_status.choices = choices([
            ("", str(_l("Keep the status"))), ("pending", str(_l("Wait for the customer"))),
            ("resolved", str(_l("Mark resolved")))])


class StatusForm(VersionedForm):
    status = HiddenField(validators=[InputRequired()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=1000)])


class AssignForm(VersionedForm):
    team_id = SelectField(_l("Team"), validators=[Optional()])
    assignee_id = SelectField(_l("Assignee"), validators=[Optional()])

    def __init__(self, *args, teams=(), agents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.team_id.choices = choices([("", "—")] + [(str(t.id), t.name) for t in teams])
        self.assignee_id.choices = choices([("", str(_l("Nobody")))] + [(str(u.id), u.label) for u in agents])


class DetailsForm(VersionedForm):
    subject = StringField(_l("Subject"), validators=[InputRequired(), Length(max=200)])
    category = SelectField(_l("Category"))
    priority = SelectField(_l("Priority"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = _pairs(states.CATEGORY_LABELS)
        self.priority.choices = _pairs(states.PRIORITY_LABELS)


class TeamForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=120)])
    timezone = StringField(_l("Time zone"), validators=[InputRequired(), Length(max=60)],
                           description=_l("An IANA zone such as Asia/Shanghai or Europe/London."))
    active = BooleanField(_l("Active (takes tickets and counts for coverage)"), default=True)
    day0 = StringField(_l("Monday"))
    day1 = StringField(_l("Tuesday"))
    day2 = StringField(_l("Wednesday"))
    day3 = StringField(_l("Thursday"))
    day4 = StringField(_l("Friday"))
    day5 = StringField(_l("Saturday"))
    day6 = StringField(_l("Sunday"))
    members = SelectMultipleField(_l("Members"), validators=[Optional()])
    leads = SelectMultipleField(_l("Team leads"), validators=[Optional()])

    def day_fields(self):
        return [getattr(self, f"day{d}") for d in range(7)]


class CannedForm(FlaskForm):
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=120)])
    body = TextAreaField(_l("Text"), validators=[InputRequired()], render_kw={"rows": 6},
                         description=_l("Placeholders: {customer}, {ticket}, {order}, {agent}."))
    active = BooleanField(_l("Offered to agents"), default=True)


# ----------------------------------------------------------------------------- staff: returns


class StaffReturnForm(FlaskForm):
    kind = RadioField(_l("The customer wants"), default="refund")
    reason_code = SelectField(_l("Reason"))
    reason = TextAreaField(_l("Details"), validators=[Optional(), Length(max=4000)], render_kw={"rows": 3})
    photos = MultipleFileField(_l("Photos"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = _pairs(states.RETURN_KINDS)
        self.reason_code.choices = _pairs(states.REASONS)


class DecisionForm(VersionedForm):
    decision = HiddenField(validators=[InputRequired()])
    message = TextAreaField(_l("Message to the customer"), validators=[Optional(), Length(max=4000)], render_kw={"rows": 3})


class ReceiveForm(VersionedForm):
    restock = RadioField(_l("The goods"), default="restock")
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=4000)], render_kw={"rows": 3})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.restock.choices = choices([("restock", str(_l("go back on the shelf"))),
                                        ("write_off", str(_l("are written off (damaged)")))])


class RefundForm(VersionedForm):
    amount = StringField(_l("Amount to refund"), validators=[Optional(), Length(max=30)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=4000)], render_kw={"rows": 3})

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "refund")  # shares the page with the exchange form
        super().__init__(*args, **kwargs)


class NoteForm(VersionedForm):
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=4000)], render_kw={"rows": 3})
