"""Validation: each source's Great Expectations suite on this batch's rows; one stored result per
expectation and batch (reg_validation → validation_results, the data-quality page). The row-level
verdicts are SQL (dispositions.py); the suites are the same rules as GX expectations, so the stored
results and the quarantine agree (a test compares their counts rule by rule).
"""

from __future__ import annotations

from pipelines.expectations import run_suite, suite_columns
from pipelines.ingest.tables import name
from pipelines.sources import DATE, LOAD_ORDER, SOURCES

VALIDATION_CHUNK_ROWS = 500_000  # bounds the pandas copy GX needs; one GX run per chunk


def validate_batch(con, batch_id: str, kinds: set[str]) -> None:
    """Run each source's GX suite on this batch's rows (in chunks of whole files, so memory stays
    bounded at province scale); store one result per expectation, counts summed over chunks."""
    for kind in LOAD_ORDER:
        if kind not in kinds:
            continue
        src = SOURCES[kind]
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
            frame = con.execute(f"select {cols} from {name('chk', kind)} where _batch_id = ? "
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
