"""The naive baseline: what a small team would write first, on the same files.

pandas `read_csv` / `read_excel(engine="openpyxl")` with the header row known in advance, a Python loop
that validates row by row (required fields, `datetime.strptime` over a list of formats, enum synonyms,
numbers, known grid), SQLite inserts (`executemany`, `insert or replace` on the record id), and pandas
`groupby` for a representative set of village-month indicators.

It is deliberately ordinary, not deliberately slow: encodings are given (gb18030, so it does not fail on
rare name characters), inserts are batched per file in one transaction, and it computes fewer things
than ours (7 village-level indicators, no township/county roll-up, scores or stars; no SPEC §3.6
export-time ordering, no cross-file duplicate rules, no privacy hashing). Every such shortcut favours
the baseline, so the speed-up it shows is a lower bound.
"""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from pipelines.sources import BOOL, DATE, DATETIME, ENUM, ENUMS, FLOAT, INT, POINTS, SOURCES, header_index

DT_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d",
    "%Y/%m/%d", "%Y.%m.%d %H:%M", "%Y.%m.%d", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日", "%Y%m%d",
)
EXCEL_EPOCH = datetime(1899, 12, 30)
TOTAL_MARKERS = ("合计", "总计", "小计")
ENUM_MAP = {name: {syn: canon for canon, syns in values.items() for syn in syns} for name, values in ENUMS.items()}


def parse_datetime(text: str) -> str | None:
    for fmt in DT_FORMATS:
        try:
            return datetime.strptime(text, fmt).isoformat(sep=" ")
        except ValueError:
            continue
    try:  # Excel serial day number
        serial = float(text)
    except ValueError:
        return None
    if 20000 < serial < 80000:
        return (EXCEL_EPOCH + timedelta(days=serial)).isoformat(sep=" ")
    return None


def read_frames(path: Path, fmt: str, sheets: list[tuple[str | None, int]], encoding: str | None) -> list[pd.DataFrame]:
    """pandas reads of one file; header row known (a team writes one reader per export layout)."""
    frames = []
    if fmt == "xlsx":
        for name, header_row in sheets:
            frames.append(pd.read_excel(path, sheet_name=name if name is not None else 0,
                                        skiprows=max(0, (header_row or 1) - 1), dtype=str, engine="openpyxl"))
    else:
        enc = "gb18030" if encoding in ("gbk", "gb18030") else "utf-8-sig"
        frames.append(pd.read_csv(path, encoding=enc, skiprows=max(0, (sheets[0][1] or 1) - 1), dtype=str,
                                  keep_default_na=False))
    return frames


def _clean(v) -> str | None:
    if v is None or (isinstance(v, float) and v != v):
        return None
    s = str(v).strip()
    return s or None


def validate_rows(kind: str, frame: pd.DataFrame, known_grids: set[str]) -> tuple[list[tuple], list[tuple]]:
    """Row by row: (good rows as tuples in field order, quarantined (row index, reason))."""
    src = SOURCES[kind]
    idx = header_index(src)
    frame = frame.rename(columns={c: idx.get(str(c).strip(), str(c)) for c in frame.columns})
    fields = [f for f in src.fields if f.name in frame.columns]
    names = [f.name for f in src.fields]
    good, bad = [], []
    for i, rec in enumerate(frame.to_dict("records")):
        values = {f.name: _clean(rec.get(f.name)) for f in fields}
        if not any(values.values()):
            continue  # blank row
        first = values.get(names[0]) or ""
        if any(m in first for m in TOTAL_MARKERS):
            continue  # total row
        reason = None
        out = []
        for f in src.fields:
            v = values.get(f.name)
            if v is None:
                if f.required:
                    reason = reason or "MISSING_REQUIRED"
                out.append(None)
                continue
            if f.type in (DATETIME, DATE):
                parsed = parse_datetime(v)
                if parsed is None:
                    reason = reason or "BAD_DATE"
                out.append(parsed)
            elif f.type in (INT, FLOAT, POINTS):
                try:
                    out.append(float(v.replace(",", "")))
                except ValueError:
                    reason = reason or "BAD_NUMBER"
                    out.append(None)
            elif f.type == ENUM:
                canon = ENUM_MAP[f.enum].get(v)
                if canon is None:
                    reason = reason or "BAD_ENUM"
                out.append(canon)
            elif f.type == BOOL:
                out.append(v in ("是", "1", "true", "√"))
            else:
                out.append(v)
        grid = values.get("grid_code")
        if reason is None and "grid_code" in names and grid not in known_grids:
            reason = "UNKNOWN_GRID"
        if reason:
            bad.append((i, reason))
        else:
            good.append(tuple(out))
    return good, bad


