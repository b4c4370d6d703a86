"""Helpers shared by the tests: users with chosen permissions, sign-in, SQL counting.

They live in :mod:`erp_core.testing` so that third-party plugins can use them too.
"""

import ast
from pathlib import Path

from erp_core.testing import QueryCounter, api_token, bearer, login, make_user

__all__ = ["QueryCounter", "api_token", "assert_layered_package", "bearer", "login", "make_user"]


def assert_layered_package(package, order: list[str]) -> None:
    """A services package is exactly the modules of ``order``, each under 600 lines and importing
    (relatively) only from the modules before it, so there are no cycles."""
    folder = Path(package.__file__).parent
    assert sorted(p.stem for p in folder.glob("*.py") if p.stem != "__init__") == sorted(order)
    for position, name in enumerate(order):
        source = (folder / f"{name}.py").read_text(encoding="utf-8")
        assert len(source.splitlines()) < 600, name
        imported = {node.module for node in ast.walk(ast.parse(source))
                    if isinstance(node, ast.ImportFrom) and node.level == 1}
        assert imported <= set(order[:position]), f"{name} imports {imported - set(order[:position])}"
