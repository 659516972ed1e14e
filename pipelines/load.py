"""The batch lifecycle: raw copy → staged → dispositions → core → marts → publish, in one transaction.

Every staged row of every file ever loaded stays in `stg_<kind>`; each ingest recomputes, for all of
them, where the row ends (SPEC §3.6): loaded, quarantined with a reason, or duplicate. Doing it
globally is what makes the spec's order rules hold whatever order files arrive in: snapshots are
compared in export-time order (an older export loaded later never rolls a record back, and the
later export's row is the one quarantined as ID_CONFLICT), and a reference file that arrives late
(a missing grid) heals the rows that named it on the next ingest. Reloading a file already seen
(same content hash) is a no-op.

No parsing here (readers/normalise do that); the only writers of the working warehouse are this
module, the model runner and publish.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from pipelines import config
from pipelines.expectations import quarantine_rules, run_suite, suite_columns
from pipelines.expectations.suites import ID_CONFLICT
from pipelines.models import contract
from pipelines.privacy import keyed_hash
from pipelines.sources import (
    BOOL,
    DATE,
    DATETIME,
    FLOAT,
    INT,
    LOAD_ORDER,
    POINTS,
    REASON_CODES,
    SOURCES,
    Source,
)

CORE_DIR = Path(__file__).parent / "models" / "core"
CORE_ORDER = (
    "dim_county", "dim_township", "dim_village", "dim_grid", "dim_household",
    "fct_visit", "fct_event", "fct_dispute", "fct_points", "fct_redemption",
)
SQL_TYPES = {INT: "BIGINT", FLOAT: "DOUBLE", POINTS: "DOUBLE", DATE: "DATE", DATETIME: "TIMESTAMP",
             BOOL: "BOOLEAN"}
META_COLUMNS = {
    "_file_id": "VARCHAR", "_file_name": "VARCHAR", "_batch_id": "VARCHAR",
    "_sheet": "VARCHAR", "_sheet_no": "INTEGER", "_row": "BIGINT", "_export_time": "TIMESTAMP",
    "_raw": "JSON",
}
# Columns the loader derives at staging time (beyond what normalise returns).
EXTRA_COLUMNS = {
    "households": {"household_key": "VARCHAR"},
    "visits": {"household_key": "VARCHAR"},
    "points": {"household_key": "VARCHAR"},
    "redemptions": {"household_key": "VARCHAR"},
    "disputes": {"township_key": "VARCHAR", "village_key": "VARCHAR"},
    "grids": {"_centroid_lon": "DOUBLE", "_centroid_lat": "DOUBLE"},
}
# Files the generator writes beside its exports; not data.
IGNORED_NAMES = {"manifest.json"}


@dataclass
class FileOutcome:
    file_name: str
    source_kind: str | None
    status: str  # loaded / rejected / unchanged
    reason: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    rows_non_data: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)


@dataclass
class IngestReport:
    batch_id: str | None
    files: list[FileOutcome]
    seconds: float
    published: Path | None
    mart_rows: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)  # phase → seconds

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files if f.status == "loaded")


class IngestError(Exception):
    """The ingest could not run (warehouse locked, nothing to read): one clear line."""


# ---------------------------------------------------------------------------------------------
# staging

def stage_columns(src: Source) -> dict[str, str]:
    cols = dict(META_COLUMNS)
    for f in src.fields:
        cols[f.name] = SQL_TYPES.get(f.type, "VARCHAR")
        cols[f"{f.name}__bad"] = "VARCHAR"
    cols.update(EXTRA_COLUMNS.get(src.kind, {}))
    return cols


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for kind in LOAD_ORDER:
        cols = ", ".join(f'"{c}" {t}' for c, t in stage_columns(SOURCES[kind]).items())
        con.execute(f"create table if not exists stg_{kind} ({cols})")
    con.execute("""
        create table if not exists reg_files (
            file_id varchar, file_name varchar, batch_id varchar, seq bigint, source_kind varchar,
            rows_read bigint, rows_non_data bigint, status varchar, reason varchar, raw_path varchar,
            encoding varchar)""")
    con.execute("create table if not exists ref_boundaries (level varchar, code varchar, geometry varchar, "
                "label_lon double, label_lat double)")
    con.execute("create table if not exists reg_batches (batch_id varchar, started_at timestamp, "
                "finished_at timestamp, status varchar)")
    con.execute("create table if not exists reg_validation (batch_id varchar, suite varchar, "
                "expectation varchar, rule varchar, reason varchar, success boolean, "
                "unexpected_count bigint, error varchar)")


def _hash_unique(values: pl.Series, key: bytes) -> pl.Series:
    """Keyed hash of a column, computing each distinct value once (ids repeat a lot)."""
    uniq = values.drop_nulls().unique()
    mapping = {v: keyed_hash(v, key) for v in uniq.to_list()}
    return values.replace_strict(mapping, default=None, return_dtype=pl.String)


def _derive(kind: str, frame: pl.DataFrame, key: bytes) -> pl.DataFrame:
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
    con.execute(f"insert into stg_{src.kind} select {select} from _stage_frame")
    con.unregister("_stage_frame")
    return frame.height


# ---------------------------------------------------------------------------------------------
# dispositions: where every staged row ends (SPEC §3.6)

def _checked_view_sql(kind: str) -> str:
    """stg_<kind> plus the reference helper columns the rules read."""
    s = f"select s.*, r.seq as _seq{{extra}} from stg_{kind} as s join reg_files as r on r.file_id = s._file_id{{joins}}"
    extra, joins = [], []
    if kind == "admin_units":
        # A county's parent (its city) is outside the county's reference: never checked.
        extra.append("case when s.level = '县' then true else s.parent_code in (select code from "
                     "stg_admin_units where code is not null and level is not null) end as _parent_known")
    if kind in ("households", "visits", "events"):
        extra.append("s.grid_code in (select grid_code from dim_grid) as _grid_known")
    if kind in ("grids", "points", "redemptions"):
        extra.append("s.village_code in (select village_code from dim_village) as _village_known")
    if kind in ("visits", "points", "redemptions"):
        extra.append("s.household_key in (select household_key from dim_household) as _household_known")
    if kind == "disputes":
        # Township by name key (or a typed code); village by name key within it, county-wide if empty.
        extra += ["coalesce(m.matches, 0) as _village_matches", "m.village_code as _village_code"]
        joins.append("""
            left join (
                select s2._file_id, s2._sheet_no, s2._row, count(v.code) as matches,
                       case when count(v.code) = 1 then any_value(v.code) end as village_code
                from stg_disputes as s2
                left join ref_names as t
                    on t.level = '乡镇' and s2.township_key is not null
                    and (t.name_key = s2.township_key or t.code = s2.township_key)
                join ref_names as v
                    on v.level = '村' and v.name_key = s2.village_key
                    and (s2.township_key is null or v.parent_code = t.code)
                group by all
            ) as m using (_file_id, _sheet_no, _row)""")
    return s.format(extra="".join(", " + e for e in extra), joins="".join(joins))


def _order_by(src: Source) -> str:
    # Snapshots: export-time order (SPEC §3.6); others: the order files were loaded.
    base = "_seq, _sheet_no, _row"
    return f"_export_time, {base}" if src.snapshot else base


# Values are compared after normalisation (SPEC §3.6): a dispute's village is compared as the village
# its name resolves to (桃园 = 桃园村 = 桃园村委会), and the township name only serves that resolution.
RESOLVED_COLUMNS = {"disputes": {"village_name": "_village_code", "township_name": None}}


def _compared(src: Source) -> list[tuple[str, str, bool]]:
    """(column, header, immutable) for the values that make two rows 'the same' or 'conflicting'."""
    swap = RESOLVED_COLUMNS.get(src.kind, {})
    out = []
    for f in src.fields:
        col = swap.get(f.name, f.name)
        if col is not None:
            out.append((col, f.header, f.immutable))
    return out


def disposition_sql(kind: str) -> str:
    src = SOURCES[kind]
    rules = quarantine_rules(kind)
    fault_items = ",\n".join(
        f"case when coalesce(({r.violation}), false) then {{'code': '{r.reason}', 'detail': {r.detail}}} end"
        for r in rules
    ) or "null"
    idf = f'"{src.id_field}"'
    compared = _compared(src)
    immutable = [(c, h) for c, h, imm in compared if imm]
    all_fields = ", ".join(f'"{c}"' for c, _, _ in compared)
    conflict_terms = " or ".join(f'c."{c}" is distinct from f."{c}"' for c, _ in immutable) or "false"
    conflict_detail = ", ".join(
        f"case when c.\"{c}\" is distinct from f.\"{c}\" then '{h}: ' || "
        f"coalesce(cast(c.\"{c}\" as varchar), '空') || ' ≠ 已载入 ' || "
        f"coalesce(cast(f.\"{c}\" as varchar), '空') end"
        for c, h in immutable
    ) or "null"
    dup_partition = f"{idf}, _values" + (", _file_id" if src.snapshot else "")
    order = _order_by(src)
    return f"""
    create or replace temp table disp_{kind} as
    with
    checked as (select * from chk_{kind}),
    faults as (
        select _file_id, _sheet_no, _row, {idf}, _seq, _export_time, _file_name, {all_fields},
               hash({all_fields}) as _values,
               list_filter([{fault_items}], lambda x: x is not null) as _faults
        from checked
    ),
    clean as (
        select *, row_number() over (partition by {idf} order by {order}) as _obs
        from faults where len(_faults) = 0
    ),
    first_obs as (select * from clean where _obs = 1),
    judged as (
        select c._file_id, c._sheet_no, c._row, c._values, c.{idf}, c._seq, c._export_time,
               ({conflict_terms}) as _conflict,
               concat_ws('; ', {conflict_detail}) || '（已载入于 ' || f._file_name || '）' as _conflict_detail
        from clean as c join first_obs as f on f.{idf} = c.{idf}
    ),
    ranked as (
        select *, row_number() over (partition by {dup_partition} order by {order}) as _dup_no
        from judged where not _conflict
    )
    select f._file_id, f._sheet_no, f._row,
        case
            when len(f._faults) > 0 or j._conflict then 'quarantined'
            when r._dup_no > 1 then 'duplicate'
            else 'loaded'
        end as status,
        case when len(f._faults) > 0 then f._faults[1].code
             when j._conflict then '{ID_CONFLICT.reason}' end as reason_code,
        case when len(f._faults) > 0 then array_to_string(list_transform(f._faults, lambda x: x.code || ': ' || x.detail), '; ')
             when j._conflict then '{ID_CONFLICT.reason}: ' || j._conflict_detail end as reason_detail,
    from faults as f
    left join judged as j using (_file_id, _sheet_no, _row)
    left join ranked as r using (_file_id, _sheet_no, _row)
    """


def _current_sql(kind: str) -> str:
    src = SOURCES[kind]
    order = ", ".join(f"{c} desc" for c in _order_by(src).split(", "))
    # _raw (the masked source row) is only needed for quarantine: not copied into loaded_/cur_.
    loaded = (f"select s.* exclude (_raw) from chk_{kind} as s join disp_{kind} as d using (_file_id, _sheet_no, _row) "
              "where d.status = 'loaded'")
    # Working tables of one ingest live in memory (temp), never in the warehouse file. A non-snapshot
    # source loads each id once, so its current table is the loaded one.
    current = (f"select * from loaded_{kind} qualify row_number() over "
               f"(partition by \"{src.id_field}\" order by {order}) = 1") if src.snapshot else f"select * from loaded_{kind}"
    return (f"create or replace temp table loaded_{kind} as {loaded};\n"
            f"create or replace temp table cur_{kind} as {current}")


def _run_core(con, name: str) -> None:
    sql = (CORE_DIR / f"{name}.sql").read_text(encoding="utf-8")
    con.execute(f'create or replace table "{name}" as {sql}')


def _boundaries(con) -> None:
    """Village and township outlines, dissolved once per ingest so pages and the pack don't."""
    from pipelines.geometry import dissolve_outlines

    rows = con.execute("select village_code, township_code, geometry from dim_grid "
                       "where geometry is not null and village_code is not null").fetchall()
    out = dissolve_outlines(rows)
    con.execute("delete from ref_boundaries")
    if out:
        con.executemany("insert into ref_boundaries values (?, ?, ?, ?, ?)", out)


