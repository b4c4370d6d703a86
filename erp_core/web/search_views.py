"""The /search page behind the header's search box."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from ..search import clean_query, run_search
from ..security import login_only

bp = Blueprint("search", __name__)


@bp.route("/search")
@login_only
def index():
    """Records of every enabled plugin matching ``q`` that the user may see, grouped by kind."""
    query = clean_query(request.args.get("q"))
    groups = run_search(query, current_user._get_current_object())
    return render_template("web/search.html", query=query, groups=groups)
