"""The web shell: dashboard, administration pages, error pages, templating helpers."""
