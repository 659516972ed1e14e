"""Staging: the typed frame normalise returns for one sheet → rows of `stg_<kind>`.

Normalise's contract: per sheet a polars frame with `_sheet, _row, _export_time, _raw` and, for every
Field f of the source, `f` and `f__bad`. Here the loader adds what it derives (household keys,
dispute name keys, grid centroids) and the file/batch meta columns, then appends. No parsing.
"""

from __future__ import annotations

import json

import polars as pl

from pipelines.ingest.tables import EXTRA_COLUMNS, name, stage_columns
from pipelines.privacy import keyed_hashes
from pipelines.sources import LOAD_ORDER, SOURCES, Source


def _hash_unique(values: pl.Series, key: bytes, cache: dict[str, str] | None = None) -> pl.Series:
    """Keyed hash of a column, computing each distinct value once (ids repeat a lot); `cache` is the
    batch's id → hash map, so the same households in every monthly file are hashed once per batch."""
    cache = {} if cache is None else cache
    uniq = values.drop_nulls().unique().to_list()
    new = [v for v in uniq if v not in cache and v != ""]
    cache.update(zip(new, keyed_hashes(new, key), strict=True))
    mapping = {v: cache.get(v) for v in uniq}  # ("" hashes to null, as keyed_hash does)
    return values.replace_strict(mapping, default=None, return_dtype=pl.String)


def derive(kind: str, frame: pl.DataFrame, key: bytes, hashes: dict[str, str] | None = None) -> pl.DataFrame:
    """The columns of EXTRA_COLUMNS[kind], computed from the normalised frame (`hashes`: the batch's
    id → keyed-hash map, shared by its files)."""
    if "household_key" in EXTRA_COLUMNS.get(kind, {}):
        frame = frame.with_columns(_hash_unique(frame["household_id"], key, hashes).alias("household_key"))
    if kind == "disputes":
        from pipelines.normalise import township_key_expr, village_key_expr

        frame = frame.with_columns(
            township_key_expr(pl.col("township_name")).alias("township_key"),
            village_key_expr(pl.col("village_name")).alias("village_key"),
        )
    if kind == "grids":
        from shapely.geometry import shape

        def centroid(text: str | None) -> tuple[float | None, float | None]:
            if not text:
                return (None, None)
            try:
                c = shape(json.loads(text)).centroid
                return (c.x, c.y)
            except Exception:  # noqa: BLE001 - bad geometry was flagged by normalise already
                return (None, None)

        cs = [centroid(t) for t in frame["geometry"].to_list()]
        frame = frame.with_columns(
            pl.Series("_centroid_lon", [c[0] for c in cs], dtype=pl.Float64),
            pl.Series("_centroid_lat", [c[1] for c in cs], dtype=pl.Float64),
        )
    return frame


# Rows per insert when a file is staged (stage): two of DuckDB's row groups (122,880 rows), so an
# insert still keeps two threads busy; a 100 k slice ran on one.
STAGE_SLICE_ROWS = 2 * 122_880

SCRATCH = "scratch"  # the batch's scratch database, attached under this name while it stages

# DuckDB checkpoints a database when its WAL passes `checkpoint_threshold` (16 MiB by default), and a
# file's insert of under a row group goes through the WAL: staging 30 of the county's visits and
# points files (2.0 M rows) checkpointed the scratch file every few files, 25 s in all; with 256 MB
# 11 s, at the same peak RSS (64 MB: 20 s; 1 GB: 12 s). The scratch file is deleted after the batch,
# so what is still in its WAL then is not checkpointed either (detach did: 0.35 s for a month's files).
SCRATCH_CHECKPOINT_THRESHOLD = "256MB"