def _create(con: sqlite3.Connection, kind: str) -> None:
    src = SOURCES[kind]
    cols = ", ".join(f'"{f.name}" TEXT' + (" PRIMARY KEY" if f.name == src.id_field else "") for f in src.fields)
    con.execute(f"create table if not exists {kind} ({cols})")
    con.execute("create table if not exists quarantine (file TEXT, row INTEGER, reason TEXT)")


def load_references(con: sqlite3.Connection, files: list[dict], data: Path) -> tuple[float, set[str], int]:
    """Grids (CSV with WKT, GeoJSON) and the household registry into SQLite; returns known grid codes."""
    t0 = time.perf_counter()
    _create(con, "grids")
    _create(con, "households")
    grids: list[tuple] = []
    rows = 0
    for f in files:
        path = data / f["file"]
        if f["kind"] == "grids" and f["format"] == "geojson":
            doc = json.loads(path.read_text(encoding="utf-8"))
            for feat in doc["features"]:
                p = feat.get("properties") or {}
                idx = header_index(SOURCES["grids"])
                p = {idx.get(str(k).strip(), k): v for k, v in p.items()}
                grids.append((p.get("grid_code"), p.get("village_code")))
                rows += 1
        elif f["kind"] == "grids":
            frame = read_frames(path, f["format"], [(s["sheet"], s["header_row"]) for s in f["sheets"]],
                                f["encoding"])[0]
            frame = frame.rename(columns={c: header_index(SOURCES["grids"]).get(str(c).strip(), c) for c in frame.columns})
            grids += list(zip(frame["grid_code"], frame["village_code"], strict=True))
            rows += len(frame)
        elif f["kind"] == "households":
            frame = read_frames(path, f["format"], [(s["sheet"], s["header_row"]) for s in f["sheets"]],
                                f["encoding"])[0]
            known = {g for g, _ in grids}
            good, bad = validate_rows("households", frame, known or {None})
            names = ", ".join("?" for _ in SOURCES["households"].fields)
            con.executemany(f"insert or replace into households values ({names})", good)
            rows += len(frame)
    grids = [(str(g).strip(), str(v).strip()) for g, v in grids if g]
    con.executemany("insert or replace into grids (grid_code, village_code) values (?, ?)", grids)
    con.commit()
    return time.perf_counter() - t0, {g for g, _ in grids}, rows


def ingest_files(con: sqlite3.Connection, files: list[tuple[Path, str, str, list, str | None]],
                 known_grids: set[str]) -> dict:
    """[(path, kind, format, [(sheet, header_row)], encoding)] → seconds per stage and row counts."""
    read_s = validate_s = insert_s = 0.0
    rows = loaded = quarantined = 0
    for path, kind, fmt, sheets, enc in files:
        _create(con, kind)
        t0 = time.perf_counter()
        frames = read_frames(path, fmt, sheets, enc)
        t1 = time.perf_counter()
        good_all, bad_all = [], []
        for frame in frames:
            good, bad = validate_rows(kind, frame, known_grids)
            good_all += good
            bad_all += bad
            rows += len(frame)
        t2 = time.perf_counter()
        marks = ", ".join("?" for _ in SOURCES[kind].fields)
        con.executemany(f"insert or replace into {kind} values ({marks})", good_all)
        con.executemany("insert into quarantine values (?, ?, ?)", [(path.name, i, r) for i, r in bad_all])
        con.commit()
        t3 = time.perf_counter()
        read_s += t1 - t0
        validate_s += t2 - t1
        insert_s += t3 - t2
        loaded += len(good_all)
        quarantined += len(bad_all)
    return {"seconds": read_s + validate_s + insert_s, "read_s": read_s, "validate_s": validate_s,
            "insert_s": insert_s, "rows": rows, "loaded": loaded, "quarantined": quarantined}


