"""GeoJSON FeatureCollections (grids): each feature's properties are a row, its geometry a field."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from pipelines import sources
from pipelines.readers.common import ReadResult, build_sheet, cell_names, reject, unrecognised_reason
from pipelines.readers.common import resolve_export_time as _export_time
from pipelines.readers.delimited import decode_to_utf8
from pipelines.readers.jsonl import cell_text

GEOMETRY_HEADER = "geometry"


def read_geojson(path: Path) -> ReadResult:
    u8, encoding, bad = decode_to_utf8(path.read_bytes())
    try:
        doc = json.loads(u8.decode("utf-8"))
    except ValueError as exc:
        return reject(path, f"GeoJSON 文件不是有效的 JSON / not valid JSON: {exc}", encoding=encoding)
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(
        doc.get("features"), list
    ):
        return reject(
            path,
            "GeoJSON 文件应为 FeatureCollection（含 features 数组）/ expected a GeoJSON FeatureCollection",
            encoding=encoding,
        )
    features = doc["features"]
    keys: dict[str, None] = {}
    for feat in features:
        props = feat.get("properties") if isinstance(feat, dict) else None
        if isinstance(props, dict):
            for k in props:
                if k != GEOMETRY_HEADER:
                    keys.setdefault(str(k), None)
    header = list(keys) + [GEOMETRY_HEADER]
    source = sources.detect_source(header)
    if source is None:
        return reject(path, unrecognised_reason([header], path), encoding=encoding)
    names = cell_names(len(header))
    columns: dict[str, list[str | None]] = {c: [] for c in names}
    for feat in features:
        props = (feat.get("properties") if isinstance(feat, dict) else None) or {}
        geom = feat.get("geometry") if isinstance(feat, dict) else None
        for c, k in zip(names[:-1], header[:-1], strict=True):
            columns[c].append(cell_text(props.get(k)) if isinstance(props, dict) else None)
        columns[names[-1]].append(json.dumps(geom, ensure_ascii=False, separators=(",", ":")) if geom else None)
    body = pl.DataFrame(columns, schema={c: pl.String for c in names})
    export_time, export_from = _export_time(path, [])
    notes = [f"{bad} 处字节无法解码 / {bad} undecodable byte sequence(s)"] if bad else []
    sheet = build_sheet(
        name=None,
        source=source,
        header=header,
        body=body,
        row_numbers=pl.int_range(1, len(features) + 1, dtype=pl.Int64, eager=True),
        title_count=0,
        export_time=export_time,
        export_time_from=export_from,
    )
    return ReadResult(path=path, source=source, sheets=[sheet], encoding=encoding, notes=notes,
                      profile="builtin_" + source.kind)
