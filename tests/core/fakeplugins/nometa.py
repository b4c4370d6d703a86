"""A module without meta."""
