"""Accounts: users, roles, permissions, sign-in."""
