"""The JSON API of support under ``/api/v1``: tickets, return requests (RMA) and survey results.

Thin like the pages: parse with a schema (built from :mod:`erp_core.api.schemas`), call the same
services (``services``, ``returns``, ``surveys``), commit, answer with a schema. A refused operation
rolls back and answers problem+json (a business rule breaking on the input is 422, a state
conflict 409). Every method carries the permission mark of the page doing the same thing.
"""

from .returns import returns_bp
from .surveys import surveys_bp
from .tickets import tickets_bp

BLUEPRINTS = (tickets_bp, returns_bp, surveys_bp)

__all__ = ["BLUEPRINTS", "returns_bp", "surveys_bp", "tickets_bp"]
