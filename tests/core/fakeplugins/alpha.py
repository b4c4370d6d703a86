"""A test plugin using most contribution hooks, with a table of its own."""

import os

import click
from flask import Blueprint, render_template_string
from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from erp_core import hookimpl, hookspec
from erp_core.contrib import NavItem, Panel, Permission, Schedule, SettingField, Widget
from erp_core.extensions import db
from erp_core.plugins import PluginMeta
from erp_core.security import public, requires

meta = PluginMeta(name="alpha", version="1.0", title="Alpha", description="Test plugin A")

CALLS: list = []


class AlphaNote(db.Model):
    __tablename__ = "alpha_note"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(String(100))


bp = Blueprint("alpha", __name__, url_prefix="/alpha", template_folder="templates")


@bp.route("/")
@requires("alpha.view")
def index():
    return render_template_string("alpha page {{ n }}", n=db.session.query(AlphaNote).count())


@bp.route("/open")
@public
def open_page():
    return "alpha public"


@bp.route("/enqueue", methods=["POST"])
@requires("alpha.view")
def enqueue_tick():
    """Queue the tick job (it runs after commit: inline, or on RQ when Redis is configured)."""
    from erp_core.jobs import enqueue

    enqueue(queued_note)
    db.session.commit()
    return "queued"


def queued_note():
    db.session.add(AlphaNote(text="queued"))


class AlphaSpecs:
    """Alpha's own hook, declared through erp_addhooks like a business plugin's."""

    @hookspec
    def erp_alpha_pinged(self, who: str) -> list[str]:
        """Alpha was pinged by ``who``. Returns: a list of replies."""


@hookimpl
def erp_addhooks(pluginmanager):
    pluginmanager.add_hookspecs(AlphaSpecs)


@hookimpl
def erp_blueprints():
    return [bp]


@hookimpl
def erp_permissions():
    return [Permission("alpha.view", "View alpha", roles=("warehouse",))]


@hookimpl
def erp_nav_items():
    return [NavItem("Alpha menu", "alpha.index", "alpha.view", icon="star")]


@hookimpl
def erp_dashboard_widgets(user):
    return [Widget("Alpha widget", "alpha_widget.html", {"who": user.username})]


@hookimpl
def erp_public_blocks():
    return [Panel("Alpha block", "alpha_widget.html", {"who": "public"})]


@hookimpl
def erp_order_panels(order, user):
    CALLS.append(("panel", order))
    return [Panel("Alpha panel", "alpha_widget.html", {"who": user.username})]


@hookimpl
def erp_settings_fields():
    return [SettingField("alpha.greeting", "Greeting", "string", "hello", "Alpha"),
            SettingField("alpha.token", "Token", "secret", "", "Alpha")]


@hookimpl
def erp_cli_commands():
    @click.command("alpha-hello")
    def hello():
        """Say hello from alpha."""
        click.echo(f"hello from alpha ({db.session.query(AlphaNote).count()} notes)")

    return [hello]


@hookimpl
def erp_webhook_events():
    return {"alpha.pinged": "Alpha was pinged"}


@hookimpl
def erp_schedules():
    # Tests of "once per interval" across processes lengthen it, so that a slow machine cannot
    # make the tick due again before they look.
    every = int(os.environ.get("ALPHA_TICK_SECONDS", "60"))
    return [Schedule("alpha.tick", every, "tests.core.fakeplugins.alpha:tick")]


def tick():
    db.session.add(AlphaNote(text="tick"))


@hookimpl
def erp_demo_data(ctx):
    db.session.add(AlphaNote(text=f"demo {ctx.rng.randint(1, 9)}"))
    ctx.data["alpha"] = True


@hookimpl
def erp_order_validate_transition(order, old_status, new_status):
    CALLS.append(("validate", old_status, new_status))
    return ["alpha says no"] if new_status == "forbidden" else []


# ---------------------------------------------------------------- a small JSON API

import marshmallow as ma  # noqa: E402
from flask.views import MethodView  # noqa: E402
from flask_smorest import Blueprint as ApiBlueprint  # noqa: E402
from sqlalchemy import select  # noqa: E402

from erp_core.api.idempotency import idempotent  # noqa: E402
from erp_core.api.pagination import PageArgsSchema, page_schema, paginate  # noqa: E402
from erp_core.errors import DomainError  # noqa: E402

api = ApiBlueprint("alpha_api", __name__, url_prefix="/api/v1/alpha", description="Alpha notes")


class NoteSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    text = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))


@api.route("/notes")
class Notes(MethodView):
    @requires("alpha.view")
    @api.arguments(PageArgsSchema, location="query")
    @api.response(200, page_schema(NoteSchema, "NotePage"))
    def get(self, args):
        """List notes."""
        body, headers = paginate(select(AlphaNote).order_by(AlphaNote.id), args)
        return body, 200, headers

    @requires("alpha.view")
    @idempotent
    @api.arguments(NoteSchema)
    @api.response(201, NoteSchema)
    @api.alt_response(422, response="DEFAULT_ERROR")
    def post(self, data):
        """Create a note."""
        if data["text"].strip() == "forbidden":
            raise DomainError("forbidden text", field="text", status=422)
        note = AlphaNote(text=data["text"])
        db.session.add(note)
        db.session.commit()
        return note


@hookimpl
def erp_api_blueprints():
    return [api]