def _ref_names(con) -> None:
    from pipelines.normalise import township_key, village_key

    rows = con.execute("select level, code, parent_code, name from cur_admin_units").fetchall()
    data = [(lv, code, parent, (township_key if lv == "乡镇" else village_key)(name))
            for lv, code, parent, name in rows]
    con.execute("create or replace table ref_names (level varchar, code varchar, parent_code varchar, "
                "name_key varchar)")
    if data:
        con.executemany("insert into ref_names values (?, ?, ?, ?)", data)


def rebuild(con) -> None:
    """Recompute every row's disposition and the core tables, references first."""
    after = {
        "admin_units": ("dim_county", "dim_township", "dim_village"),
        "grids": ("dim_grid", _boundaries, "dim_township", "dim_village"), "households": ("dim_household",),
        "visits": ("fct_visit",), "events": ("fct_event",), "disputes": ("fct_dispute",),
        "points": ("fct_points",), "redemptions": ("fct_redemption",),
    }
    for kind in LOAD_ORDER:
        con.execute(f"create or replace temp view chk_{kind} as {_checked_view_sql(kind)}")
        con.execute(disposition_sql(kind))
        for stmt in _current_sql(kind).split(";\n"):
            con.execute(stmt)
        if kind == "admin_units":
            _ref_names(con)
        for model in after[kind]:
            model(con) if callable(model) else _run_core(con, model)


