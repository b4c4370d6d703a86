"""Pages of the __Title__ plugin."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from erp_core import audit
from erp_core.extensions import db
from erp_core.security import has_permission, requires
from erp_core.ui import paginate

from .models import Note

bp = Blueprint("__plugin__", __name__, url_prefix="/__plugin__", template_folder="templates",
               static_folder="static")


def latest_notes(limit: int) -> list[Note]:
    """The ``limit`` most recent notes."""
    return list(db.session.scalars(select(Note).order_by(Note.id.desc()).limit(limit)))


class NoteForm(FlaskForm):
    text = StringField(_l("Note"), validators=[DataRequired(), Length(max=200)])


@bp.route("/")
@requires("__plugin__.view")
def index():
    page = paginate(select(Note).order_by(Note.id.desc()))
    return render_template("__plugin__/index.html", page=page, form=NoteForm(),
                           can_edit=has_permission("__plugin__.edit"))


@bp.route("/", methods=["POST"])
@requires("__plugin__.edit")
def add():
    form = NoteForm()
    if not form.validate_on_submit():
        page = paginate(select(Note).order_by(Note.id.desc()))
        return render_template("__plugin__/index.html", page=page, form=form, can_edit=True), 400
    note = Note(text=form.text.data.strip())
    db.session.add(note)
    db.session.flush()
    audit.record("__plugin___note", note.id, "created", after={"text": note.text})
    db.session.commit()
    flash(_("Note added."), "success")
    return redirect(url_for("__plugin__.index"))
