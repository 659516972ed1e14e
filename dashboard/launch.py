"""Kept for older scripts: the launcher lives in pipelines/serve.py (it runs the app by its path)."""

from pipelines.serve import APP, command, run  # noqa: F401
