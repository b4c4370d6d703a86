"""A plugin command handed to the core more than once is gated (wrapped) once."""

import click

from erp_core import cli


def test_gating_a_command_twice_wraps_it_once():
    calls = []
    command = click.Command("x", callback=lambda: calls.append(1))
    cli._gate(command, "someplugin")
    wrapped = command.callback
    cli._gate(command, "someplugin")
    assert command.callback is wrapped  # nested app contexts would hold SQLite's write lock twice
