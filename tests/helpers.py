"""Helpers shared by the tests: users with chosen permissions, sign-in, SQL counting.

They live in :mod:`erp_core.testing` so that third-party plugins can use them too.
"""

from erp_core.testing import QueryCounter, api_token, bearer, login, make_user

__all__ = ["QueryCounter", "api_token", "bearer", "login", "make_user"]