def attach_scratch(con, path) -> None:
    """A fresh scratch file for the batch's staged rows, with every stg_<kind> table (empty). Until
    finish_scratch the connection runs under the staging settings: DuckDB's memory limit at most
    config.staging_memory_limit() (it only appends while polars holds the file being read) and
    checkpoints at SCRATCH_CHECKPOINT_THRESHOLD; the scratch file is never checkpointed on detach."""
    from pipelines import config
    from pipelines.sql_literals import sql_string

    for f in (path, path.with_name(path.name + ".wal")):
        f.unlink(missing_ok=True)
    con.execute(f"attach {sql_string(path)} as {SCRATCH}")
    config.apply_engine_settings(con, config.staging_memory_limit())
    con.execute(f"set checkpoint_threshold = {sql_string(SCRATCH_CHECKPOINT_THRESHOLD)}")
    con.execute("set checkpoint_on_detach = 'DISABLED'")
    for kind in LOAD_ORDER:
        cols = ", ".join(f'"{c}" {t}' for c, t in stage_columns(SOURCES[kind]).items())
        con.execute(f"create table {SCRATCH}.{name('stg', kind)} ({cols})")


def finish_scratch(con) -> None:
    """Every file staged: the batch's transaction runs under the full settings again (memory limit,
    DuckDB's default checkpoints). The scratch file is not checkpointed: for a month's files that cost
    0.4-0.5 s, and the move read its rows 0.4 s slower from the file than from what DuckDB still
    held of its WAL."""
    from pipelines import config

    config.apply_engine_settings(con)
    con.execute("reset checkpoint_threshold")


def move_scratch(con, kinds: set[str]) -> None:
    """Inside the batch's transaction: the staged rows into the warehouse's stg_<kind>, one bulk insert
    per kind (DuckDB writes a bulk insert's row groups out as it goes; many small inserts in an open
    transaction it keeps in memory)."""
    for kind in LOAD_ORDER:
        if kind in kinds:
            con.execute(f"insert into main.{name('stg', kind)} select * from {SCRATCH}.{name('stg', kind)}")


def drop_scratch(con, path) -> None:
    """Detach and delete the scratch file (after the commit, or when the batch failed)."""
    try:
        con.execute(f"detach {SCRATCH}")
    except Exception:  # noqa: BLE001 - never attached, or the connection is gone
        pass
    for f in (path, path.with_name(path.name + ".wal")):
        f.unlink(missing_ok=True)


def stack_sheets(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """A file's normalised sheets as one frame, each row with its `_sheet_no` (1-based) and `_part`
    (0 where the sheet has none: each row is its input row whole, ROW_KEY); a column only some
    sheets have is null in the others', as it is when they are staged one at a time."""
    def own(i: int, frame: pl.DataFrame) -> pl.DataFrame:
        frame = frame.with_columns(pl.lit(i, dtype=pl.Int64).alias("_sheet_no"))
        if "_part" not in frame.columns:
            frame = frame.with_columns(pl.lit(0, dtype=pl.Int32).alias("_part"))
        return frame

    parts = [own(i, f) for i, f in enumerate(frames, start=1)]
    return parts[0] if len(parts) == 1 else pl.concat(parts, how="diagonal_relaxed")


def stage(con, src: Source, frame: pl.DataFrame, meta: dict, database: str | None = None) -> int:
    """Append a file's rows (its sheets stacked by stack_sheets) to stg_<kind> of `database` (e.g. the
    batch's scratch file; default the warehouse); returns the row count."""
    cols = stage_columns(src)
    frame = frame.with_columns(
        pl.lit(meta["file_id"]).alias("_file_id"), pl.lit(meta["file_name"]).alias("_file_name"),
        pl.lit(meta["batch_id"]).alias("_batch_id"),
    )
    for c in cols:
        if c not in frame.columns:
            frame = frame.with_columns(pl.lit(None).alias(c))
    frame = frame.select(list(cols))
    select = ", ".join(f'cast("{c}" as {t})' for c, t in cols.items())
    target = f"{database}.{name('stg', src.kind)}" if database else name("stg", src.kind)
    # In slices: to_arrow copies every string (polars keeps string views), so a whole 740 k-row
    # points file cost +0.55 GiB here; by slices +0.25 GiB, as fast.
    for offset in range(0, frame.height, STAGE_SLICE_ROWS):
        con.register("_stage_frame", frame.slice(offset, STAGE_SLICE_ROWS).to_arrow())
        try:
            con.execute(f"insert into {target} select {select} from _stage_frame")
        finally:
            con.unregister("_stage_frame")
    return frame.height