VALIDATION_CHUNK_ROWS = 500_000  # bounds the pandas copy GX needs; one GX run per chunk


def validate_batch(con, batch_id: str, kinds: set[str]) -> None:
    """Run each source's GX suite on this batch's rows (in chunks of whole files, so memory stays
    bounded at province scale); store one result per expectation, counts summed over chunks."""
    for kind in LOAD_ORDER:
        if kind not in kinds:
            continue
        src = SOURCES[kind]
        sizes = con.execute(f"select _file_id, count(*) from stg_{kind} where _batch_id = ? "
                            "group by all order by 1", [batch_id]).fetchall()
        chunks: list[list[str]] = [[]]
        n = 0
        for file_id, rows in sizes:
            if chunks[-1] and n + rows > VALIDATION_CHUNK_ROWS:
                chunks.append([])
                n = 0
            chunks[-1].append(file_id)
            n += rows
        totals: dict[str, dict] = {}
        cols = ", ".join(f'"{c}"' for c in suite_columns(kind))
        for files in chunks:
            if not files:
                continue
            frame = con.execute(f"select {cols} from chk_{kind} where _batch_id = ? "
                                "and list_contains(?, _file_id)", [batch_id, files]).df()
            for f in src.fields:  # GX compares pandas datetimes: dates become timestamps at 00:00
                if f.type == DATE and f.name in frame:
                    frame[f.name] = frame[f.name].astype("datetime64[us]")
            for r in run_suite(kind, frame):
                k = r["expectation"] + "|" + (r["rule"] or "")
                if k not in totals:
                    totals[k] = dict(r)
                else:
                    t = totals[k]
                    t["success"] = t["success"] and r["success"]
                    t["unexpected_count"] += r["unexpected_count"]
                    t["error"] = t["error"] or r["error"]
            del frame
        for r in totals.values():
            con.execute("insert into reg_validation values (?, ?, ?, ?, ?, ?, ?, ?)",
                        [batch_id, r["suite"], r["expectation"], r["rule"], r["reason"], r["success"],
                         r["unexpected_count"], r["error"]])


