"""Domain errors raised by services and turned into user messages by views and the API."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused an operation. ``message`` is already translated (or lazy).

    ``code`` is a stable machine-readable identifier for the API; ``field`` names the input at
    fault when there is one, so forms can show the message beside it.
    """

    code = "domain_error"
    status = 400

    def __init__(self, message, *, code: str | None = None, field: str | None = None, status: int | None = None):
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


class NotFound(DomainError):
    """The record asked for does not exist (404)."""

    code = "not_found"
    status = 404


class Conflict(DomainError):
    """The record changed or is in a state that forbids the operation."""

    code = "conflict"
    status = 409


class ValidationProblems(DomainError):
    """Several problems at once (validation hooks, imports)."""

    code = "validation_failed"
    status = 422

    def __init__(self, problems, **kw):
        self.problems = [str(p) for p in problems]
        super().__init__("; ".join(self.problems), **kw)
