"""`xiangzhi lake export DIR`: a county's published copy → the lake (SPEC §4.1).

Reads the published copy read-only (never the working warehouse) and writes every contract table
and every cfg_* table the marts were computed from as Parquet, partitioned by county (and month,
layout.MONTH_OF). The manifest gets, per county, the rows per table, the source stamp (last batch,
published file time) and what the lake's mart build needs to reproduce the county's own marts:
its calendar (int_calendar, run from the model SQL itself) and a fingerprint of its cfg_* tables.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import duckdb

from pipelines import config
from pipelines.errors import UserError
from pipelines.lake import layout, store
from pipelines.models import runner
from pipelines.publish import published_table_names


def _one_county(con) -> tuple[str, str]:
    rows = con.execute("select county_code, name from dim_county order by county_code").fetchall()
    if len(rows) != 1:
        raise UserError(
            f"每个仓库应只含一个县才能导出到数据湖，这里有 {len(rows)} 个 / a warehouse exported to the lake "
            f"must hold exactly one county; this one holds {len(rows)}")
    code, name = rows[0]
    stray = con.execute(
        "select count(*) from dim_village where not starts_with(village_code, ?)", [code]).fetchall()[0][0]
    if stray:
        raise UserError(
            f"{stray} 个村代码不以县代码 {code} 开头，无法按县分区 / {stray} village codes do not start "
            f"with the county code {code}; the lake partitions by code")
    return code, name


def config_fingerprint(con, cfg_tables: list[str]) -> str:
    """sha256 over the cfg_* tables' rows (sorted): counties with equal fingerprints share a config."""
    h = hashlib.sha256()
    for name in sorted(cfg_tables):
        h.update(name.encode())
        for row in sorted(repr(r) for r in con.execute(f'select * from "{name}"').fetchall()):
            h.update(row.encode("utf-8"))
    return h.hexdigest()[:16]


def calendar_of(con) -> list[str]:
    """The county's months (first, last) by the mart model int_calendar itself (one definition)."""
    sql = runner.model_files("marts")["int_calendar"].read_text(encoding="utf-8").strip().rstrip(";")
    row = con.execute(f"select min(period), max(period) from ({sql})").fetchall()[0]
    return list(row) if row[0] is not None else []


def export_county(lake: Path, published: Path | None = None) -> dict:
    """Write one published copy into the lake, replacing that county's partitions. Returns its manifest entry."""
    published = Path(published) if published else config.paths().published
    if not published.exists():
        raise UserError(
            f"没有已发布的仓库 / no published warehouse at {published}；请先运行 xiangzhi ingest / run `xiangzhi ingest` first")
    lake = Path(lake)
    lake.mkdir(parents=True, exist_ok=True)
    if (lake / layout.MANIFEST).exists():
        manifest = layout.read_manifest(lake)
    elif any(p for p in lake.iterdir() if not p.name.startswith(".")):
        raise UserError(f"文件夹不是空的，也不是数据湖 / folder is neither empty nor a lake: {lake}")
    con = duckdb.connect()
    try:
        con.execute("set enable_progress_bar = false")
        con.execute(f"attach '{published}' as wh (read_only)")  # a path we resolved; 'wh' as publish names it
        con.execute("use wh")
        county, county_name = _one_county(con)
        names = published_table_names(con)
        cfg_tables = [n for n in names if n.startswith("cfg_")]
        entry = {
            "name": county_name,
            "exported_at": dt.datetime.now().isoformat(timespec="seconds"),
            "source": _stamp(con, published),
            "calendar": calendar_of(con),
            "config": config_fingerprint(con, cfg_tables),
            "rows": {},
        }
        staging = store.new_staging(lake)
        try:
            tables = {}
            for name in names:
                cols = [(r[0], r[1]) for r in con.execute(f'describe "{name}"').fetchall()]
                entry["rows"][name] = con.execute(f'select count(*) from "{name}"').fetchall()[0][0]
                tables[name] = {"columns": dict(cols), "partition_by": layout.partition_columns(name)}
                if entry["rows"][name]:
                    _write(con, name, county, staging)
            with store.locked(lake):
                manifest = layout.read_manifest(lake) if (lake / layout.MANIFEST).exists() else layout.empty_manifest()
                # Tables this county no longer has (none today) lose its partition too.
                for name in sorted(set(tables) | set(manifest["tables"])):
                    store.swap_in(lake, staging, name, county)
                for name, spec in tables.items():
                    manifest["tables"].setdefault(name, spec)
                    manifest["tables"][name]["columns"] = spec["columns"]
                manifest["counties"][county] = entry
                layout.write_manifest(lake, manifest)
        finally:
            store.discard(staging)
    finally:
        con.close()
    return {"county": county, **entry}


def _write(con, name: str, county: str, staging: Path) -> None:
    month = layout.MONTH_OF.get(name)
    extra = f", {month} as month" if month else ""
    parts = ", ".join(layout.partition_columns(name))
    target = staging / name
    # county is bound as a value; table and column names come from the contract and layout.
    con.execute(
        f"copy (select *, ?::varchar as county{extra} from \"{name}\") to '{target}' "
        f"(format parquet, partition_by ({parts}), compression zstd, write_partition_columns false)",
        [county],
    )


def _stamp(con, published: Path) -> dict:
    last = con.execute(
        "select batch_id, finished_at from load_batches order by finished_at desc nulls last limit 1").fetchall()
    st = os.stat(published)
    return {
        "published": str(published.resolve()),
        "published_mtime": dt.datetime.fromtimestamp(st.st_mtime).isoformat(timespec="seconds"),
        "published_bytes": st.st_size,
        "last_batch": last[0][0] if last else None,
        "last_batch_finished_at": last[0][1].isoformat() if last and last[0][1] else None,
    }


def summary(entry: dict, lake: Path) -> str:
    rows = entry["rows"]
    core = sum(v for k, v in rows.items() if k.startswith(layout.CORE_PREFIXES))
    months = "–".join(entry["calendar"]) or "—"
    return (f"{entry['county']} {entry['name']} → {lake}: {len(rows)} 张表 tables, 核心 core rows {core:,}, "
            f"月份 months {months}")