def publish_tables(con) -> None:
    """The contract tables that come from the registers (quarantine, load_files, …)."""
    union = " union all ".join(
        f"""select s._batch_id as batch_id, s._file_name as file_name, s._sheet as sheet,
                   s._row as row_number, '{k}' as source_kind, d.reason_code, d.reason_detail,
                   s._raw as raw_row
            from stg_{k} as s join disp_{k} as d using (_file_id, _sheet_no, _row)
            where d.status = 'quarantined'"""
        for k in LOAD_ORDER
    )
    con.execute(f"create or replace table quarantine as {union} order by batch_id, file_name, sheet, row_number")
    counts = " union all ".join(
        f"select _file_id as file_id, d.status from stg_{k} join disp_{k} as d using (_file_id, _sheet_no, _row)"
        for k in LOAD_ORDER
    )
    con.execute(f"""
        create or replace table load_files as
        with c as (
            select file_id,
                   count(*) filter (where status = 'loaded') as loaded,
                   count(*) filter (where status = 'quarantined') as quarantined,
                   count(*) filter (where status = 'duplicate') as duplicate
            from ({counts}) group by file_id
        )
        select r.batch_id, r.file_name, r.source_kind, r.file_id as content_hash, r.rows_read,
               coalesce(c.loaded, 0) as rows_loaded, coalesce(c.quarantined, 0) as rows_quarantined,
               coalesce(c.duplicate, 0) as rows_duplicate, r.rows_non_data, r.status, r.reason,
        from reg_files as r left join c using (file_id)
        order by r.seq""")
    con.execute("create or replace table load_batches as select * from reg_batches order by started_at")
    con.execute("""create or replace table validation_results as
        select batch_id, suite, expectation, success, unexpected_count from reg_validation""")


