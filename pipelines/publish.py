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
from pipelines.sql_literals import sql_string


def published_table_names(con) -> list[str]:
    present = {r[0] for r in con.execute(
        "select table_name from duckdb_tables() where database_name = 'wh'").fetchall()}
    # Contract tables, plus the catalogue tables the marts were computed from (cfg_*).
    names = [t for t in tables() if t in present]
    names += sorted(t for t in present if t.startswith("cfg_"))
    return names


def _stamp(db: Path, table: str) -> str | None:
    """The loaded batches a DuckDB file holds, as one text (None when none or unreadable); batch ids
    start with their second, so two in one second are told apart by the whole set, not the max."""
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return None
    try:
        return con.execute(f"select string_agg(batch_id, ',' order by batch_id) from {table} "
                           "where status = 'loaded'").fetchone()[0]
    except duckdb.Error:
        return None
    finally:
        con.close()


def is_stale(warehouse: Path, published: Path) -> bool:
    """Whether the warehouse holds a loaded batch the published copy lacks: an ingest was killed (or
    the disk filled) after its commit and before publish. Then the next ingest, or the dashboard's
    start, publishes; never a rerun that says "unchanged" and leaves the batch unseen."""
    if not warehouse.exists():
        return False
    newest = _stamp(warehouse, "reg_batches")
    return newest is not None and (not published.exists() or _stamp(published, "load_batches") != newest)


def remove_stale_temps(published: Path) -> None:
    """Half-written copies of killed publishes (name.tmp-PID) whose process is gone."""
    for tmp in published.parent.glob(published.name + ".tmp-*"):
        pid = tmp.name.rsplit("-", 1)[-1].split(".")[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            tmp.unlink(missing_ok=True)


def publish(warehouse: Path, published: Path) -> Path:
    published.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(published)
    tmp = published.with_name(published.name + f".tmp-{os.getpid()}")
    for stale in (tmp, Path(str(tmp) + ".wal")):
        stale.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        con.execute(f"attach {sql_string(warehouse)} as wh (read_only)")
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
    from pipelines.kill import kill_point

    kill_point("publish_tmp")  # the new copy written, not yet renamed over the old one
    os.replace(tmp, published)  # atomic on POSIX: readers see the old or the new file, never half
    return published
