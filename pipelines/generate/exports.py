"""Writing each source's exports: reference files once, reports month by month (SPEC §3).

One `Run` holds the world, the output folder, the manifest being built and the little state that
crosses files: which reason codes a source has not shown yet, the ids accepted from the previous
export (for ID conflicts), the previous file's clean rows (for repeats across files).
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import shapely

from pipelines.generate import activity as act
from pipelines.generate import dirt, geo, render
from pipelines.generate.activity import DAY
from pipelines.generate.world import KEY_TYPES, World, stream
from pipelines.generate.writers import (
    BAD,
    DATA,
    DUP,
    Sheet,
    Table,
    write_csv,
    write_jsonl,
    write_xlsx,
)
from pipelines.sources import ENUMS, REASON_CODES, SOURCES

ENCODINGS = {"csv-utf8": "utf-8", "csv-bom": "utf-8-sig", "csv-gbk": "gbk"}


@dataclass
class ExportTime:
    sec: int
    how: str  # "title" | "name_day" | "name_month"
    title: str | None
    tag: str  # goes into the file name

    @property
    def iso(self) -> str:
        return dt.datetime.fromtimestamp(self.sec, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def export_time(seed: int, kind: str, y: int, m: int, allow_title: bool = True) -> ExportTime:
    """When the month-m export of `kind` was taken and how the file says so (SPEC §3.6 export time)."""
    rng = stream(seed, "export", kind, y * 100 + m)
    ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
    nxt = act.month_start(ny, nm)
    how = str(rng.choice(["title", "name_day", "name_month"] if allow_title else ["name_day", "name_month"]))
    if how == "title":
        day = int(rng.integers(0, 2))
        sec = nxt + day * DAY + int(rng.integers(7 * 60, 10 * 60)) * 60
        t = dt.datetime.fromtimestamp(sec, dt.UTC)
        text = t.strftime("%Y-%m-%d %H:%M:%S") if rng.random() < 0.6 else f"{t.year}年{t.month}月{t.day}日 {t:%H:%M}"
        return ExportTime(sec, how, f"导出时间：{text}", "")
    if how == "name_day":
        return ExportTime(nxt + DAY - 1, how, None, f"_{ny}{nm:02d}01")
    return ExportTime(nxt - 1, how, None, f"_{y}{m:02d}")


def _dt(s: pl.Series) -> pl.Series:
    return pl.from_epoch(s, time_unit="s")


_DATE_PATTERNS = (
    (r"^\d{4}-\d{2}-\d{2}", "2025-06-03"), (r"^\d{4}/\d{1,2}/\d{1,2}", "2025/6/3"),
    (r"^\d{4}\.\d{1,2}\.\d{1,2}", "2025.6.3"), (r"^\d{4}年\d{1,2}月\d{1,2}日", "2025年6月3日"),
    (r"^\d{8}(\s|$)", "20250603"),
)


def detect_quirks(frame: pl.DataFrame, date_cols: list[str], enum_cols: dict[str, str]) -> set[str]:
    """The quirks really present in a laid-out frame (what the manifest promises a reader will meet)."""
    q: set[str] = set()
    frame = frame.head(60_000)  # a prefix is enough to see what is there; keeps big months cheap
    cols = [c for c in frame.columns]
    if not cols:
        return q
    checks = {
        "fullwidth_digits": r"[０-９]", "fullwidth_punctuation": r"[＋－：／．（）]",
        "nbsp": "\u00a0", "ideographic_space": "\u3000", "stray_spaces": r"^\s|\s$",
    }
    for name, pat in checks.items():
        hit = frame.select(pl.any_horizontal([pl.col(c).str.contains(pat).fill_null(False).any() for c in cols])).item()
        if hit:
            q.add(name)
    for c in date_cols:
        s = frame[c].drop_nulls().str.strip_chars()
        for pat, label in _DATE_PATTERNS:
            if s.str.contains(pat).any():
                q.add(f"date:{label}")
        if s.str.contains(r"\d{1,2}:\d{2}:\d{2}$").any():
            q.add("time:14:05:00")
        if s.str.contains(r"\d{1,2}:\d{2}$").any():
            q.add("time:14:05")
        if (~s.str.contains(r":")).any() and s.len():
            q.add("time:none")
    for c, key in enum_cols.items():
        canon = list(ENUMS[key]) if key != "bool" else ["是", "否"]
        s = frame[c].drop_nulls().str.strip_chars()
        if (~s.is_in(canon) & (s != "")).any():
            q.add("enum_synonyms" if key != "bool" else "bool_synonyms")
    return q


@dataclass
class Run:
    world: World
    out: Path
    dirty: float
    seed: int
    files: list[dict] = field(default_factory=list)
    bad_rows: list[dict] = field(default_factory=list)
    pending: dict[str, list[str]] = field(default_factory=dict)
    prev_ids: dict[str, set[str]] = field(default_factory=dict)
    prev_rows: dict[str, pl.DataFrame] = field(default_factory=dict)
    unknown_counter: list[int] = field(default_factory=lambda: [0])
    turns: dict = field(default_factory=dict)

    def rng(self, *key) -> np.random.Generator:
        return stream(self.seed, *key)

    def n_bad(self, rng: np.random.Generator, n: int) -> int:
        x = self.dirty * n
        return int(x) + int(rng.random() < x - int(x))

    def record(self, path: Path, kind: str, fmt: str, encoding: str | None, sheets: list[Sheet],
               extra: set[str] | None = None, skipped_sheets: list[str] | None = None) -> dict:
        entry_sheets = []
        tot = {"rows_read": 0, "non_data": 0, "duplicates": 0, "bad": 0}
        quirks = set(extra or ())
        for sh in sheets:
            stt = sh.stats()
            for k in tot:
                tot[k] += stt[k]
            first = sh.first_data_row if fmt != "jsonl" else 1
            for pos, reason, fld in sh.built.bad:
                self.bad_rows.append({"file": path.name, "sheet": sh.name if fmt == "xlsx" else None,
                                      "row_number": first + pos, "reason_code": reason, "field": fld})
            quirks |= sh.quirks
            entry_sheets.append({
                "sheet": sh.name if fmt == "xlsx" else None,
                "export_time": sh.export_time.strftime("%Y-%m-%d %H:%M:%S") if sh.export_time else None,
                "export_time_from": sh.export_time_from,
                "header_row": len(sh.titles) + 1 if fmt != "jsonl" else None,
                "titles": sh.titles, **stt,
            })
        entry = {
            "file": path.name, "kind": kind, "format": fmt, "encoding": encoding,
            "size_bytes": path.stat().st_size, **tot,
            "expected_loaded": tot["rows_read"] - tot["non_data"] - tot["duplicates"] - tot["bad"],
            "sheets": entry_sheets, "skipped_sheets": skipped_sheets or [], "quirks": sorted(quirks),
        }
        self.files.append(entry)
        return entry

    # ------------------------------------------------------------------ common tail of every report file
    def finish(self, kind: str, rows: pl.DataFrame, typed: pl.DataFrame, st: render.Style, ex: ExportTime,
               injectors: dict, rng: np.random.Generator, *, repeats: pl.DataFrame | None = None,
               blanks: int = 0, total: bool = False, extra_cols: dict[str, str] | None = None) -> tuple[Table, object]:
        table = Table(rows)
        ctx = dirt.FileCtx(world=self.world, rng=rng, st=st, export=ex.sec, table=table, typed=typed,
                           prev_ids=self.prev_ids.get(kind, set()), prev_rows=self.prev_rows.get(kind),
                           unknown_counter=self.unknown_counter, turns=self.turns)
        pending = self.pending.setdefault(kind, list(REASON_CODES))
        if self.dirty > 0:
            used = dirt.inject(ctx, injectors, self.n_bad(rng, rows.height), pending)
            self.pending[kind] = [r for r in pending if r not in used]
        # Exact duplicates within the file, then (non-snapshots) rows repeated from the previous file.
        n_dup = max(int(rng.random() < 0.6), round(0.003 * rows.height))
        for _ in range(n_dup):
            i = ctx.pick()
            if i is not None:
                table.duplicate(i)
        if repeats is not None:
            for r in repeats.iter_rows(named=True):
                table.add(r, DUP)
        return table, ctx

    def clean_mask(self, table: Table) -> np.ndarray:
        bad = np.zeros(table.n, dtype=bool)
        for i in table._bad:
            bad[i] = True
        return ~bad


# ---------------------------------------------------------------------------------------------- reference
def admin_units(run: Run) -> None:
    w = run.world
    rng = run.rng("admin_file")
    hh = w.households
    v_h = np.bincount(hh["village_idx"].to_numpy(), minlength=len(w.v_code))
    v_p = np.bincount(hh["village_idx"].to_numpy(), weights=hh["members"].to_numpy(), minlength=len(w.v_code)).astype(int)
    rows = []
    clon, clat = geo.rep_point(w.county_geom)
    rows.append([run.world.county_code, run.world.county_name, "县", "", int(v_h.sum()), int(v_p.sum()), clon, clat])
    for ti, t in enumerate(w.townships):
        vs = np.flatnonzero(w.v_township == ti)
        lon, lat = geo.rep_point(t["geom"])
        lvl = t["name"][-1] if rng.random() < 0.6 else "乡镇"
        rows.append([t["code"], t["name"], lvl, run.world.county_code, int(v_h[vs].sum()), int(v_p[vs].sum()), lon, lat])
    for vi in range(len(w.v_code)):
        lon, lat = geo.rep_point(w.v_geom[vi])
        lvl = "社区" if w.v_name[vi].endswith("社区") else str(rng.choice(["村", "村", "行政村"]))
        rows.append([w.v_code[vi], w.v_name[vi], lvl, w.townships[int(w.v_township[vi])]["code"],
                     int(v_h[vi]), int(v_p[vi]), lon, lat])
    src = SOURCES["admin_units"]
    cols = src.names
    frame = pl.DataFrame([[str(x) if x != "" else None for x in r] for r in rows], schema={c: pl.Utf8 for c in cols},
                         orient="row")
    table = Table(frame)
    built = table.build(rng, blanks=0)
    sheet = Sheet(name="行政区划", titles=[f"{run.world.county_name}行政区划代码及基础信息表", f"填报单位：{run.world.county_name}委政法委（县综治中心）",
                                      "填报日期：2025年6月30日"],
                  headers=render.headers(src, cols, rng), built=built,
                  export_time=dt.datetime(2025, 6, 30, 23, 59, 59), export_time_from="title",
                  num_cols={"households", "population", "lon", "lat"}, quirks={"title_rows", "merged_title"})
    path = run.out / f"{run.world.county_name}行政区划代码表.xlsx"
    write_xlsx(path, [sheet], constant_memory=False)
    run.record(path, "admin_units", "xlsx", None, [sheet], extra={"enum_synonyms"})


def grids(run: Run) -> None:
    """GeoJSON for all townships but the last; the last township's grids as CSV with a WKT column."""
    w = run.world
    rng = run.rng("grids_file")
    hh = w.households
    g_h = np.bincount(hh["grid_idx"].to_numpy(), minlength=len(w.g_code))
    g_p = np.bincount(hh["grid_idx"].to_numpy(), weights=hh["members"].to_numpy(), minlength=len(w.g_code)).astype(int)
    last_t = len(w.townships) - 1
    src = SOURCES["grids"]
    props = ["grid_code", "grid_name", "village_code", "households", "population", "grid_head", "worker_count"]
    heads = render.headers(src, props, rng, synonym_share=0.0)
    feats, csv_rows = [], []
    for gi, code in enumerate(w.g_code):
        vi = int(w.g_village[gi])
        n_in_v = gi - int(w.g_start[vi]) + 1
        vals = [code, f"{w.v_name[vi]}第{n_in_v}网格", w.v_code[vi], int(g_h[gi]), int(g_p[gi]), w.g_head[gi],
                len(w.g_workers[gi])]
        if int(w.v_township[vi]) == last_t and len(w.townships) > 1:
            csv_rows.append([str(x) for x in vals] + [shapely.to_wkt(w.g_geom[gi], rounding_precision=6, trim=True)])
        else:
            feats.append({"type": "Feature", "properties": dict(zip(heads, vals, strict=True)),
                          "geometry": geo.to_geojson_geometry(w.g_geom[gi])})
    path = run.out / f"{run.world.county_name}网格划分.geojson"
    import json

    fc = {"type": "FeatureCollection", "name": f"{run.world.county_name}网格划分（示意）",
          "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}, "features": feats}
    path.write_text(json.dumps(fc, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    run.files.append({
        "file": path.name, "kind": "grids", "format": "geojson", "encoding": "utf-8", "size_bytes": path.stat().st_size,
        "rows_read": len(feats), "non_data": 0, "duplicates": 0, "bad": 0, "expected_loaded": len(feats),
        "sheets": [{"sheet": None, "export_time": None, "export_time_from": None, "header_row": None, "titles": [],
                    "rows_read": len(feats), "non_data": 0, "duplicates": 0, "bad": 0}],
        "skipped_sheets": [], "quirks": ["geojson", "wgs84"],
    })
    if csv_rows:
        cols = props + ["geometry"]
        frame = pl.DataFrame(csv_rows, schema={c: pl.Utf8 for c in cols}, orient="row")
        built = Table(frame).build(rng)
        sheet = Sheet(name=None, titles=[], headers=heads + ["WKT"], built=built, export_time=None,
                      export_time_from=None, quirks={"wkt_geometry"})
        p2 = run.out / f"{w.townships[last_t]['name']}网格划分_WKT.csv"
        write_csv(p2, sheet, "utf-8-sig")
        run.record(p2, "grids", "csv", "utf-8-sig", [sheet], extra={"encoding:utf-8-sig"})


def households(run: Run) -> None:
    w = run.world
    rng = run.rng("households_file")
    st = render.Style(fmt="csv", dt_format=0, d_format=0)
    hh = w.households
    src = SOURCES["households"]
    cols = src.names
    key = hh["key"].to_numpy()
    key_txt = np.array([""] + list(KEY_TYPES), dtype=object)[key]
    ordinary_written = rng.random(len(key)) < 0.04  # a few registries write 普通户 instead of leaving it empty
    key_txt = np.where((key == 0) & ordinary_written, "普通户", key_txt)
    rows = pl.DataFrame({
        "household_id": render.codes(hh["household_id"], rng, st),
        "grid_code": render.codes(pl.Series(np.array(w.g_code, dtype=object)[hh["grid_idx"].to_numpy()].tolist()), rng, st),
        "head_name": render.spaces(hh["head_name"], rng, 0.01),
        "id_number": hh["id_number"],
        "phone": hh["phone"].replace("", None),
        "members": render.ints(hh["members"].to_numpy(), rng, st, "members"),
        "key_type": render.enum(pl.Series(key_txt.tolist(), dtype=pl.Utf8), rng, "key_type", 0.15).replace("", None),
    })
    table = Table(rows)
    # The registry itself only gets extra bad rows (households nobody refers to), so that no clean
    # visit or points record loses its household.
    if run.dirty > 0:
        n_extra = max(4, run.n_bad(rng, rows.height) // 4)
        base = rows.row(0, named=True)
        for k in range(n_extra):
            r = dict(base)
            r["household_id"] = f"{w.v_code[0]}{8000 + k:04d}"
            reason = ("MISSING_REQUIRED", "BAD_NUMBER", "BAD_ENUM", "UNKNOWN_GRID")[k % 4]
            if reason == "MISSING_REQUIRED":
                r["grid_code"], fld = None, "grid_code"
            elif reason == "BAD_NUMBER":
                r["members"], fld = "五", "members"
            elif reason == "BAD_ENUM":
                r["key_type"], fld = dirt.BAD_ENUMS["key_type"], "key_type"
            else:
                r["grid_code"], fld = w.g_code[0][:12] + "999", "grid_code"
            table.add(r, BAD, reason, fld)
    for i in rng.choice(rows.height, 2, replace=False).tolist():
        table.duplicate(i)
    built = table.build(rng, blanks=2)
    ex_day = dt.datetime(w.scale.end[0], w.scale.end[1], act.days_in(*w.scale.end))
    sheet = Sheet(name=None, titles=[f"{run.world.county_name}户籍台账（截至{ex_day.year}年{ex_day.month}月{ex_day.day}日）"],
                  headers=render.headers(src, cols, rng), built=built,
                  export_time=ex_day.replace(hour=23, minute=59, second=59), export_time_from="title",
                  title_commas=True)
    sheet.quirks = detect_quirks(built.frame, [], {"key_type": "key_type"}) | {"title_rows", "blank_rows",
                                                                                "duplicates_in_file", "rare_characters"}
    path = run.out / f"{run.world.county_name}户籍台账_{ex_day:%Y%m%d}.csv"
    write_csv(path, sheet, "gb18030", crlf=True)
    run.record(path, "households", "csv", "gb18030", [sheet], extra={"encoding:gb18030", "crlf"})


# ---------------------------------------------------------------------------------------------- reports
def _layout(run: Run, kind: str, mi: int, cycle: list[str]) -> str:
    off = int(run.rng("cycle", kind).integers(len(cycle)))
    fmt = cycle[(mi + off) % len(cycle)]
    if fmt == "xlsx" and run.world.scale.xlsx_every > 1 and mi % run.world.scale.xlsx_every != 0:
        fmt = "csv-utf8"
    return fmt


def _write_report(run: Run, kind: str, label: str, table: Table, st: render.Style, ex: ExportTime, fmt: str,
                  rng: np.random.Generator, headers: list[str], date_cols: dict[str, str], enum_cols: dict[str, str],
                  num_cols: set[str], y: int, m: int) -> Path:
    w = run.world
    titles: list[str] = []
    if fmt == "xlsx":
        titles.append(f"{run.world.county_name}{label}（{y}年{m}月）")
    if ex.title:
        if fmt != "xlsx" and rng.random() < 0.5:
            titles.append(f"{run.world.county_name}{label}")
        titles.append(ex.title)
    blanks = int(rng.integers(1, 3)) if fmt == "xlsx" else int(rng.random() < 0.3)
    if fmt == "jsonl":
        blanks = 0
    total = None
    if fmt == "xlsx" or (fmt != "jsonl" and rng.random() < 0.3):
        first = table.rows.columns[0]
        total = {first: "合计", table.rows.columns[-1]: f"共{table.n}条"}
    built = table.build(rng, blanks=blanks, total=total)
    quirks = detect_quirks(built.frame, list(date_cols), enum_cols)
    if titles:
        quirks.add("title_rows")
    if fmt == "xlsx":
        quirks.add("merged_title")
        if st.xlsx_dates == "cell":
            quirks.add("excel_date_cells")
        elif st.xlsx_dates == "serial":
            quirks.add("excel_serial_dates")
    if blanks:
        quirks.add("blank_rows")
    if total:
        quirks.add("total_row")
    if table._dups:
        quirks.add("duplicates_in_file")
    if any(k == DUP for _, k, _, _ in table._extra):
        quirks.add("duplicates_across_files")
    if any(h != SOURCES[kind].field(c).header for h, c in zip(headers, table.rows.columns, strict=True)):
        quirks.add("header_synonyms")
    ext = {"xlsx": "xlsx", "jsonl": "jsonl"}.get(fmt, "csv")
    # Names sort in export order within a source (the loader takes a folder in name order, and
    # "earlier file" for non-snapshot duplicates must mean the same thing either way). The month label
    # 2025年06月 is not a file-name date; only the _YYYYMMDD / _YYYYMM tag (when present) is.
    path = run.out / f"{run.world.county_name}{label}（{y}年{m:02d}月）{ex.tag}.{ext}"
    sheet = Sheet(name=f"{y}年{m}月" if fmt == "xlsx" else None, titles=titles, headers=headers, built=built,
                  export_time=dt.datetime.fromtimestamp(ex.sec, dt.UTC).replace(tzinfo=None),
                  export_time_from="title" if ex.how == "title" else "file_name",
                  date_cols=date_cols, num_cols=num_cols, xlsx_dates=st.xlsx_dates, quirks=quirks,
                  title_commas=bool(rng.random() < 0.5))
    if fmt == "xlsx":
        write_xlsx(path, [sheet], constant_memory=True)
        run.record(path, kind, "xlsx", None, [sheet])
    elif fmt == "jsonl":
        write_jsonl(path, sheet)
        run.record(path, kind, "jsonl", "utf-8", [sheet], extra={"encoding:utf-8"})
    else:
        enc = ENCODINGS[fmt]
        crlf = enc == "gbk"
        write_csv(path, sheet, enc, crlf=crlf)
        run.record(path, kind, "csv", enc, [sheet], extra={f"encoding:{enc}"} | ({"crlf"} if crlf else set()))
    del w
    return path


def _grid_codes(w: World, g: pl.Series) -> pl.Series:
    return pl.Series(np.array(w.g_code, dtype=object)[g.to_numpy()].tolist(), dtype=pl.Utf8)


def _village_codes(w: World, v: pl.Series) -> pl.Series:
    return pl.Series(np.array(w.v_code, dtype=object)[v.to_numpy()].tolist(), dtype=pl.Utf8)


VISIT_COLS = ["record_id", "grid_code", "worker", "household_id", "visit_type", "visited_at", "entered_at"]


def render_visits(w: World, t: pl.DataFrame, rng, st: render.Style) -> pl.DataFrame:
    return pl.DataFrame({
        "record_id": render.codes(t["record_id"], rng, st),
        "grid_code": render.codes(_grid_codes(w, t["grid"]), rng, st),
        "worker": render.spaces(t["worker"], rng, st.spaces),
        "household_id": render.codes(t["household_id"], rng, st),
        "visit_type": render.spaces(render.enum(t["visit_type"], rng, "visit_type", st.synonyms), rng, st.spaces),
        "visited_at": render.datetimes(_dt(t["visited_at"]), rng, st),
        "entered_at": render.datetimes(_dt(t["entered_at"]), rng, st),
    }).select(VISIT_COLS)


class Visits:
    kind = "visits"
    label = "网格走访巡查记录"
    cycle = ["csv-utf8", "csv-bom", "csv-gbk", "xlsx", "jsonl"]

    def __init__(self, run: Run):
        self.run = run
        self.carry: pl.DataFrame | None = None
        self.prev_ex = -1

    def month(self, mi: int) -> None:
        run, w = self.run, self.run.world
        y, m = w.months[mi]
        fmt = _layout(run, self.kind, mi, self.cycle)
        ex = export_time(run.seed, self.kind, y, m, allow_title=fmt != "jsonl")
        new = act.visits(w, mi)
        allv = new if self.carry is None else pl.concat([self.carry, new])
        t = allv.filter(pl.col("entered_at") <= ex.sec)
        self.carry = allv.filter(pl.col("entered_at") > ex.sec)
        rng = run.rng("visits_file", mi)
        st = render.pick_style(rng, "xlsx" if fmt == "xlsx" else "csv")
        rows = render_visits(w, t, rng, st)
        t = t.with_columns(is_visit=pl.col("visit_type") == "走访")
        inj = {
            "MISSING_REQUIRED": dirt.missing([("grid_code", None), ("visited_at", None), ("entered_at", None),
                                              ("household_id", "is_visit")]),
            "BAD_DATE": dirt.bad_date_in([("visited_at", "visited_at", False), ("entered_at", "entered_at", False)]),
            "BAD_ENUM": dirt.bad_enum(["visit_type"], cond="is_visit"),
            "UNKNOWN_GRID": dirt.unknown_grid,
            "UNKNOWN_HOUSEHOLD": dirt.unknown_household("is_visit"),
            "FUTURE_DATE": dirt.future([("entered_at", False)]),
            "ID_CONFLICT": dirt.id_conflict_repeat("worker", lambda c, r: (r["worker"] or "") + "伟"),
        }
        # Visits repeated from the previous file (same record, same values): duplicates across files.
        prev = run.prev_rows.get(self.kind)
        repeats = None
        if prev is not None and prev.height:
            k = max(1, int(prev.height * 0.005))
            pick = rng.choice(prev.height, min(k, prev.height), replace=False)
            repeats = prev[np.sort(pick)]
            run.prev_rows[self.kind] = prev.filter(~pl.Series(np.isin(np.arange(prev.height), pick)))
        table, ctx = run.finish(self.kind, rows, t, st, ex, inj, rng, repeats=repeats)
        clean = run.clean_mask(table) & ~_dup_sources(table)
        date_cols = {"visited_at": "dt", "entered_at": "dt"}
        heads = render.headers(SOURCES[self.kind], VISIT_COLS, rng)
        _write_report(run, self.kind, self.label, table, st, ex, fmt, rng, heads, date_cols,
                      {"visit_type": "visit_type"}, set(), y, m)
        # Next file's repeats and conflicts come from this file's clean rows, as written here.
        run.prev_rows[self.kind] = rows.filter(pl.Series(clean))
        self.prev_ex = ex.sec


def _dup_sources(table: Table) -> np.ndarray:
    m = np.zeros(table.n, dtype=bool)
    for i in table._dups:
        m[i] = True
    return m


EVENT_COLS = ["event_id", "grid_code", "reporter", "reported_at", "category", "source", "handling_level", "status",
              "accepted_at", "deadline", "closed_at", "satisfaction", "entered_at"]


class Events:
    kind = "events"
    label = "网格事件"
    cycle = ["xlsx", "csv-utf8", "csv-gbk", "csv-bom", "jsonl"]

    def __init__(self, run: Run):
        self.run = run
        self.buffer: list[pl.DataFrame] = []
        self.prev_ex = -1
        self.current: pl.DataFrame | None = None

    def month(self, mi: int) -> None:
        run, w = self.run, self.run.world
        y, m = w.months[mi]
        fmt = _layout(run, self.kind, mi, self.cycle)
        ex = export_time(run.seed, self.kind, y, m, allow_title=fmt != "jsonl")
        self.current = act.events(w, mi)
        self.buffer = (self.buffer + [self.current])[-4:]
        allv = pl.concat(self.buffer)
        t = act.event_state(allv.filter((pl.col("entered_at") <= ex.sec) & (pl.col("settled_at") > self.prev_ex)), ex.sec)
        t = t.sort("reported_at")
        rng = run.rng("events_file", mi)
        st = render.pick_style(rng, "xlsx" if fmt == "xlsx" else "csv")
        rows = pl.DataFrame({
            "event_id": render.codes(t["event_id"], rng, st),
            "grid_code": render.codes(_grid_codes(w, t["grid"]), rng, st),
            "reporter": render.spaces(t["reporter"], rng, st.spaces),
            "reported_at": render.datetimes(_dt(t["reported_at"]), rng, st),
            "category": render.enum(t["category"], rng, "event_category", st.synonyms),
            "source": render.enum(t["source"], rng, "event_source", st.synonyms),
            "handling_level": render.enum(t["level_shown"], rng, "handling_level", st.synonyms),
            "status": render.spaces(render.enum(t["status"], rng, "event_status", st.synonyms), rng, st.spaces),
            "accepted_at": render.datetimes(_dt(t["accepted_shown"]), rng, st),
            "deadline": render.datetimes(_dt(t["deadline"]), rng, st),
            "closed_at": render.datetimes(_dt(t["closed_shown"]), rng, st),
            "satisfaction": render.enum(t["sat_shown"], rng, "satisfaction", st.synonyms),
            "entered_at": render.datetimes(_dt(t["entered_at"]), rng, st),
        })
        t = t.with_columns(has_acc=pl.col("accepted_shown").is_not_null(), has_close=pl.col("closed_shown").is_not_null(),
                           has_sat=pl.col("sat_shown").is_not_null(), has_level=pl.col("level_shown").is_not_null())
        cats = act.EVENT_CATEGORIES

        def other_category(c: dirt.FileCtx, i: int) -> str:
            cur = c.typed["category"][i]
            return [x for x in cats if x != cur][int(c.rng.integers(len(cats) - 1))]

        def time_order(c: dirt.FileCtx) -> bool:
            i = c.pick(c.col("has_acc"))
            if i is None:
                return False
            rep = int(c.col("reported_at")[i])
            if c.col("has_close")[i] and c.rng.random() < 0.4:
                c.table.mutate(i, {"closed_at": dirt.fmt_time(rep - int(c.rng.integers(2, 48)) * 3600, c.st, False)},
                               "TIME_ORDER", "closed_at")
            else:
                c.table.mutate(i, {"accepted_at": dirt.fmt_time(rep - int(c.rng.integers(1, 6)) * 3600, c.st, False)},
                               "TIME_ORDER", "accepted_at")
            return True

        def other_grid(c: dirt.FileCtx, i: int) -> str:
            g = int(c.col("grid")[i])
            return w.g_code[(g + 1) % len(w.g_code)]  # another real grid: known, but not this event's

        inj = {
            "MISSING_REQUIRED": dirt.missing([("grid_code", None), ("reported_at", None), ("category", None),
                                              ("status", None), ("deadline", None), ("entered_at", None),
                                              ("accepted_at", "has_acc"), ("closed_at", "has_close")]),
            "BAD_DATE": dirt.bad_date_in([("reported_at", "reported_at", False), ("deadline", "deadline", False),
                                          ("entered_at", "entered_at", False)]),
            "BAD_ENUM": _one_of(dirt.bad_enum(["category", "source"]), dirt.bad_enum(["handling_level"], "has_level"),
                                dirt.bad_enum(["satisfaction"], "has_sat")),
            "UNKNOWN_GRID": dirt.unknown_grid,
            "TIME_ORDER": time_order,
            "FUTURE_DATE": dirt.future([("entered_at", False)]),
            "ID_CONFLICT": _one_of(dirt.id_conflict_snapshot("event_id", "category", other_category),
                                   dirt.id_conflict_snapshot("event_id", "grid_code", other_grid)),
        }
        table, ctx = run.finish(self.kind, rows, t, st, ex, inj, rng)
        clean = run.clean_mask(table)
        run.prev_ids[self.kind] = set(t["event_id"].filter(pl.Series(clean)).to_list())
        heads = render.headers(SOURCES[self.kind], EVENT_COLS, rng)
        date_cols = {c: "dt" for c in ("reported_at", "accepted_at", "deadline", "closed_at", "entered_at")}
        enums = {"category": "event_category", "source": "event_source", "handling_level": "handling_level",
                 "status": "event_status", "satisfaction": "satisfaction"}
        _write_report(run, self.kind, self.label, table, st, ex, fmt, rng, heads, date_cols, enums, set(), y, m)
        self.prev_ex = ex.sec


def _unit(key: str, salt: int) -> float:
    """A stable number in [0, 1) from a record id (zlib.crc32: the same on every run and machine)."""
    return (zlib.crc32(f"{salt}:{key}".encode()) & 0xFFFFFF) / float(1 << 24)


def _one_of(*injs):
    def f(c: dirt.FileCtx) -> bool:
        for k in c.rng.permutation(len(injs)).tolist():
            if injs[k](c):
                return True
        return False
    return f


POINT_COLS = ["record_id", "household_id", "village_code", "item", "category", "points", "occurred_on",
              "entered_on", "review_status"]


class Points:
    kind = "points"
    label = "积分记录"
    cycle = ["csv-utf8", "xlsx", "csv-gbk", "csv-bom"]

    def __init__(self, run: Run):
        self.run = run
        self.buffer: list[pl.DataFrame] = []
        self.prev_ex = -1

    def month(self, mi: int) -> None:
        run, w = self.run, self.run.world
        y, m = w.months[mi]
        fmt = _layout(run, self.kind, mi, self.cycle)
        ex = export_time(run.seed, self.kind, y, m)
        self.buffer = (self.buffer + [act.points(w, mi)])[-3:]
        allv = pl.concat(self.buffer)
        t = act.points_state(allv.filter((pl.col("entered_on") <= ex.sec) & (pl.col("settled_at") > self.prev_ex)), ex.sec)
        t = t.sort(["entered_on", "record_id"])
        rng = run.rng("points_file", mi)
        st = render.pick_style(rng, "xlsx" if fmt == "xlsx" else "csv")
        vcode = _village_codes(w, t["village"])
        vcode = pl.select(pl.when(pl.lit(pl.Series(rng.random(t.height) < 0.03))).then(None).otherwise(vcode)).to_series()
        pts = render.points(t["points"].to_numpy(), rng, st, "points")
        if fmt == "xlsx":  # workbooks mostly hold plain numbers
            plain = pl.Series(t["points"].to_numpy()).cast(pl.Utf8)
            pts = pl.select(pl.when(pl.lit(pl.Series(rng.random(t.height) < 0.7))).then(plain).otherwise(pts)).to_series()
        rows = pl.DataFrame({
            "record_id": render.codes(t["record_id"], rng, st),
            "household_id": render.codes(t["household_id"], rng, st),
            "village_code": vcode,
            "item": render.spaces(t["item"], rng, st.spaces),
            "category": t["category"],
            "points": pts,
            "occurred_on": render.datetimes(_dt(t["occurred_on"]), rng, st, date_only=True),
            "entered_on": render.datetimes(_dt(t["entered_on"]), rng, st, date_only=True),
            "review_status": render.enum(t["review_status"], rng, "review_status", st.synonyms),
        })

        def other_points(c: dirt.FileCtx, i: int) -> str:
            return str(int(c.typed["points"][i]) + int(c.rng.choice([1, 2, 3, 5])))

        def other_item(c: dirt.FileCtx, i: int) -> str:
            cur = c.typed["item"][i]
            return next(x[0] for x in act.POINT_ITEMS[int(c.rng.integers(4)):] if x[0] != cur)

        inj = {
            "MISSING_REQUIRED": dirt.missing([("household_id", None), ("points", None), ("occurred_on", None),
                                              ("entered_on", None), ("review_status", None)]),
            "BAD_DATE": dirt.bad_date_in([("occurred_on", "occurred_on", True), ("entered_on", "entered_on", True)]),
            "BAD_NUMBER": dirt.bad_number(["points"]),
            "BAD_ENUM": dirt.bad_enum(["review_status"]),
            "UNKNOWN_VILLAGE": dirt.unknown_village_code,
            "UNKNOWN_HOUSEHOLD": dirt.unknown_household(),
            "FUTURE_DATE": dirt.future([("entered_on", True)]),
            "ID_CONFLICT": _one_of(dirt.id_conflict_snapshot("record_id", "points", other_points),
                                   dirt.id_conflict_snapshot("record_id", "item", other_item)),
        }
        table, ctx = run.finish(self.kind, rows, t, st, ex, inj, rng)
        clean = run.clean_mask(table)
        run.prev_ids[self.kind] = set(t["record_id"].filter(pl.Series(clean)).to_list())
        heads = render.headers(SOURCES[self.kind], POINT_COLS, rng)
        _write_report(run, self.kind, self.label, table, st, ex, fmt, rng, heads,
                      {"occurred_on": "d", "entered_on": "d"}, {"review_status": "review_status"}, {"points"}, y, m)
        self.prev_ex = ex.sec


REDEEM_COLS = ["redemption_id", "household_id", "village_code", "item", "points_spent", "redeemed_on"]


class Redemptions:
    kind = "redemptions"
    label = "积分兑换"
    cycle = ["xlsx", "csv-utf8", "csv-gbk"]

    def __init__(self, run: Run):
        self.run = run

    def month(self, mi: int) -> None:
        run, w = self.run, self.run.world
        y, m = w.months[mi]
        fmt = _layout(run, self.kind, mi, self.cycle)
        ex = export_time(run.seed, self.kind, y, m)
        t = act.redemptions(w, mi)
        rng = run.rng("redeem_file", mi)
        st = render.pick_style(rng, "xlsx" if fmt == "xlsx" else "csv")
        rows = pl.DataFrame({
            "redemption_id": render.codes(t["redemption_id"], rng, st),
            "household_id": render.codes(t["household_id"], rng, st),
            "village_code": _village_codes(w, t["village"]),
            "item": t["item"],
            "points_spent": render.ints(t["points_spent"].to_numpy(), rng, st, "points_spent"),
            "redeemed_on": render.datetimes(_dt(t["redeemed_on"]), rng, st, date_only=True),
        })
        inj = {
            "MISSING_REQUIRED": dirt.missing([("household_id", None), ("points_spent", None), ("redeemed_on", None)]),
            "BAD_DATE": dirt.bad_date_in([("redeemed_on", "redeemed_on", True)]),
            "BAD_NUMBER": dirt.bad_number(["points_spent"]),
            "UNKNOWN_VILLAGE": dirt.unknown_village_code,
            "UNKNOWN_HOUSEHOLD": dirt.unknown_household(),
            "FUTURE_DATE": dirt.future([("redeemed_on", True)]),
            "ID_CONFLICT": dirt.id_conflict_repeat("item", lambda c, r: "洗衣液" if r["item"] != "洗衣液" else "食用油"),
        }
        prev = run.prev_rows.get(self.kind)
        repeats = None
        if prev is not None and prev.height and rng.random() < 0.7:
            pick = rng.choice(prev.height, 1, replace=False)
            repeats = prev[pick]
            run.prev_rows[self.kind] = prev.filter(~pl.Series(np.isin(np.arange(prev.height), pick)))
        table, ctx = run.finish(self.kind, rows, t, st, ex, inj, rng, repeats=repeats)
        clean = run.clean_mask(table) & ~_dup_sources(table)
        heads = render.headers(SOURCES[self.kind], REDEEM_COLS, rng)
        _write_report(run, self.kind, self.label, table, st, ex, fmt, rng, heads, {"redeemed_on": "d"}, {},
                      {"points_spent"}, y, m)
        run.prev_rows[self.kind] = rows.filter(pl.Series(clean))


DISPUTE_COLS = ["case_id", "registered_on", "township_name", "village_name", "dispute_type", "parties", "party_count",
                "amount", "mediation_org", "mediator", "result", "concluded_on", "is_petition", "related_event_id"]


class Disputes:
    """One workbook per township per year, one sheet per month, each sheet a snapshot of the 台账."""

    kind = "disputes"
    label = "矛盾纠纷排查调处台账"

    def __init__(self, run: Run):
        self.run = run
        w = run.world
        self.buffer: list[pl.DataFrame] = []
        self.sheets: dict[int, list[Sheet]] = {}
        self.year: int | None = None
        self.prev_day: dict[int, int] = {}
        hh = w.households
        self.population = np.bincount(hh["village_idx"].to_numpy(), weights=hh["members"].to_numpy(),
                                      minlength=len(w.v_code))
        self.shared = [i for i, u in enumerate(w.v_county_unique.tolist()) if not u]
        self.seen: dict[int, set] = {}  # per township workbook: normalised rows already accepted

    def month(self, mi: int, ev: pl.DataFrame | None) -> None:
        run, w = self.run, self.run.world
        y, m = w.months[mi]
        if self.year is not None and y != self.year:
            self.flush()
        self.year = y
        self.buffer = (self.buffer + [act.disputes(w, mi, ev, self.population)])[-4:]
        allv = pl.concat(self.buffer)
        end_of_month = act.month_start(*((y + 1, 1) if m == 12 else (y, m + 1)))
        for ti in range(len(w.townships)):
            rng = run.rng("disputes_sheet", mi, ti)
            day = end_of_month + int(rng.integers(0, 3)) * DAY  # 填报日期: first days of the next month
            ex_sec = day + DAY - 1
            prev = self.prev_day.get(ti, -1)
            vs = np.flatnonzero(w.v_township == ti)
            d = allv.filter(pl.col("village").is_in(vs.tolist()) & (pl.col("registered_on") < end_of_month)
                            & (pl.col("concluded_on") > prev))
            d = d.with_columns(concluded=pl.col("concluded_on") <= day).sort(["registered_on", "case_id"])
            self.prev_day[ti] = day
            st = render.pick_style(rng, "xlsx")
            self.sheets.setdefault(ti, []).append(self._sheet(mi, ti, d, st, rng, day, ex_sec))

    def _sheet(self, mi, ti, d: pl.DataFrame, st, rng, day: int, ex_sec: int) -> Sheet:
        run, w = self.run, self.run.world
        y, m = w.months[mi]
        n = d.height
        v = d["village"].to_numpy()
        names_ = []
        tnames = []
        # A case keeps the way its village is written from sheet to sheet (the clerk copies the row
        # forward), so the form is drawn from the case id, not per sheet.
        for vi, cid in zip(v.tolist(), d["case_id"].to_list(), strict=True):
            stem, full = w.v_stem[vi], w.v_name[vi]
            u, u2 = _unit(cid, 1), _unit(cid, 2)
            if full.endswith("社区"):
                names_.append(full if u < 0.7 else stem)
            else:
                names_.append(full if u < 0.55 else (stem if u < 0.8 else stem + "村委会"))
            tname = w.townships[ti]["name"]
            tnames.append(None if (w.v_county_unique[vi] and u2 < 0.25) else tname)
        concluded = d["concluded"].to_numpy()
        result = np.where(concluded, d["result"].to_numpy(), "调解中")
        rows = pl.DataFrame({
            "case_id": render.codes(d["case_id"], rng, st),
            "registered_on": render.datetimes(_dt(d["registered_on"]), rng, st, date_only=True),
            "township_name": pl.Series(tnames, dtype=pl.Utf8),
            "village_name": render.spaces(pl.Series(names_, dtype=pl.Utf8), rng, st.spaces),
            "dispute_type": render.enum(d["dispute_type"], rng, "dispute_type", st.synonyms),
            "parties": d["parties"],
            "party_count": render.ints(d["party_count"].to_numpy(), rng, st, "party_count"),
            "amount": pl.Series(d["amount"].to_numpy()).cast(pl.Utf8).alias("amount"),
            "mediation_org": render.enum(d["org"], rng, "mediation_org", st.synonyms),
            "mediator": d["mediator"],
            "result": render.enum(pl.Series(result.tolist(), dtype=pl.Utf8), rng, "mediation_result", st.synonyms),
            "concluded_on": render.datetimes(
                _dt(d.select(pl.when(pl.col("concluded")).then(pl.col("concluded_on"))).to_series()), rng, st,
                date_only=True),
            "is_petition": render.bools(d["petition"].to_numpy(), rng, 0.2, "is_petition"),
            "related_event_id": d["related_event_id"],
        })
        # Some clerks leave a zero amount blank; a case keeps its habit from sheet to sheet.
        blank_zero = pl.Series([_unit(c, 3) < 0.5 for c in d["case_id"].to_list()], dtype=pl.Boolean)
        rows = rows.with_columns(pl.when((pl.col("amount") == "0") & blank_zero).then(pl.lit(None))
                                 .otherwise(pl.col("amount")).alias("amount"))
        rows = rows.with_columns(_seq=pl.Series([str(i + 1) for i in range(n)], dtype=pl.Utf8)).select(["_seq"] + DISPUTE_COLS)
        t = d.with_columns(is_concluded=pl.Series(concluded), is_open=pl.Series(~concluded))
        shared = self.shared
        tname = w.townships[ti]["name"]

        def ambiguous(c: dirt.FileCtx) -> bool:
            if not shared:
                return False
            i = c.pick()
            if i is None:
                return False
            vi = shared[int(c.rng.integers(len(shared)))]
            c.table.mutate(i, {"village_name": w.v_name[vi], "township_name": None}, "AMBIGUOUS_VILLAGE", "village_name")
            return True

        def unknown_village(c: dirt.FileCtx) -> bool:
            i = c.pick()
            if i is None:
                return False
            stems = [s for s in dirt.UNKNOWN_VILLAGE_STEMS if s not in set(w.v_stem)]
            c.table.mutate(i, {"village_name": stems[c.n_unknown() % len(stems)] + "村", "township_name": tname},
                           "UNKNOWN_VILLAGE", "village_name")
            return True

        def time_order(c: dirt.FileCtx) -> bool:
            i = c.pick(c.col("is_concluded"))
            if i is None:
                return False
            reg = int(c.col("registered_on")[i])
            c.table.mutate(i, {"concluded_on": dirt.fmt_time(reg - int(c.rng.integers(1, 10)) * DAY, c.st, True)},
                           "TIME_ORDER", "concluded_on")
            return True

        types = act.DISPUTE_TYPES

        def other_type(c: dirt.FileCtx, i: int) -> str:
            cur = c.typed["dispute_type"][i]
            return [x for x in types if x != cur][int(c.rng.integers(len(types) - 1))]

        def earlier_day(c: dirt.FileCtx, i: int) -> str:
            # One day earlier: still before any 办结日期 and the export time, so only the id conflicts.
            return dirt.fmt_time(int(c.col("registered_on")[i]) - DAY, c.st, True)

        inj = {
            "MISSING_REQUIRED": dirt.missing([("registered_on", None), ("village_name", None), ("dispute_type", None),
                                              ("result", None), ("concluded_on", "is_concluded")]),
            "BAD_DATE": dirt.bad_date_in([("registered_on", "registered_on", True)]),
            "BAD_NUMBER": dirt.bad_number(["party_count"]),
            "BAD_ENUM": _one_of(dirt.bad_enum(["dispute_type", "mediation_org"]), dirt.bad_enum(["is_petition"])),
            "UNKNOWN_VILLAGE": unknown_village,
            "AMBIGUOUS_VILLAGE": ambiguous,
            "TIME_ORDER": time_order,
            "FUTURE_DATE": dirt.future([("registered_on", True)], cond="is_open"),
            "ID_CONFLICT": _one_of(dirt.id_conflict_snapshot("case_id", "dispute_type", other_type),
                                   dirt.id_conflict_snapshot("case_id", "registered_on", earlier_day)),
        }
        key = f"{self.kind}:{ti}"
        table = Table(rows)
        ctx = dirt.FileCtx(world=w, rng=rng, st=st, export=ex_sec, table=table, typed=t,
                           prev_ids=run.prev_ids.get(key, set()), unknown_counter=run.unknown_counter,
                           turns=run.turns)
        pending = run.pending.setdefault(self.kind, list(REASON_CODES))
        if run.dirty > 0 and n:
            used = dirt.inject(ctx, inj, run.n_bad(rng, n), pending)
            run.pending[self.kind] = [r for r in pending if r not in used]
        if n > 3 and rng.random() < 0.4:
            i = ctx.pick()
            if i is not None:
                table.duplicate(i)
        clean = run.clean_mask(table)
        run.prev_ids[key] = set(t["case_id"].filter(pl.Series(clean)).to_list()) if n else set()
        total = {"_seq": "合计", "case_id": f"共{n}件"}
        built = table.build(rng, blanks=int(rng.integers(0, 3)), total=total)
        # A workbook is one file: a case copied unchanged into a later month's sheet is a duplicate of
        # the row already accepted from this file (SPEC §3.6 "from the same file"), not a new observation.
        sig = d.select(pl.concat_str([pl.col("case_id"), pl.col("registered_on").cast(pl.Utf8),
                                      pl.col("concluded").cast(pl.Utf8), pl.col("result"),
                                      pl.col("concluded_on").cast(pl.Utf8)], separator="|")).to_series().to_list()
        seen = self.seen.setdefault(ti, set())
        kinds = built.kinds
        for pos, srci in enumerate(built.source.tolist()):
            if srci < 0 or kinds[pos] == BAD:
                continue
            key_ = (sig[srci], tnames[srci], names_[srci])
            if kinds[pos] == DATA and key_ in seen:
                kinds[pos] = DUP
            seen.add(key_)
        dd = dt.datetime.fromtimestamp(day, dt.UTC)
        titles = [f"{w.townships[ti]['name']}矛盾纠纷排查调处台账（{y}年{m}月）",
                  f"填报单位：{w.townships[ti]['name']}综治中心（盖章）", f"填报日期：{dd.year}年{dd.month}月{dd.day}日"]
        heads = ["序号"] + render.headers(SOURCES[self.kind], DISPUTE_COLS, rng)
        quirks = detect_quirks(built.frame, ["registered_on", "concluded_on"],
                               {"dispute_type": "dispute_type", "mediation_org": "mediation_org",
                                "result": "mediation_result", "is_petition": "bool"})
        quirks |= {"title_rows", "merged_title", "total_row", "serial_number_column"}
        if (built.kinds == 3).any():
            quirks.add("blank_rows")
        if (built.kinds == DUP).any():
            quirks.add("duplicates_in_file")
        quirks.add({"cell": "excel_date_cells", "serial": "excel_serial_dates", "text": "text_dates"}[st.xlsx_dates])
        if any(x is None for x in tnames):
            quirks.add("township_empty")
        if any(not x.endswith(("村", "社区")) for x in names_):
            quirks.add("village_name_variants")
        return Sheet(name=f"{m}月", titles=titles, headers=heads, built=built,
                     export_time=dd.replace(tzinfo=None, hour=23, minute=59, second=59), export_time_from="title",
                     date_cols={"registered_on": "d", "concluded_on": "d"}, num_cols={"party_count", "amount", "_seq"},
                     xlsx_dates=st.xlsx_dates, quirks=quirks)

    def flush(self) -> None:
        run, w = self.run, self.run.world
        for ti, sheets in sorted(self.sheets.items()):
            path = run.out / f"{w.townships[ti]['name']}{self.label}_{self.year}年.xlsx"
            # The first township's workbook opens with an instructions sheet without a header row:
            # readers skip it whole and do not count its rows (SPEC §3.6).
            skipped = ["填表说明"] if ti == 0 else []
            write_xlsx(path, sheets, constant_memory=False, notes=NOTES if skipped else None)
            run.record(path, self.kind, "xlsx", None, sheets, extra={"several_sheets"} if len(sheets) > 1 else set(),
                       skipped_sheets=skipped)
        self.sheets = {}
        self.seen = {}


NOTES = ["填表说明：", "1. 每月一张表，按登记日期排序；", "2. 村名填写行政村全称；",
         "3. 调解结果为调解成功、调解不成功或移交的，须填写办结日期。"]
