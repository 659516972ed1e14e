"""Validation: each source's Great Expectations suite on this batch's rows; one stored result per
expectation and batch (reg_validation → validation_results, the data-quality page). The row-level
verdicts are SQL (dispositions.py); the suites are the same rules as GX expectations, so the stored
results and the quarantine agree (a test compares their counts rule by rule).

GX runs as SQL in an in-memory DuckDB database holding a columnar copy of the batch's rows (only
the suite's columns); why a copy and not the warehouse itself: pipelines.expectations._sql_database.
"""

from __future__ import annotations

from pipelines.expectations import run_suite, suite_columns
from pipelines.ingest.tables import name
from pipelines.sources import LOAD_ORDER

# Rows per GX run, in whole files: bounds the copy GX validates (one run costs GX ~1 s fixed, so
# fewer bigger runs are faster; ~1 M rows of suite columns are a few hundred MB).
VALIDATION_CHUNK_ROWS = 1_000_000


def validate_batch(con, batch_id: str, kinds: set[str]) -> None:
    """Run each source's GX suite on this batch's rows (in chunks of whole files, so memory stays
    bounded at province scale); store one result per expectation, counts summed over chunks."""
    for kind in LOAD_ORDER:
        if kind not in kinds:
            continue
        sizes = con.execute(f"select _file_id, count(*) from {name('stg', kind)} where _batch_id = ? "
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
            # Streamed as Arrow record batches straight into GX's database: no second copy here.
            rows = con.sql(f"select {cols} from {name('chk', kind)} where _batch_id = ? "
                           "and list_contains(?, _file_id)", params=[batch_id, files]).to_arrow_reader()
            for r in run_suite(kind, rows):
                k = r["expectation"] + "|" + (r["rule"] or "")
                if k not in totals:
                    totals[k] = dict(r)
                else:
                    t = totals[k]
                    t["success"] = t["success"] and r["success"]
                    t["unexpected_count"] += r["unexpected_count"]
                    t["error"] = t["error"] or r["error"]
            del rows
        for r in totals.values():
            con.execute("insert into reg_validation values (?, ?, ?, ?, ?, ?, ?, ?)",
                        [batch_id, r["suite"], r["expectation"], r["rule"], r["reason"], r["success"],
                         r["unexpected_count"], r["error"]])
