"""SQL literals for the few statements DuckDB cannot bind parameters into (ATTACH, SET)."""

from __future__ import annotations


def sql_string(value: object) -> str:
    """A SQL string literal, quotes doubled, so that a data home such as "o'brien home" is a path, not SQL."""
    return "'" + str(value).replace("'", "''") + "'"
