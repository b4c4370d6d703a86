from flask_smorest import Blueprint

bp = Blueprint("quotations_api", __name__, url_prefix="/api/v1/quotations")
