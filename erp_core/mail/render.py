"""Mails written from templates, in the recipient's language."""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template
from flask_babel import force_locale
from jinja2 import TemplateNotFound


@dataclass(frozen=True)
class RenderedMail:
    """A subject, a plain-text body and (when the template has one) an HTML body."""

    subject: str
    text: str
    html: str | None
    language: str | None


def render_mail(template: str, *, subject, language: str | None = None, **context) -> RenderedMail:
    """Render ``<template>.txt`` and ``<template>.html`` (optional) in ``language``.

    ``subject`` is a lazy string (``lazy_gettext``) or a callable returning the subject; it is
    translated in ``language`` too. The templates also get ``mail_site_name`` (the company name)
    and ``mail_language``. The HTML template usually extends ``mail/base.html``::

        mail = render_mail("support/mail/reply", subject=_l("[%(n)s] %(s)s", n=..., s=...),
                           language=ticket.language, ticket=ticket)
        queue_mail(to, mail.subject, mail.text, html=mail.html, language=mail.language)
    """
    from .. import settings

    context.setdefault("mail_site_name", settings.get("company.name") or "ERP")
    context.setdefault("mail_language", language)
    with _locale(language):
        text = render_template(f"{template}.txt", **context)
        try:
            html = render_template(f"{template}.html", **context)
        except TemplateNotFound:
            html = None
        title = subject() if callable(subject) else str(subject)
    return RenderedMail(" ".join(title.split()), text, html, language)


class _locale:
    """``force_locale(language)``, or nothing when no language is given."""

    def __init__(self, language: str | None):
        self._inner = force_locale(language) if language else None

    def __enter__(self):
        if self._inner is not None:
            self._inner.__enter__()

    def __exit__(self, *exc):
        if self._inner is not None:
            return self._inner.__exit__(*exc)
        return False
