"""The published warehouse contract, read from schema.yml (one source of truth for table shapes)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from pipelines.errors import UserError
from pipelines.sql_literals import sql_value

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


# ---------------------------------------------------------------------------------------------
# Data checks (issue #18 item 4): besides each table's columns, schema.yml may carry
#   key: [cols]                   unique and never NULL together
#   not_null: [cols]
#   accepted_values: {col: [values] | "enum:NAME" (sources.ENUMS) | "reason_codes" | "source_kinds"}
#   invariants: [{name, row: <SQL condition every row meets>} | {name, query: <SQL selecting the
#                violating rows>}]
# check_data runs them in SQL on the built warehouse; enforce raises before anything is published.


class ContractError(UserError):
    """A built table breaks its data contract: the batch is not committed nor published (one line)."""


@cache
def _spec() -> dict[str, dict]:
    return yaml.safe_load(SCHEMA_FILE.read_text(encoding="utf-8"))


def key(name: str) -> list[str]:
    """A table's key columns (schema.yml `key`), [] when it declares none."""
    return list((_spec().get(name) or {}).get("key") or ())


def _accepted(ref) -> list:
    """Accepted values of a column: a list in schema.yml, or a name of the table that owns them."""
    if isinstance(ref, list):
        return ref
    from pipelines import sources

    if ref == "reason_codes":
        return list(sources.REASON_CODES)
    if ref == "source_kinds":
        return list(sources.LOAD_ORDER)
    if isinstance(ref, str) and ref.startswith("enum:"):
        return list(sources.ENUMS[ref[5:]])
    raise ValueError(f"schema.yml: unknown accepted_values reference {ref!r}")


def data_checks(name: str, rows: str | None = None) -> list[tuple[str, str, str]]:
    """The checks of one table as (kind, label, SQL counting the violating rows). `rows`: a condition
    selecting the rows to check (whole keys: every row of a key or none); the `query` invariants,
    which may read other rows and tables, always check the whole table."""
    body = _spec().get(name) or {}
    t = f'"{name}"' if rows is None else f'(select * from "{name}" where {rows})'
    out: list[tuple[str, str, str]] = []
    if body.get("key"):
        cols = ", ".join(f'"{c}"' for c in body["key"])
        nulls = " or ".join(f'"{c}" is null' for c in body["key"])
        out.append(("key", f"key ({', '.join(body['key'])}) unique",
                    f"select coalesce(sum(n), 0) from (select count(*) as n from {t} group by {cols} "
                    f"having count(*) > 1 or bool_or({nulls}))"))
    for c in body.get("not_null") or ():
        out.append(("not_null", f"{c} not null", f'select count(*) from {t} where "{c}" is null'))
    for c, ref in (body.get("accepted_values") or {}).items():
        values = ", ".join(sql_value(v) for v in _accepted(ref))
        out.append(("accepted_values", f"{c} in accepted values",
                    f'select count(*) from {t} where "{c}" is not null and "{c}" not in ({values})'))
    for inv in body.get("invariants") or ():
        if "row" in inv:
            sql = f"select count(*) from {t} where ({inv['row']}) is not true"
        else:
            sql = f"select count(*) from ({inv['query']})"
        out.append(("invariant", inv["name"], sql))
    return out


def check_data(con, names: list[str] | None = None, rows: dict[str, str] | None = None) -> list[str]:
    """Every data-contract violation on `con`'s built tables, as 'table: check (n rows)'.
    rows: table → the condition selecting the rows to check (data_checks); other tables in full."""
    present = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
    problems = []
    for name in names or list(tables()):
        if name not in present:
            continue
        for _kind, label, sql in data_checks(name, (rows or {}).get(name)):
            n = con.execute(sql).fetchone()[0]
            if n:
                problems.append(f"{name}: {label} ({n} rows)")
    return problems


def schema_hash() -> str:
    import hashlib

    return hashlib.sha256(SCHEMA_FILE.read_bytes()).hexdigest()[:16]


def enforce(con, batch_id: str | None = None, previous_batch: str | None = None,
            replaced: dict[str, str] | None = None) -> None:
    """Raise ContractError naming every broken check; called by the ingest right before publish.

    replaced (registry.replaced_rows): the rows batch_id replaced in tables it changed by id or by
    month. Those tables are checked in those rows only, if the warehouse passed this same contract
    after previous_batch (reg_contract_state): their other rows passed it then and are unchanged.
    Otherwise (first batch, a changed schema.yml, no batch) every table is checked in full."""
    scoped = False
    if batch_id is not None:  # an ingest's connection: the warehouse has reg_contract_state (tables.REGISTERS)
        state = con.execute("select schema_hash, batch_id from reg_contract_state").fetchall()
        scoped = bool(replaced) and previous_batch is not None and state == [(schema_hash(), previous_batch)]
    problems = check_data(con, rows=replaced if scoped else None)
    if problems:
        shown = "; ".join(problems[:5]) + (f"; … {len(problems) - 5} more" if len(problems) > 5 else "")
        raise ContractError(
            f"数据契约检查未通过，本批未发布，已发布的数据保持不变（程序缺陷，请报告）：{shown} / the data contract "
            f"check failed: this batch is not published and the published copy is unchanged (a defect, "
            f"please report it): {shown}")
    if batch_id is not None:
        con.execute("delete from reg_contract_state")
        con.execute("insert into reg_contract_state values (?, ?)", [schema_hash(), batch_id])
