"""Staging: the typed frame normalise returns for one sheet → rows of `stg_<kind>`.

Normalise's contract: per sheet a polars frame with `_sheet, _row, _export_time, _raw` and, for every
Field f of the source, `f` and `f__bad`. Here the loader adds what it derives (household keys,
dispute name keys, grid centroids) and the file/batch meta columns, then appends. No parsing.
"""

from __future__ import annotations

import json

import polars as pl

from pipelines.ingest.tables import EXTRA_COLUMNS, name, stage_columns
from pipelines.privacy import keyed_hash
from pipelines.sources import Source


def _hash_unique(values: pl.Series, key: bytes) -> pl.Series:
    """Keyed hash of a column, computing each distinct value once (ids repeat a lot)."""
    uniq = values.drop_nulls().unique()
    mapping = {v: keyed_hash(v, key) for v in uniq.to_list()}
    return values.replace_strict(mapping, default=None, return_dtype=pl.String)


def derive(kind: str, frame: pl.DataFrame, key: bytes) -> pl.DataFrame:
    """The columns of EXTRA_COLUMNS[kind], computed from the normalised frame."""
    if "household_key" in EXTRA_COLUMNS.get(kind, {}):
        frame = frame.with_columns(_hash_unique(frame["household_id"], key).alias("household_key"))
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


def stage(con, src: Source, frame: pl.DataFrame, meta: dict) -> int:
    """Append one sheet's rows to stg_<kind>; returns the row count."""
    cols = stage_columns(src)
    frame = frame.with_columns(
        pl.lit(meta["file_id"]).alias("_file_id"), pl.lit(meta["file_name"]).alias("_file_name"),
        pl.lit(meta["batch_id"]).alias("_batch_id"),
        pl.lit(meta["sheet_no"]).alias("_sheet_no"),
    )
    for c in cols:
        if c not in frame.columns:
            frame = frame.with_columns(pl.lit(None).alias(c))
    view = frame.select(list(cols)).to_arrow()
    con.register("_stage_frame", view)
    select = ", ".join(f'cast("{c}" as {t})' for c, t in cols.items())
    con.execute(f"insert into {name('stg', src.kind)} select {select} from _stage_frame")
    con.unregister("_stage_frame")
    return frame.height
