"""Form helpers shared by every plugin."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import flash
from wtforms import SelectField
from wtforms.utils import unset_value

from .errors import DomainError
from .extensions import db


def show_domain_error(form, exc: DomainError) -> None:
    """Put a service's refusal beside the field it names, or in a flash message."""
    field = getattr(form, exc.field, None) if (form is not None and exc.field) else None
    if field is not None:
        field.errors = list(field.errors) + [str(exc)]
    else:
        flash(str(exc), "danger")


@dataclass
class Outcome:
    """What :func:`attempt` saw: ``ok`` is False once a service refused (``error`` says why)."""

    ok: bool = True
    error: DomainError | None = None


@contextmanager
def attempt(form=None, *, on_error: Callable[[object, DomainError], None] | None = None) -> Iterator[Outcome]:
    """Run the service calls of a page view in one transaction: commit, or roll back and show why.

    On normal exit the block's work is committed. A :class:`DomainError` (``NotFound``,
    ``Conflict``... included), raised in the block or by the commit, rolls back, is shown with
    ``show_domain_error(form, exc)`` (beside the field it names, else flashed; ``form`` may be
    None) or with ``on_error(form, exc)`` when given, and is swallowed: ``outcome.ok`` turns
    False and ``outcome.error`` holds it. Any other exception rolls back and propagates::

        with attempt(form) as outcome:
            order = services.update_order(order, data, version)
        if outcome.ok:
            flash(_("Order %(number)s saved.", number=order.number), "success")
            return redirect(url_for("orders.detail", order_id=order.id))
        status = STATUS_CODE_INVALID
    """
    outcome = Outcome()
    try:
        yield outcome
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        outcome.ok, outcome.error = False, exc
        (on_error or show_domain_error)(form, exc)
    except BaseException:
        db.session.rollback()
        raise


def choices(pairs) -> list:
    """``[(value, label), ...]`` as WTForms SelectChoice objects (tuples are deprecated)."""
    from wtforms.fields.choices import SelectChoice

    return [SelectChoice(value, label) for value, label in pairs]


class CountryField(SelectField):
    """A country picked by its name in the reader's language; the value is the ISO 3166 code.

    The service still checks the code: the field only offers names instead of codes."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("validate_choice", False)
        super().__init__(label, validators, **kwargs)

    def process(self, formdata, data=unset_value, extra_filters=None):
        super().process(formdata, data, extra_filters)
        from .i18n import country_choices  # (i18n reads settings, which import forms' neighbours)

        self.choices = country_choices(self.data)
