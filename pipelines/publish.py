"""Publish: copy the contract tables into a new file beside the published copy, then rename it over.

An open reader keeps the old file (DuckDB holds its own handle); new connections see the new one, so
a dashboard never sees a half-written state and never blocks the pipeline (FIELD_NOTES: DuckDB
allows one writer or many readers per file, never both).
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from pipelines.models.contract import tables


def published_table_names(con) -> list[str]:
    present = {r[0] for r in con.execute(
        "select table_name from duckdb_tables() where database_name = 'wh'").fetchall()}
    # Contract tables, plus the catalogue tables the marts were computed from (cfg_*).
    names = [t for t in tables() if t in present]
    names += sorted(t for t in present if t.startswith("cfg_"))
    return names


def publish(warehouse: Path, published: Path) -> Path:
    published.parent.mkdir(parents=True, exist_ok=True)
    tmp = published.with_name(published.name + f".tmp-{os.getpid()}")
    for stale in (tmp, Path(str(tmp) + ".wal")):
        stale.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        con.execute(f"attach '{warehouse}' as wh (read_only)")  # our own path, not user input
        for name in published_table_names(con):
            con.execute(f'create table main."{name}" as select * from wh."{name}"')
        con.execute("detach wh")
        con.execute("checkpoint")
    finally:
        con.close()
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, published)  # atomic on POSIX: readers see the old or the new file, never half
    return published
