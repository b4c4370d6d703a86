"""Helpers shared by the tests: users with chosen permissions, sign-in, SQL counting.

They live in :mod:`erp_core.testing` so that third-party plugins can use them too.
"""

import ast
import threading
from pathlib import Path

from erp_core.testing import QueryCounter, api_token, bearer, login, make_user

__all__ = ["QueryCounter", "api_token", "assert_layered_package", "bearer", "in_threads", "login", "make_user"]


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


def in_threads(app, count: int, work) -> dict[int, object]:
    """Run ``work(i)`` in ``count`` threads released at the same instant, each in a writing request
    (BEGIN IMMEDIATE on SQLite) that commits, or rolls back and keeps the exception as the result.
    Returns ``{i: result or exception}``."""
    from erp_core.extensions import db

    barrier = threading.Barrier(count)
    results: dict[int, object] = {}

    def worker(i):
        with app.test_request_context(method="POST"):
            barrier.wait()
            try:
                results[i] = work(i)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - the caller's assertions name it
                db.session.rollback()
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    return results
