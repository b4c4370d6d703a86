"""Forms of the logistics pages (quantities per order line are read from ``qty-<line id>``)."""

from __future__ import annotations

from datetime import UTC

from flask_babel import get_timezone
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from erp_core.forms import choices

from . import states


class ShipmentForm(FlaskForm):
    """Create a shipment (with quantities) or dispatch a pending one (without)."""

    carrier_id = SelectField(_l("Carrier"), validators=[InputRequired()])
    carrier_name = StringField(_l("Carrier's name"), validators=[Optional(), Length(max=120)],
                               description=_l("The company that takes the parcel, e.g. SF Express."))
    tracking_number = StringField(_l("Tracking number"), validators=[Optional(), Length(max=64)])
    ship_date = DateField(_l("Ship date"), validators=[Optional()])
    expected_delivery = DateField(_l("Expected delivery"), validators=[Optional()])
    packages = StringField(_l("Packages"), validators=[Optional(), Length(max=6)])
    weight = StringField(_l("Weight (kg)"), validators=[Optional(), Length(max=16)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 2})
    request_key = HiddenField()


class EventForm(FlaskForm):
    status = SelectField(_l("What happened"), validators=[InputRequired()],
                         choices=choices((s, states.EVENT_LABELS[s]) for s in states.STAFF_EVENTS))
    occurred_at = DateTimeLocalField(_l("When"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    location = StringField(_l("Where"), validators=[Optional(), Length(max=120)])
    description = StringField(_l("Description"), validators=[Optional(), Length(max=300)])

    def occurred_utc(self):
        """The typed local time as an aware UTC datetime (None when left empty)."""
        if not self.occurred_at.data:
            return None
        return self.occurred_at.data.replace(tzinfo=get_timezone()).astimezone(UTC)


class DeliveredForm(FlaskForm):
    """When the parcel arrived (empty: now), typed in the user's time zone."""

    occurred_at = DateTimeLocalField(_l("Delivered at"), format="%Y-%m-%dT%H:%M", validators=[Optional()])

    def occurred_utc(self):
        """The typed local time as an aware UTC datetime (None when left empty)."""
        if not self.occurred_at.data:
            return None
        return self.occurred_at.data.replace(tzinfo=get_timezone()).astimezone(UTC)


class RaiseExceptionForm(FlaskForm):
    kind = SelectField(_l("Problem"), validators=[InputRequired()],
                       choices=choices(states.KIND_LABELS.items()))
    owner_id = SelectField(_l("Owner"), validators=[Optional()])
    due_date = DateField(_l("Due date"), validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=5000)], render_kw={"rows": 2})


class ExceptionEditForm(FlaskForm):
    owner_id = SelectField(_l("Owner"), validators=[Optional()])
    due_date = DateField(_l("Due date"), validators=[InputRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=5000)], render_kw={"rows": 3})


class ResolveForm(FlaskForm):
    resolution = HiddenField(validators=[InputRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=5000)], render_kw={"rows": 2})


class ContactForm(FlaskForm):
    message = TextAreaField(_l("What should customer service tell or ask the customer?"),
                            validators=[InputRequired(), Length(max=5000)], render_kw={"rows": 3})


class CancelForm(FlaskForm):
    note = StringField(_l("Reason"), validators=[InputRequired(), Length(max=1000)])


class CarrierForm(FlaskForm):
    """Name, code and switch of a carrier; the adapter's credential fields are added per adapter."""

    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=120)])
    code = StringField(_l("Code"), validators=[Optional(), Length(max=40)],
                       description=_l("Lower-case letters, digits and dashes; part of the webhook address. "
                                      "It cannot be changed later."))
    enabled = BooleanField(_l("Switched on"), default=True)


def carrier_form(adapter_cls):
    """A CarrierForm class with one field per credential the adapter asks for (``cred-<key>``)."""

    class Form(CarrierForm):
        pass

    for f in adapter_cls.credential_fields:
        kw = {"label": f.label, "description": f.help, "validators": [Optional(), Length(max=500)]}
        if f.choices:
            kw["choices"] = choices([("", "—")] + [(value, label) for value, label in f.choices])
            kw["validators"] = [Optional()]
            kw["validate_choice"] = False  # checked by the adapter's validate_credentials, with its message
            setattr(Form, "cred_" + f.key, SelectField(**kw))
        elif f.secret:
            kw["render_kw"] = {"autocomplete": "new-password"}
            setattr(Form, "cred_" + f.key, PasswordField(**kw))
        else:
            setattr(Form, "cred_" + f.key, StringField(**kw))
    return Form