# ---------------------------------------------------------------------------------------------
# the batch

def _content_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def collect(paths: list[Path]) -> tuple[list[Path], list[FileOutcome]]:
    """The files to read, and the paths refused before any byte is read (readers.path_problem):
    one bad path is a line in the summary, never a failed batch or a hang."""
    from pipelines.readers import path_problem, supported

    out: list[Path] = []
    refused: list[FileOutcome] = []

    def offer(x: Path, root: Path | None) -> None:
        problem = path_problem(x, root)
        if problem:
            refused.append(FileOutcome(x.name or str(x), None, "rejected", problem))
        else:
            out.append(x)

    for p in paths:
        if p.is_dir() and not p.is_symlink():
            for x in sorted(p.rglob("*")):
                if x.name.startswith(".") or x.name in IGNORED_NAMES:
                    continue
                if x.is_dir() and not x.is_symlink() and not supported(x):
                    continue  # walked by rglob; only a folder named like an export (x.xlsx) is reported
                offer(x, p)
        else:
            offer(p, None)
    return out, refused


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path))
    except duckdb.IOException as e:
        if "lock" in str(e).lower():
            raise IngestError(f"数据仓库正被另一个进程使用（可能有另一个导入在运行）/ the warehouse is in use "
                              f"by another process (another ingest running?): {path}") from e
        raise
    from pipelines.publish import sql_string

    con.execute(f"set memory_limit = {sql_string(config.memory_limit())}")
    con.execute("set enable_progress_bar = false")  # our own progress bar; DuckDB's garbles the summary
    if config.threads():
        con.execute(f"set threads = {int(config.threads())}")
    return con


