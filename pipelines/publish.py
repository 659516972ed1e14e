"""Publish: copy the contract tables into a new file beside the published copy, then rename it over.

An open reader keeps the old file (DuckDB holds its own handle); new connections see the new one, so
a dashboard never sees a half-written state and never blocks the pipeline (FIELD_NOTES: DuckDB
allows one writer or many readers per file, never both).

When the published copy is exactly one batch behind and that batch changed some core tables only
by id (reg_fact_delta, an incremental ingest), the new file starts as a byte copy of the old one:
those tables get the batch's rows replaced by id, the published marts kept by month (reg_month_delta)
the months it recomputed, and every other table is copied whole as before. The
cost of publishing the fact tables then follows the batch, not the history; the result equals a
full copy as a multiset of rows (tests/test_publish_delta.py). Either way the new file is written
beside the old one and renamed over it, so a kill leaves the old copy.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from pipelines import config
from pipelines.models.contract import tables
from pipelines.sql_literals import sql_string, table_columns


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


def delta_plan(warehouse: Path, published: Path) -> tuple[str, dict[str, str]] | None:
    """(batch, table → condition) when the published copy lacks exactly one loaded batch of the
    warehouse and that batch replaced rows by id or by month (registry.replaced_rows): those rows
    can be replaced in a copy of the published file. None otherwise (no copy yet, further behind, a
    full rebuild): copy all."""
    from pipelines.ingest.registry import replaced_rows

    if not published.exists() or Path(str(published) + ".wal").exists():
        return None
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"attach {sql_string(warehouse)} as wh (read_only)")
        con.execute(f"attach {sql_string(published)} as pub (read_only)")
        batch = con.execute("select min(batch_id) from wh.reg_fact_delta having count(distinct batch_id) = 1"
                            ).fetchone()
        if batch is None or batch[0] is None:
            return None
        batch = batch[0]
        have = {r[0] for r in con.execute("select batch_id from wh.reg_batches where status = 'loaded'").fetchall()}
        shown = {r[0] for r in con.execute("select batch_id from pub.load_batches where status = 'loaded'").fetchall()}
        if batch not in have or shown != have - {batch}:
            return None
        return batch, replaced_rows(con, batch, db="wh")
    except duckdb.Error:  # an unreadable or older copy: copy everything
        return None
    finally:
        con.close()


def _apply_delta(con, table: str, where: str) -> bool:
    """Replace, in the copy, the rows of `table` the batch replaced (`where`, over the warehouse's
    registers attached as wh); False if the copy's table is not the warehouse's shape (then the
    caller copies it whole)."""
    mine = table_columns(con, table)
    if not mine or mine != table_columns(con, table, "wh"):
        return False
    con.execute(f'delete from main."{table}" where {where}')
    con.execute(f'insert into main."{table}" select * from wh."{table}" where {where}')
    return True


def publish(warehouse: Path, published: Path) -> Path:
    published.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(published)
    tmp = published.with_name(published.name + f".tmp-{os.getpid()}")
    for stale in (tmp, Path(str(tmp) + ".wal")):
        stale.unlink(missing_ok=True)
    plan = delta_plan(warehouse, published)
    if plan is not None:
        shutil.copyfile(published, tmp)
    con = duckdb.connect(str(tmp))
    try:
        config.apply_engine_settings(con)  # else DuckDB's default limit, 80 % of RAM
        con.execute(f"attach {sql_string(warehouse)} as wh (read_only)")
        names = published_table_names(con)
        whole = names
        if plan is not None:
            _batch, replaced = plan
            whole = [n for n in names if not (n in replaced and _apply_delta(con, n, replaced[n]))]
            present = {r[0] for r in con.execute("select table_name from duckdb_tables() "
                                                 "where database_name = current_database()").fetchall()}
            for old in present - (set(names) - set(whole)):
                con.execute(f'drop table main."{old}"')
            # Blocks of dropped tables are reused only after a checkpoint: else the copy grows by the
            # marts' size at every publish.
            con.execute("checkpoint")
        for name in whole:
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
