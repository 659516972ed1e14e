"""The per-file registry and the contract tables built from it.

`reg_files` (tables.REGISTERS) holds one row per file; `FileOutcome` is what an ingest reports per
file; `publish_tables` turns the registers and the dispositions into the published `quarantine`,
`load_files`, `load_batches` and `validation_results`. A column added to reg_files reaches
load_files by adding it to the `load_files` select below and to FileOutcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipelines.ingest.tables import ROW_KEY_SQL
from pipelines.sources import LOAD_ORDER, REASON_CODES
from pipelines.sql_literals import month_literal, sql_string


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
    judged: str = ""  # "full" (every staged row re-judged) or "incremental" (the batch's ids)

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files if f.status == "loaded")


def register_files(con, batch_id: str, seq0: int, files_done: list[dict]) -> None:
    """One reg_files row per newly offered file, in load order: references first, then each kind's
    files in export-time order — what "an earlier file" means for duplicates of non-snapshot sources
    within one batch."""
    order = {k: i for i, k in enumerate(LOAD_ORDER)}
    files_done.sort(key=lambda d: (order.get(d["kind"], 99), d["export"], d["name"]))
    for i, d in enumerate(files_done, start=1):
        con.execute("insert into reg_files (file_id, file_name, batch_id, seq, source_kind, rows_read, "
                    "rows_non_data, status, reason, raw_path, encoding, profile) "
                    "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [d["file_id"], d["name"], batch_id, seq0 + i, d["kind"], d["rows_read"],
                     d["non_data"], d["status"], d["reason"], d["raw"], d["encoding"], d.get("profile")])


def _dispositions(kind: str, only: str) -> str:
    """disp_<kind>, or only its rows of the files `only` selects. The row key holds the file id, so
    a join of the staged rows of those files with it is the same; filtered on both sides the join's
    hash table holds those files' rows, not every disposition (quarantine after a province's second
    batch: 605 -> 117 MiB, 0.72 -> 0.15 s)."""
    return f"(select * from disp_{kind} where _file_id in ({only}))" if only else f"disp_{kind}"


def _quarantine_sql(only: str = "") -> str:
    return " union all ".join(
        f"""select s._batch_id as batch_id, s._file_name as file_name, s._sheet as sheet,
                   s._row as row_number, '{k}' as source_kind, d.reason_code, d.reason_detail,
                   s._raw as raw_row
            from stg_{k} as s join {_dispositions(k, only)} as d using ({ROW_KEY_SQL})
            where d.status = 'quarantined'{f" and s._file_id in ({only})" if only else ""}"""
        for k in LOAD_ORDER
    )


# An input row split into parts (rows.split: one visit per household named) is counted once, by
# the best of its parts' dispositions: loaded if any part loaded, else quarantined if any part was,
# else duplicate.
_ROW_STATUS = ("case when bool_or(d.status = 'loaded') then 'loaded' "
               "when bool_or(d.status = 'quarantined') then 'quarantined' else 'duplicate' end")


def _load_files_sql(only: str = "") -> str:
    # Rows are counted as input rows (SPEC §3.8): a household grouped from n person rows counts n
    # (its `_rows`), whatever its disposition; the parts of a split row count as that one row.
    # Counted from the dispositions alone (the row key holds the file, sheet, row and part): a whole
    # row (_part = 0, nearly all) counts 1, plus `_rows - 1` for the few staged rows that stand for
    # several, which alone are joined with their dispositions. Joining every staged row for `_rows`
    # built a hash table of every disposition (~0.5 GB after a province's third batch).
    def where(alias: str, *extra: str) -> str:
        return " where " + " and ".join(list(extra) + ([f"{alias}._file_id in ({only})"] if only else []))

    counts = " union all ".join(
        f"select d._file_id as file_id, d.status, 1 as n from disp_{k} as d{where('d', 'd._part = 0')} "
        "union all "
        f"select s._file_id as file_id, d.status, s._rows - 1 as n from stg_{k} as s "
        f"join {_dispositions(k, only)} as d using ({ROW_KEY_SQL})"
        f"{where('s', 's._part = 0', 's._rows is not null', 's._rows <> 1')} union all "
        f"select d._file_id as file_id, {_ROW_STATUS} as status, 1 as n from disp_{k} as d"
        f"{where('d', 'd._part > 0')} group by d._file_id, d._sheet_no, d._row"
        for k in LOAD_ORDER
    )
    return f"""
        with c as (
            select file_id,
                   sum(n) filter (where status = 'loaded') as loaded,
                   sum(n) filter (where status = 'quarantined') as quarantined,
                   sum(n) filter (where status = 'duplicate') as duplicate
            from ({counts}) group by file_id
        )
        select r.batch_id, r.file_name, r.source_kind, r.file_id as content_hash, r.rows_read,
               coalesce(c.loaded, 0) as rows_loaded, coalesce(c.quarantined, 0) as rows_quarantined,
               coalesce(c.duplicate, 0) as rows_duplicate, r.rows_non_data, r.status, r.reason,
               r.profile,
        from reg_files as r left join c using (file_id)
        {f"where r.file_id in ({only})" if only else ""}
        order by r.seq"""


def _can_publish_incrementally(con) -> bool:
    have = {r[0] for r in con.execute(
        "select table_name from duckdb_tables() where database_name in (current_database(), 'temp')").fetchall()}
    return {"_affected_files", "quarantine", "load_files"} <= have


def publish_tables(con, incremental: bool = False) -> None:
    """The contract tables that come from the registers (quarantine, load_files, …).

    incremental: after an incremental core.rebuild, only the files in `_affected_files` (the
    batch's files and those holding re-judged rows) can have changed, so only their quarantine rows
    and load_files rows are replaced: the cost follows the batch, not the history, and the tables
    equal a full rebuild (tests/test_ingest_incremental.py). Otherwise (or without those tables)
    everything is rebuilt from every staged row.
    """
    if incremental and _can_publish_incrementally(con):
        # quarantine has no file id: its rows are replaced by (batch, file name), so every file
        # sharing a batch and a name with an affected file is republished with it.
        con.execute("""create or replace temp table _publish_files as
            select r.file_id, r.batch_id, r.file_name from reg_files as r
            where (r.batch_id, r.file_name) in (select (a.batch_id, a.file_name) from reg_files as a
                                                where a.file_id in (select file_id from _affected_files))""")
        only = "select file_id from _publish_files"
        con.execute("delete from quarantine where (batch_id, file_name) in "
                    "(select (batch_id, file_name) from _publish_files)")
        con.execute(f"insert into quarantine {_quarantine_sql(only)} order by batch_id, file_name, sheet, row_number")
        # Earlier files' counts are updated in place and the batch's files appended (highest seq):
        # load_files keeps its seq order as a full rebuild gives it.
        con.execute(f"create or replace temp table _publish_load_files as {_load_files_sql(only)}")
        con.execute("""update load_files as l set rows_loaded = n.rows_loaded,
                           rows_quarantined = n.rows_quarantined, rows_duplicate = n.rows_duplicate
                       from _publish_load_files as n where l.content_hash = n.content_hash""")
        con.execute("insert into load_files select * from _publish_load_files "
                    "where content_hash not in (select content_hash from load_files)")
    else:
        con.execute(f"create or replace table quarantine as {_quarantine_sql()} "
                    "order by batch_id, file_name, sheet, row_number")
        con.execute(f"create or replace table load_files as {_load_files_sql()}")
    con.execute("create or replace table load_batches as select * from reg_batches order by started_at")
    con.execute("""create or replace table validation_results as
        select batch_id, suite, expectation, success, unexpected_count from reg_validation""")


def outcomes(con, batch_id: str) -> list[FileOutcome]:
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


def replaced_rows(con, batch_id: str, db: str = "main") -> dict[str, str]:
    """table → a condition over its rows selecting exactly the rows `batch_id` replaced, for every
    published table it changed by id (reg_fact_delta, the table's one key column) or by month
    (reg_month_delta, a month of its key): all its other rows are as the batch before left them.
    A table not named may have changed anywhere. Publish copies these rows; the contract checks them.
    `db` is the database holding the registers (the warehouse attached as `wh` by publish)."""
    from pipelines.models.contract import key, tables
    from pipelines.models.runner import month_models

    b = sql_string(batch_id)
    out: dict[str, str] = {}
    for table, ids in con.execute(f"select table_name, count(id) from {db}.reg_fact_delta where batch_id = ? "
                                  "group by all having bool_or(id is null)", [batch_id]).fetchall():
        cols = key(table)
        if len(cols) == 1:
            # No ids: a table the batch did not rebuild; `false` reads none of its rows.
            out[table] = (f'"{cols[0]}" in (select id from {db}.reg_fact_delta where batch_id = {b} '
                          f"and table_name = {sql_string(table)} and id is not null)") if ids else "false"
    by_month = month_models()
    for (table,) in con.execute(f"select distinct table_name from {db}.reg_month_delta "
                                "where batch_id = ? and month is null", [batch_id]).fetchall():
        decl = by_month.get(table)
        columns = tables().get(table, {})
        # The month must come from the key: then a key's rows are all inside the months or all outside.
        if decl and decl.column in columns and decl.column in key(table):
            # The months as literals of the column's own type, on the bare column: row groups are
            # pruned by their min/max (household_month_points' key check 0.67 → 0.0x s on the county).
            months = [r[0] for r in con.execute(f"select distinct month from {db}.reg_month_delta where "
                                                "batch_id = ? and table_name = ? and month is not null "
                                                "order by month", [batch_id, table]).fetchall()]
            literals = ", ".join(month_literal(m, columns[decl.column]) for m in months)
            out[table] = f'"{decl.column}" in ({literals})' if months else "false"
    return out
