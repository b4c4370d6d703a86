"""Password strength: refuse short, common and trivially guessable passwords, and say why.

The estimate comes from zxcvbn (a kept library bundling lists of common passwords, names and
words, and detecting repeats, sequences, keyboard patterns and dates). A password must reach
score 3 ("safely unguessable", about 10^8 guesses) and must not be built from the user's own
name or e-mail address, which are passed to zxcvbn as user inputs.
"""

from __future__ import annotations

from flask_babel import gettext as _
from zxcvbn import zxcvbn

from ..errors import DomainError

MIN_LENGTH = 10
MAX_LENGTH = 200
MIN_SCORE = 3


def _user_inputs(username: str, email: str | None) -> list[str]:
    inputs = [value for value in (username, email) if value]
    if email and "@" in email:
        inputs.append(email.split("@", 1)[0])
    return inputs


def _reason(result: dict) -> str:
    """A translated sentence naming what makes the password guessable."""
    patterns = {m.get("pattern") for m in result.get("sequence", [])}
    dictionaries = {m.get("dictionary_name") for m in result.get("sequence", []) if m.get("pattern") == "dictionary"}
    if "user_inputs" in dictionaries:
        return _("The password is too easy to guess: it contains the user name or e-mail address.")
    if "repeat" in patterns:
        return _("The password is too easy to guess: it repeats characters or words (like aaaa or abcabc).")
    if "sequence" in patterns or "spatial" in patterns:
        return _("The password is too easy to guess: it is a sequence or keyboard pattern (like 1234 or qwerty).")
    if "passwords" in dictionaries:
        return _("The password is too easy to guess: it is one of the most common passwords.")
    if "date" in patterns or "regex" in patterns:
        return _("The password is too easy to guess: it is mostly a date or a year.")
    return _("The password is too easy to guess: use a few uncommon words or more varied characters.")


def check(password: str, username: str = "", email: str | None = None) -> None:
    """Raise DomainError (on field ``password``) unless ``password`` is long and hard to guess."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        raise DomainError(_("The password needs at least %(n)d characters.", n=MIN_LENGTH), field="password")
    if len(password) > MAX_LENGTH:
        raise DomainError(_("The password may have at most %(n)d characters.", n=MAX_LENGTH), field="password")
    if username and password.lower() == username.lower():
        raise DomainError(_("The password must not be the user name."), field="password")
    result = zxcvbn(password, user_inputs=_user_inputs(username, email))
    if result["score"] < MIN_SCORE:
        raise DomainError(_reason(result), field="password")
