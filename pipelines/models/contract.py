"""The published warehouse contract, read from schema.yml (one source of truth for table shapes)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

SCHEMA_FILE = Path(__file__).with_name("schema.yml")


@cache
def tables() -> dict[str, dict[str, str]]:
    """table name → {column: DuckDB type}, in contract order."""
    spec = yaml.safe_load(SCHEMA_FILE.read_text(encoding="utf-8"))
    return {name: dict(body["columns"]) for name, body in spec.items()}


def create_table_sql(name: str) -> str:
    cols = ", ".join(f'"{c}" {t}' for c, t in tables()[name].items())
    return f'create or replace table "{name}" ({cols})'


def create_empty(con, names: list[str] | None = None) -> None:
    """Create empty contract tables (tests build tiny warehouses on top of them)."""
    for name in names or list(tables()):
        con.execute(create_table_sql(name))


def check(con, name: str) -> list[str]:
    """Differences between a built table and its contract (missing columns or wrong types)."""
    actual = {r[0]: r[1] for r in con.execute(f'describe "{name}"').fetchall()}
    problems = []
    for col, typ in tables()[name].items():
        if col not in actual:
            problems.append(f"{name}.{col} missing")
        elif actual[col].split("(")[0] != typ:
            problems.append(f"{name}.{col} is {actual[col]}, contract says {typ}")
    return problems
