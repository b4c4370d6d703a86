"""The core's own API endpoints."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from ..security import login_only
from .schemas import WholeNumber

bp = Blueprint("core_api", __name__, url_prefix="/api/v1", description="The signed-in user")
bp.api_title = "Account"


class MeSchema(ma.Schema):
    id = WholeNumber(required=True)
    username = ma.fields.String(required=True)
    display_name = ma.fields.String(required=True)
    email = ma.fields.String(allow_none=True)
    roles = ma.fields.List(ma.fields.String(), required=True)
    permissions = ma.fields.List(ma.fields.String(), required=True)


@bp.route("/me")
class Me(MethodView):
    @login_only
    @bp.response(200, MeSchema)
    def get(self):
        """Who the token belongs to, with roles and permissions."""
        user = current_user
        return {"id": user.id, "username": user.username, "display_name": user.display_name,
                "email": user.email, "roles": [r.name for r in user.roles],
                "permissions": sorted(user.permission_codes())}