def marts(con: sqlite3.Connection) -> dict:
    """pandas groupby for 7 village-month indicators; results written back to SQLite."""
    t0 = time.perf_counter()
    grids = pd.read_sql("select grid_code, village_code from grids", con)
    visits = pd.read_sql("select grid_code, household_id, visit_type, visited_at from visits", con)
    events = pd.read_sql("select grid_code, status, reported_at, deadline, closed_at, satisfaction from events", con)
    households = pd.read_sql("select household_id, grid_code, key_type from households", con)
    rows_in = len(visits) + len(events) + len(households) + len(grids)
    visits = visits.merge(grids, on="grid_code", how="left")
    events = events.merge(grids, on="grid_code", how="left")
    households = households.merge(grids, on="grid_code", how="left")
    visits["month"] = pd.to_datetime(visits["visited_at"], format="ISO8601").dt.strftime("%Y-%m")
    for c in ("reported_at", "deadline", "closed_at"):
        events[c] = pd.to_datetime(events[c], format="ISO8601")
    events["month"] = events["reported_at"].dt.strftime("%Y-%m")
    events["closed_month"] = events["closed_at"].dt.strftime("%Y-%m")
    events["closed"] = events["status"].isin(["已办结", "已回访"])
    out = []
    # grid_active_rate: grids with a visit or an event in the month / grids of the village
    active = pd.concat([visits[["village_code", "month", "grid_code"]], events[["village_code", "month", "grid_code"]]])
    grid_n = grids.groupby("village_code")["grid_code"].nunique()
    a = active.groupby(["village_code", "month"])["grid_code"].nunique().reset_index(name="n")
    a["value"] = a["n"] / a["village_code"].map(grid_n)
    out.append(a.assign(indicator="grid_active_rate")[["village_code", "month", "indicator", "value"]])
    # key_visit_rate: key households with a home visit in the month / key households
    key = households[households["key_type"].notna() & (households["key_type"] != "普通户")]
    key_n = key.groupby("village_code")["household_id"].nunique()
    v = visits[(visits["visit_type"] == "走访") & visits["household_id"].isin(key["household_id"])]
    k = v.groupby(["village_code", "month"])["household_id"].nunique().reset_index(name="n")
    k["value"] = k["n"] / k["village_code"].map(key_n)
    out.append(k.assign(indicator="key_visit_rate")[["village_code", "month", "indicator", "value"]])
    g = events.groupby(["village_code", "month"])
    out.append(g.size().reset_index(name="value").assign(indicator="events_reported"))
    out.append(g["closed"].mean().reset_index(name="value").assign(indicator="event_closure_rate"))
    closed = events[events["closed"] & events["closed_at"].notna()].copy()
    closed["on_time"] = closed["closed_at"] <= closed["deadline"]
    closed["hours"] = (closed["closed_at"] - closed["reported_at"]).dt.total_seconds() / 3600
    gc = closed.groupby(["village_code", "closed_month"])
    out.append(gc["on_time"].mean().reset_index(name="value").assign(indicator="on_time_rate")
               .rename(columns={"closed_month": "month"}))
    out.append(gc["hours"].median().reset_index(name="value").assign(indicator="median_handle_hours")
               .rename(columns={"closed_month": "month"}))
    rated = closed[closed["satisfaction"].isin(["满意", "基本满意", "不满意"])].copy()
    rated["ok"] = rated["satisfaction"].isin(["满意", "基本满意"])
    out.append(rated.groupby(["village_code", "closed_month"])["ok"].mean().reset_index(name="value")
               .assign(indicator="satisfaction_rate").rename(columns={"closed_month": "month"}))
    result = pd.concat([o[["village_code", "month", "indicator", "value"]] for o in out], ignore_index=True)
    result.to_sql("indicator_values", con, if_exists="replace", index=False)
    con.commit()
    return {"seconds": time.perf_counter() - t0, "rows_in": rows_in, "rows_out": len(result), "indicators": 7}
