"""Every table the ingestion engine writes, declared once with its grain.

Per source kind (`<kind>` from sources.LOAD_ORDER) the engine keeps one persistent table and builds
four working ones per ingest; `WORK_TABLES` says what each holds and at what grain, and `name()` is
how every builder spells them. The registers (reg_*, ref_*) are the engine's own bookkeeping in the
warehouse file; the contract tables published from them (quarantine, load_files, …) are in
models/schema.yml.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipelines.sources import BOOL, DATE, DATETIME, FLOAT, INT, LOAD_ORDER, POINTS, SOURCES, Source

# One staged row: file content hash, sheet, row number, and the part of that input row (0: the row
# whole; 1…n: the households a free-text column names, rows.split of an import profile). Every join of
# staged rows, dispositions and registers uses this key.
ROW_KEY = ("_file_id", "_sheet_no", "_row", "_part")
ROW_KEY_SQL = ", ".join(ROW_KEY)


def row_key_sql(alias: str) -> str:
    """The key's columns qualified by a table alias: 's._file_id, s._sheet_no, …'."""
    return ", ".join(f"{alias}.{c}" for c in ROW_KEY)


@dataclass(frozen=True)
class WorkTable:
    prefix: str
    grain: str
    lifetime: str  # "warehouse" (persists), "temp" (one ingest, in memory), "view"
    holds: str


WORK_TABLES = {t.prefix: t for t in (
    WorkTable("stg", "one row per staged row (ROW_KEY: _file_id, _sheet_no, _row, _part)", "warehouse",
              "every row of every file ever loaded: typed values, `f__bad` parse reasons, masked _raw"),
    WorkTable("chk", "as stg", "view",
              "stg plus the file's load order (_seq) and the reference-lookup helper columns the rules "
              "read (_grid_known, _village_matches, …)"),
    WorkTable("disp", "as stg", "temp",
              "where the row ends: status loaded / quarantined / duplicate, reason code and detail"),
    WorkTable("loaded", "as stg, status = loaded", "temp", "the loaded rows (chk columns, without _raw)"),
    WorkTable("cur", "one row per record id (the source's id field)", "temp",
              "a record's current state: snapshots the latest export, others the one loaded row"),
)}


def name(prefix: str, kind: str) -> str:
    """The table of one kind at one step, e.g. name('disp', 'visits') → 'disp_visits'."""
    if prefix not in WORK_TABLES or kind not in SOURCES:
        raise ValueError(f"no working table {prefix}_{kind}")
    return f"{prefix}_{kind}"


SQL_TYPES = {INT: "BIGINT", FLOAT: "DOUBLE", POINTS: "DOUBLE", DATE: "DATE", DATETIME: "TIMESTAMP",
             BOOL: "BOOLEAN"}
META_COLUMNS = {
    "_file_id": "VARCHAR", "_file_name": "VARCHAR", "_batch_id": "VARCHAR",
    "_sheet": "VARCHAR", "_sheet_no": "INTEGER", "_row": "BIGINT", "_export_time": "TIMESTAMP",
    "_raw": "JSON",
    # Import profiles (SPEC §3.8): input rows a staged row stands for (persons grouped into a
    # household; NULL = 1), and "the format carries no entry time" (out of entry_timeliness_rate).
    "_rows": "BIGINT", "_entry_unknown": "BOOLEAN",
}
# The fields a file carried, as |f1|f2| (a column or a derivation; NULL = all: rows staged before): a field
# a file lacks keeps the value of the latest export that carried it (core SQL). Staged last, so that
# the column added to an older warehouse's table sits where the insert puts it. `_head_key`: the keyed
# hash of a household head's name (registry rows, and rows naming their household by its head).
CARRIED_COLUMN = {"_carried": "VARCHAR", "_head_key": "VARCHAR"}
# The part of its input row a staged row is (ROW_KEY): staged after the columns above, for the same
# reason; an older warehouse's rows get 0 (each was its input row whole).
PART_COLUMN = {"_part": "INTEGER"}
# Columns the loader derives at staging time (beyond what normalise returns).
EXTRA_COLUMNS = {
    "households": {"household_key": "VARCHAR"},
    "visits": {"household_key": "VARCHAR"},
    "points": {"household_key": "VARCHAR"},
    "redemptions": {"household_key": "VARCHAR"},
    "disputes": {"township_key": "VARCHAR", "village_key": "VARCHAR"},
    "grids": {"_centroid_lon": "DOUBLE", "_centroid_lat": "DOUBLE"},
}


