"""Forms of the account pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import choices

LANGUAGE_CHOICES = choices([("", _l("Automatic")), ("en", "English"), ("zh_CN", "简体中文")])


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class UserForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(min=2, max=80)])
    display_name = StringField(_l("Full name"), validators=[Optional(), Length(max=120)])
    email = StringField(_l("E-mail"), validators=[Optional(), Email(), Length(max=200)])
    password = PasswordField(_l("Password"), validators=[Optional(), Length(max=200)])
    active = BooleanField(_l("Active"), default=True)
    roles = MultiCheckboxField(_l("Roles"), choices=[])
    locale = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, validators=[Optional()])
    timezone = StringField(_l("Time zone"), validators=[Optional(), Length(max=60)])


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))])


class ProfileForm(FlaskForm):
    display_name = StringField(_l("Full name"), validators=[Optional(), Length(max=120)])
    email = StringField(_l("E-mail"), validators=[Optional(), Email(), Length(max=200)])
    locale = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, validators=[Optional()])
    timezone = StringField(_l("Time zone"), validators=[Optional(), Length(max=60)])


class RoleForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(min=2, max=60)])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    permissions = MultiCheckboxField(_l("Permissions"), choices=[])


class TokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[Length(max=120)])
    days = StringField(_l("Valid for (days)"), description=_l("Empty: until revoked."))
    password = PasswordField(_l("Your password"), validators=[DataRequired(), Length(max=200)])
