from flask import Blueprint

bp = Blueprint("quotations", __name__, url_prefix="/quotations", template_folder="templates")
