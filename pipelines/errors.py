"""Errors every layer may raise, kept at the bottom of the import graph (nothing here imports the rest)."""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix: printed as one clear line, exit code 2, never a traceback."""
