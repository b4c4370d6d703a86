"""``erp_core.forms.attempt``: the page views' "call the service, commit, or roll back and show why"."""

from __future__ import annotations

import pytest
from flask import get_flashed_messages
from sqlalchemy import func, select
from wtforms import Form, StringField

from erp_core.auth.models import Role
from erp_core.errors import Conflict, DomainError, NotFound, ValidationProblems
from erp_core.extensions import db
from erp_core.forms import attempt


class _NameForm(Form):
    name = StringField()


def _roles(name: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Role).where(Role.name == name))


def _add(name: str) -> None:
    db.session.add(Role(name=name, title=name))
    db.session.flush()


@pytest.fixture
def ctx(app):
    with app.test_request_context("/", method="POST"):
        yield


def test_success_commits(ctx):
    with attempt(_NameForm()) as outcome:
        _add("kept")
    db.session.rollback()  # a later rollback cannot undo what attempt committed
    assert outcome.ok and outcome.error is None
    assert _roles("kept") == 1
    assert get_flashed_messages() == []


@pytest.mark.parametrize("error", [DomainError, Conflict, NotFound, ValidationProblems])
def test_refusal_naming_a_field_rolls_back_and_goes_beside_it(ctx, error):
    form = _NameForm()
    exc = error(["Taken."] if error is ValidationProblems else "Taken.", field="name")
    with attempt(form) as outcome:
        _add("dropped")
        raise exc
    assert not outcome.ok and outcome.error is exc
    assert _roles("dropped") == 0
    assert form.name.errors == ["Taken."]
    assert get_flashed_messages() == []


@pytest.mark.parametrize("form", [None, _NameForm])
@pytest.mark.parametrize("error", [DomainError, Conflict, NotFound])
def test_refusal_without_a_matching_field_is_flashed(ctx, form, error):
    form = form() if form else None
    with attempt(form) as outcome:
        _add("dropped")
        raise error("Refused.", field="no_such_field")
    assert not outcome.ok and isinstance(outcome.error, error)
    assert _roles("dropped") == 0
    assert get_flashed_messages(with_categories=True) == [("danger", "Refused.")]
    if form is not None:
        assert not form.name.errors


def test_on_error_replaces_the_default_display(ctx):
    seen = []
    form = _NameForm()
    with attempt(form, on_error=lambda f, e: seen.append((f, str(e)))) as outcome:
        _add("dropped")
        raise DomainError("Refused.", field="name")
    assert not outcome.ok
    assert seen == [(form, "Refused.")]
    assert not form.name.errors and get_flashed_messages() == []
    assert _roles("dropped") == 0


def test_on_error_runs_after_the_rollback(ctx):
    counts = []
    with attempt(on_error=lambda f, e: counts.append(_roles("dropped"))):
        _add("dropped")
        raise DomainError("Refused.")
    assert counts == [0]


def test_other_exceptions_roll_back_and_propagate(ctx):
    with pytest.raises(ZeroDivisionError), attempt(_NameForm()):
        _add("dropped")
        raise ZeroDivisionError
    assert _roles("dropped") == 0
    assert get_flashed_messages() == []


def test_a_refusal_raised_by_the_commit_is_caught(ctx, monkeypatch):
    def refuse():
        raise Conflict("Changed meanwhile.")

    with attempt() as outcome:
        _add("dropped")
        monkeypatch.setattr(db.session, "commit", refuse)
    monkeypatch.undo()
    assert not outcome.ok and isinstance(outcome.error, Conflict)
    assert _roles("dropped") == 0
    assert get_flashed_messages(with_categories=True) == [("danger", "Changed meanwhile.")]


def test_return_inside_the_block_still_commits(ctx):
    def view():
        with attempt():
            _add("returned")
            return "done"

    assert view() == "done"
    db.session.rollback()
    assert _roles("returned") == 1
