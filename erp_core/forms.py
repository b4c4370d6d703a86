"""Form helpers shared by every plugin."""

from __future__ import annotations

from flask import flash

from .errors import DomainError


def show_domain_error(form, exc: DomainError) -> None:
    """Put a service's refusal beside the field it names, or in a flash message."""
    field = getattr(form, exc.field, None) if (form is not None and exc.field) else None
    if field is not None:
        field.errors = list(field.errors) + [str(exc)]
    else:
        flash(str(exc), "danger")


def choices(pairs) -> list:
    """``[(value, label), ...]`` as WTForms SelectChoice objects (tuples are deprecated)."""
    from wtforms.fields.choices import SelectChoice

    return [SelectChoice(value, label) for value, label in pairs]