def ingest(paths: list[Path], progress=None, build_marts: bool = True) -> IngestReport:
    """Load files/folders; returns what happened to every file. Raises IngestError if it cannot run."""
    from pipelines.normalise import normalise
    from pipelines.readers import read_file

    t0 = time.perf_counter()
    p = config.paths().ensure()
    key = config.secret(create=True)
    files, refused = collect(paths or [p.inbox])
    if not files and not refused:
        raise IngestError(f"没有可导入的文件 / nothing to ingest in {', '.join(map(str, paths or [p.inbox]))}")
    if not files:
        return IngestReport(None, refused, time.perf_counter() - t0, None)

    con = connect(p.warehouse)
    try:
        ensure_schema(con)
        raw_dir = None
        _remove_orphan_raw(con, p.raw)
        known = {r[0]: r[1] for r in con.execute("select file_id, status from reg_files").fetchall()}
        started = datetime.now().replace(microsecond=0)
        batch_id = started.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        outcomes: list[FileOutcome] = list(refused)
        todo: list[tuple[Path, str]] = []
        seen: set[str] = set()
        for f in files:
            h = _content_hash(f)
            if h in known or h in seen:
                outcomes.append(FileOutcome(f.name, None, "unchanged", "内容相同的文件已导入过 / already loaded"))
            else:
                seen.add(h)
                todo.append((f, h))
        if not todo:
            con.close()
            from pipelines.publish import is_stale, publish

            # Nothing new, but an earlier run may have been killed between its commit and publish.
            published = publish(p.warehouse, p.published) if is_stale(p.warehouse, p.published) else None
            return IngestReport(None, outcomes, time.perf_counter() - t0, published)

        raw_dir = p.raw / batch_id
        raw_dir.mkdir(parents=True, exist_ok=True)
        seq0 = con.execute("select coalesce(max(seq), 0) from reg_files").fetchone()[0]
        con.execute("begin transaction")
        con.execute("insert into reg_batches values (?, ?, null, 'running')", [batch_id, started])
        kinds: set[str] = set()
        timings: dict[str, float] = {}
        mark = time.perf_counter()
        files_done = []
        task = progress.add_task("读取与暂存 reading & staging", total=len(todo)) if progress else None
        # Each file is read, normalised and staged, then dropped: memory stays bounded by one file.
        for f, h in todo:
            dest = raw_dir / f"{h[:8]}_{f.name}"
            shutil.copy2(f, dest)  # raw is immutable: the copy is what was loaded
            dest.chmod(0o600)  # the original export, personal data and all: owner only
            res = read_file(f)
            kind = res.source.kind if res.source else None
            reason = res.error or ("; ".join(res.notes) if res.notes else None)
            rows_read = non_data = 0
            if not res.error:
                kinds.add(kind)
                for sheet_no, sheet in enumerate(res.sheets, start=1):
                    if sheet.export_time is None:
                        sheet.export_time = started  # SPEC §3.6: else the time it is ingested
                    frame = _derive(kind, normalise(res.source, sheet, key), key)
                    stage(con, res.source, frame,
                          {"file_id": h, "file_name": f.name, "batch_id": batch_id, "sheet_no": sheet_no})
                    rows_read += sheet.rows_read
                    non_data += sheet.non_data
            times = [sh.export_time for sh in res.sheets if sh.export_time is not None]
            files_done.append(dict(
                file_id=h, name=f.name, kind=kind, rows_read=rows_read, non_data=non_data,
                status="rejected" if res.error else "loaded", reason=reason, raw=str(dest),
                encoding=res.encoding, export=min(times) if times else started))
            del res
            if progress:
                progress.advance(task)
        # Load order (reg_files.seq): references first, then each kind's files in export-time order —
        # what "an earlier file" means for duplicates of non-snapshot sources within one batch.
        order = {k: i for i, k in enumerate(LOAD_ORDER)}
        files_done.sort(key=lambda d: (order.get(d["kind"], 99), d["export"], d["name"]))
        for i, d in enumerate(files_done, start=1):
            con.execute("insert into reg_files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [d["file_id"], d["name"], batch_id, seq0 + i, d["kind"], d["rows_read"],
                         d["non_data"], d["status"], d["reason"], d["raw"], d["encoding"]])
        timings["read_normalise_stage"] = time.perf_counter() - mark
        if progress:
            task = progress.add_task("校验与建模 validating & building", total=None)
        mark = time.perf_counter()
        rebuild(con)
        timings["dispositions_core"] = time.perf_counter() - mark
        mark = time.perf_counter()
        validate_batch(con, batch_id, kinds)
        timings["validate_gx"] = time.perf_counter() - mark
        mark = time.perf_counter()
        mart_rows: dict[str, int] = {}
        if build_marts:
            mart_rows = _build_marts(con)
        timings["marts"] = time.perf_counter() - mark
        mark = time.perf_counter()
        con.execute("update reg_batches set finished_at = ?, status = 'loaded' where batch_id = ?",
                    [datetime.now().replace(microsecond=0), batch_id])
        publish_tables(con)
        contract.enforce(con)  # data contracts (schema.yml) before commit and publish: a failing mart rolls back
        _pause_for_tests()
        con.execute("commit")
        outcomes += _outcomes(con, batch_id)
        con.execute("checkpoint")
        timings["commit"] = time.perf_counter() - mark
    except BaseException as exc:
        if raw_dir is not None:
            shutil.rmtree(raw_dir, ignore_errors=True)  # a failed batch leaves no copies behind
        try:
            con.execute("rollback")
        except Exception:  # noqa: BLE001 - no transaction open
            pass
        con.close()
        if _disk_full(exc):
            raise IngestError(_disk_full_message(p.home, files)) from exc
        raise
    con.close()
    from pipelines.publish import publish

    mark = time.perf_counter()
    try:
        published = publish(p.warehouse, p.published)
    except Exception as exc:
        if _disk_full(exc):  # committed but not published: the next ingest or dashboard start publishes
            raise IngestError(_disk_full_message(p.home, files)) from exc
        raise
    timings["publish"] = time.perf_counter() - mark
    return IngestReport(batch_id, outcomes, time.perf_counter() - t0, published, mart_rows, timings)


