"""``erp users ...``: user accounts from the command line (run by whoever controls the server).

Passwords set here pass the same strength check as on the site, and setting one ends every
session of the user.
"""

from __future__ import annotations

import click

from ..cli import fail, with_app


@click.group()
def users():
    """Manage user accounts."""


@users.command("create")
@click.argument("username")
@click.option("--password", default=None, help="Prompted for when left out.")
@click.option("--role", "roles", multiple=True, help="Role name; repeat for several (admin, customer_service...).")
@click.option("--name", "display_name", default="")
@click.option("--email", default=None)
@with_app
def users_create(username, password, roles, display_name, email):
    """Create a user."""
    from ..errors import DomainError
    from ..extensions import db as database
    from . import services as auth

    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        auth.create_user(username, password, display_name=display_name, email=email, roles=list(roles))
        database.session.commit()
    except DomainError as exc:
        database.session.rollback()
        fail(str(exc))
    click.echo(f"User {username} created.")


@users.command("set-password")
@click.argument("username")
@click.option("--password", default=None, help="Prompted for when left out.")
@with_app
def users_set_password(username, password):
    """Set a user's password (this signs them out everywhere)."""
    from ..errors import DomainError
    from ..extensions import db as database
    from . import services as auth

    try:
        user = auth.get_user(username)
        if password is None:
            password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
        auth.set_password(user, password)
        database.session.commit()
    except DomainError as exc:
        database.session.rollback()
        fail(str(exc))
    click.echo(f"Password of {username} changed.")


@users.command("token")
@click.argument("username")
@click.option("--name", required=True, help="What the token is for (e.g. the web shop).")
@click.option("--days", type=int, default=None, help="Expire after this many days (default: never).")
@with_app
def users_token(username, name, days):
    """Create a personal API token for USERNAME and print it (only this once)."""
    from ..api.tokens import create_token
    from ..errors import DomainError
    from ..extensions import db as database
    from . import services as auth

    try:
        _row, clear = create_token(auth.get_user(username), name, days)
        database.session.commit()
    except DomainError as exc:
        database.session.rollback()
        fail(str(exc))
    click.echo(clear)


@users.command("list")
@with_app
def users_list():
    """List users with their roles."""
    from sqlalchemy import select

    from ..extensions import db as database
    from .models import User

    for user in database.session.scalars(select(User).order_by(User.username)):
        state = "active  " if user.active else "inactive"
        click.echo(f"{user.username:<20} {state} {', '.join(r.name for r in user.roles)}")
