"""The per-file registry and the contract tables built from it.

`reg_files` (tables.REGISTERS) holds one row per file; `FileOutcome` is what an ingest reports per
file; `publish_tables` turns the registers and the dispositions into the published `quarantine`,
`load_files`, `load_batches` and `validation_results`. A column added to reg_files reaches
load_files by adding it to the `load_files` select below and to FileOutcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipelines.sources import LOAD_ORDER, REASON_CODES


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


def register_files(con, batch_id: str, seq0: int, files_done: list[dict]) -> None:
    """One reg_files row per newly offered file, in load order: references first, then each kind's
    files in export-time order — what "an earlier file" means for duplicates of non-snapshot sources
    within one batch."""
    order = {k: i for i, k in enumerate(LOAD_ORDER)}
    files_done.sort(key=lambda d: (order.get(d["kind"], 99), d["export"], d["name"]))
    for i, d in enumerate(files_done, start=1):
        con.execute("insert into reg_files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [d["file_id"], d["name"], batch_id, seq0 + i, d["kind"], d["rows_read"],
                     d["non_data"], d["status"], d["reason"], d["raw"], d["encoding"]])


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