def stage_columns(src: Source) -> dict[str, str]:
    """stg_<kind>'s columns, driven by the source's Field list: a field added in sources.py is staged
    (as `f` and `f__bad`) with no change here."""
    cols = dict(META_COLUMNS)
    for f in src.fields:
        cols[f.name] = SQL_TYPES.get(f.type, "VARCHAR")
        cols[f"{f.name}__bad"] = "VARCHAR"
    cols.update(EXTRA_COLUMNS.get(src.kind, {}))
    cols.update(CARRIED_COLUMN)
    cols.update(PART_COLUMN)
    return cols


# The registers, grain first. reg_files is the per-file registry load_files is published from: a
# column added here (e.g. the import profile a file was read with) reaches load_files via registry.py.
REGISTERS = {
    # one row per file ever offered with new content (file_id = content hash); seq = load order
    "reg_files": """file_id varchar, file_name varchar, batch_id varchar, seq bigint, source_kind varchar,
        rows_read bigint, rows_non_data bigint, status varchar, reason varchar, raw_path varchar,
        encoding varchar, profile varchar""",
    # one row per (level, code): village and township outlines dissolved from the grids
    "ref_boundaries": "level varchar, code varchar, geometry varchar, label_lon double, label_lat double",
    # one row per ingest that staged something
    "reg_batches": "batch_id varchar, started_at timestamp, finished_at timestamp, status varchar",
    # the latest batch's by-id changes of the per-id core tables (core.per_id_models): one row per
    # (table, id) it replaced, plus (table, NULL) for every table whose change is exactly those ids;
    # publish applies them to the previous published copy instead of copying the whole table
    "reg_fact_delta": "batch_id varchar, table_name varchar, id varchar",
    # the latest batch's by-month changes of the marts kept by month (models/runner.py): one row per
    # (table, month) it recomputed, plus (table, NULL) for every table whose change is exactly those
    # months; publish applies them like reg_fact_delta
    "reg_month_delta": "batch_id varchar, table_name varchar, month date",
    # one row: the contract (schema.yml's hash) the warehouse was last checked against in full or
    # by the rows each batch since replaced, and that batch (contract.enforce scopes its checks by it)
    "reg_contract_state": "schema_hash varchar, batch_id varchar",
    # one row per (batch_id, suite, expectation, rule): a GX result of one batch
    "reg_validation": """batch_id varchar, suite varchar, expectation varchar, rule varchar, reason varchar,
        success boolean, unexpected_count bigint, error varchar""",
}
# one row per admin unit: its name as a lookup key (rebuilt each ingest from cur_admin_units)
REF_NAMES = "level varchar, code varchar, parent_code varchar, name_key varchar"


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    for kind in LOAD_ORDER:
        cols = ", ".join(f'"{c}" {t}' for c, t in stage_columns(SOURCES[kind]).items())
        con.execute(f"create table if not exists {name('stg', kind)} ({cols})")
    for table, cols in REGISTERS.items():
        con.execute(f"create table if not exists {table} ({cols})")
    # Import profile per file (SPEC §3.8); warehouses made before profiles get the column.
    con.execute("alter table reg_files add column if not exists profile varchar")
    # Fields a file carried (issue #11); warehouses staged before get the column, NULL = all fields.
    for kind in LOAD_ORDER:
        for col, typ in CARRIED_COLUMN.items():
            con.execute(f'alter table {name("stg", kind)} add column if not exists "{col}" {typ}')
        for col, typ in PART_COLUMN.items():
            con.execute(f'alter table {name("stg", kind)} add column if not exists "{col}" {typ} default 0')
