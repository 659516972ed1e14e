"""The DuckDB engine of `lake marts`: the model SQL as the warehouse runs it, over read_parquet views."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines import config
from pipelines.models import contract, runner
from pipelines.sql_literals import sql_ident, sql_string


class DuckDBEngine:
    def __init__(self, master: str | None = None):
        self.con = duckdb.connect()
        config.apply_engine_settings(self.con)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.con.close()

    def register_inputs(self, lake: Path, manifest: dict, tables: dict[str, list[str]]) -> None:
        """One view per lake table, over the group's county partitions only (partition pruning)."""
        for table, group in tables.items():
            columns = manifest["tables"][table]["columns"]
            globs = [str(lake / table / f"county={c}" / "**" / "*.parquet") for c in group
                     if (lake / table / f"county={c}").exists()]
            if globs:
                cols = ", ".join(sql_ident(c) for c in columns)
                files = "[" + ", ".join(sql_string(g) for g in globs) + "]"
                body = (f"select {cols} from read_parquet({files}, hive_partitioning = true, "
                        "hive_types_autocast = false, union_by_name = true)")
            else:  # no county of the group has rows in this table: an empty view of the right shape
                cols = ", ".join(f"cast(null as {t}) as {sql_ident(c)}" for c, t in columns.items())
                body = f"select {cols} where false"
            self.con.execute(f"create or replace view {sql_ident(table)} as {body}")

    def run_models(self, order: list[str]) -> None:
        runner.run_models(self.con, "marts", order)

    def write(self, table: str, target: Path, county_expr: str, month_expr: str | None) -> dict[str, int]:
        cols = ", ".join(f"cast({sql_ident(c)} as {t}) as {sql_ident(c)}" for c, t in contract.tables()[table].items())
        extra = f", {month_expr} as month" if month_expr else ""
        parts = "county, month" if month_expr else "county"
        target.parent.mkdir(parents=True, exist_ok=True)
        self.con.execute(
            f"copy (select {cols}, {county_expr} as county{extra} from {sql_ident(table)}) to {sql_string(str(target))} "
            f"(format parquet, partition_by ({parts}), compression zstd)")
        return dict(self.con.execute(
            f"select {county_expr}, count(*) from {sql_ident(table)} group by all").fetchall())