def _disk_full(exc: BaseException) -> bool:
    import errno

    return (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or (
        isinstance(exc, duckdb.Error) and "no space left" in str(exc).lower())


def _disk_full_message(home: Path, files: list[Path]) -> str:
    """One line for a full disk: what it needs (the batch's size, its raw copy and the warehouse's
    working space, roughly three times the input) and that nothing changed."""
    need = 3 * sum(f.stat().st_size for f in files if f.exists()) / 2**20
    free = shutil.disk_usage(home).free / 2**20 if home.exists() else 0
    return (f"磁盘空间不足：{home} 剩余约 {free:,.0f} MB，本次导入需要约 {need:,.0f} MB；数据未改变，清理空间后重新导入"
            f" / disk full: about {free:,.0f} MB free at {home}, this ingest needs about {need:,.0f} MB; nothing "
            "changed, free some space and ingest again")


def _remove_orphan_raw(con, raw_root: Path) -> None:
    """raw/<batch>/ folders of batches that never committed (killed runs): their rows were rolled
    back, so the copies are neither audit trail nor needed for re-judging. Runs under the lock."""
    committed = {r[0] for r in con.execute("select batch_id from reg_batches").fetchall()}
    for d in raw_root.iterdir() if raw_root.exists() else ():
        if d.is_dir() and d.name not in committed:
            shutil.rmtree(d, ignore_errors=True)


def _pause_for_tests() -> None:
    """XIANGZHI_PAUSE_BEFORE_COMMIT=seconds holds the finished-but-uncommitted batch, so tests can kill
    the process at the worst moment and check nothing changed."""
    seconds = float(os.environ.get("XIANGZHI_PAUSE_BEFORE_COMMIT", "0") or 0)
    if seconds:
        print("PAUSED_BEFORE_COMMIT", flush=True)
        time.sleep(seconds)


def _build_marts(con) -> dict[str, int]:
    try:
        from pipelines.models.runner import build_marts
    except ImportError:  # marts not built yet in this checkout
        return {}
    return build_marts(con)


def _outcomes(con, batch_id: str) -> list[FileOutcome]:
    rows = con.execute("""
        select file_name, source_kind, status, reason, rows_read, rows_loaded, rows_quarantined,
               rows_duplicate, rows_non_data, content_hash
        from load_files where batch_id = ? order by file_name""", [batch_id]).fetchall()
    reasons: dict[str, dict[str, int]] = {}
    for fname, code, n in con.execute("""
            select file_name, reason_code, count(*) from quarantine where batch_id = ?
            group by all""", [batch_id]).fetchall():
        reasons.setdefault(fname, {})[code] = n
    out = []
    for r in rows:
        by = reasons.get(r[0], {})
        out.append(FileOutcome(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8],
                               dict(sorted(by.items(), key=lambda kv: REASON_CODES.index(kv[0])))))
    return out


