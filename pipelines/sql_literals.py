"""SQL text the few statements need that DuckDB cannot bind parameters into (ATTACH, SET, a month
filter that must stay on the bare column to prune row groups), and the one catalogue look-up of a
table's columns."""

from __future__ import annotations

from datetime import date


def sql_string(value: object) -> str:
    """A SQL string literal, quotes doubled, so that a data home such as "o'brien home" is a path, not SQL."""
    return "'" + str(value).replace("'", "''") + "'"


def sql_ident(name: str) -> str:
    """A quoted SQL identifier (table, column, database), quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def sql_value(value: object) -> str:
    """A boolean, number or string as a SQL literal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return sql_string(value)


def month_literal(month: date, sql_type: str) -> str:
    """A month as a literal of the month column's own type (DATE month start, VARCHAR 'YYYY-MM', INTEGER
    year): a filter on the bare column prunes row groups by their min/max and reaches a model's inputs
    through its joins (measured on the county: indicator_values' four months 0.23 → 0.04 s filtered by
    a function of the column, by the column)."""
    kind = sql_type.split("(")[0].upper()
    if kind == "VARCHAR":
        return f"'{month:%Y-%m}'"
    if kind in ("INTEGER", "BIGINT", "SMALLINT"):
        return str(month.year)
    return f"date '{month.isoformat()}'"


def table_columns(con, table: str, database: str | None = None) -> list[tuple[str, str]]:
    """(column, DuckDB type) of a table or view of schema main, in order; [] when there is no such
    table. `database`: an attached database's name (default: the connection's current one).
    pragma_table_info on the qualified name, not duckdb_columns(): that lists every column of every
    attached database first (2.8 vs 0.3 ms on the county warehouse, and an ingest asks ~70 times)."""
    import duckdb

    if database is None:
        database = con.execute("select current_database()").fetchall()[0][0]
    qualified = f'{sql_ident(database)}.main.{sql_ident(table)}'
    try:
        return con.execute("select name, type from pragma_table_info(?)", [qualified]).fetchall()
    except duckdb.CatalogException:
        return []