# ---------------------------------------------------------------------------------------------
# CLI

def wide_console():
    """Piped output (CI logs, files) gets a wide table instead of rich's 80-column default."""
    from rich.console import Console

    c = Console()
    return c if c.is_terminal else Console(width=200)


def print_report(report: IngestReport, console=None) -> None:
    from rich.table import Table

    console = console or wide_console()
    t = Table(title=f"导入结果 ingest summary — 批次 batch {report.batch_id or '（无新文件 nothing new）'}",
              show_lines=False)
    for col, just in (("文件 file", "left"), ("类型 kind", "left"), ("读取 read", "right"),
                      ("载入 loaded", "right"), ("隔离 quarantined", "right"), ("重复 dup", "right"),
                      ("非数据 non-data", "right"), ("隔离原因 / 说明 reasons / notes", "left")):
        t.add_column(col, justify=just, overflow="fold")
    for f in report.files:
        if f.status == "loaded":
            note = ", ".join(f"{k} {v}" for k, v in f.by_reason.items())
            if f.reason:
                note = (note + "; " if note else "") + f.reason
            t.add_row(f.file_name, f.source_kind or "", f"{f.rows_read:,}", f"{f.rows_loaded:,}",
                      f"{f.rows_quarantined:,}", f"{f.rows_duplicate:,}", f"{f.rows_non_data:,}", note)
        else:
            label = "[red]拒收 rejected[/red]" if f.status == "rejected" else "[dim]未变 unchanged[/dim]"
            t.add_row(f.file_name, label, "", "", "", "", "", f.reason or "")
    console.print(t)
    loaded = [f for f in report.files if f.status == "loaded"]
    rejected = sum(f.status == "rejected" for f in report.files)
    rows = sum(f.rows_read for f in loaded)
    rate = rows / report.seconds if report.seconds else 0
    console.print(
        f"文件 files {len(loaded)} 载入 loaded, {rejected} 拒收 rejected, "
        f"{sum(f.status == 'unchanged' for f in report.files)} 未变 unchanged · "
        f"行 rows read {rows:,} = loaded {sum(f.rows_loaded for f in loaded):,} + quarantined "
        f"{sum(f.rows_quarantined for f in loaded):,} + duplicates {sum(f.rows_duplicate for f in loaded):,}"
        f" + non-data {sum(f.rows_non_data for f in loaded):,} · {report.seconds:.1f} s ({rate:,.0f} rows/s)")
    if report.published:
        console.print(f"已发布 published: {report.published}")


def ingest_cli(paths: list[Path], quiet: bool = False) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from pipelines.errors import UserError

    console = wide_console()
    try:
        if quiet or not console.is_terminal:
            report = ingest(paths)
        else:
            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=console, transient=True) as progress:
                report = ingest(paths, progress=progress)
    except (IngestError, UserError) as e:
        console.print(f"[red]错误 error:[/red] {e}")
        return 2
    print_report(report, console)
    return 0
