"""GX validation (issue #12 item 3): the suites run as SQL in an in-memory DuckDB copy of the batch's
rows; what they store must be what the pandas route stored (same expectations, rules, counts)."""

from __future__ import annotations

import duckdb

from pipelines.load import ingest
from tests import builders as b


def test_sql_route_counts_what_the_pandas_route_counted(demo_home):
    """Every suite on every checked row of the generated county: the DuckDB SQL route and the pandas
    route agree expectation by expectation (unexpected counts and success), and faults exist to count."""
    from pipelines.expectations import run_suite, suite_columns
    from pipelines.load import _checked_view_sql
    from pipelines.sources import DATE, LOAD_ORDER, SOURCES

    con = duckdb.connect(str(demo_home / "warehouse" / "xiangzhi.duckdb"), read_only=True)
    failing = compared = 0
    try:
        for kind in LOAD_ORDER:
            con.execute(f"create or replace temp view chk_{kind} as {_checked_view_sql(kind)}")
            select = "select " + ", ".join(f'"{c}"' for c in suite_columns(kind)) + f" from chk_{kind}"
            sql = run_suite(kind, con.sql(select).to_arrow_reader())
            frame = con.execute(select).df()
            for f in SOURCES[kind].fields:  # what the pandas route needed: timestamps, not dates
                if f.type == DATE and f.name in frame:
                    frame[f.name] = frame[f.name].astype("datetime64[us]")
            pandas = run_suite(kind, frame, engine="pandas")
            key = ("expectation", "rule", "reason", "success", "unexpected_count")
            assert [tuple(r[k] for k in key) for r in sql] == [tuple(r[k] for k in key) for r in pandas], kind
            failing += sum(r["unexpected_count"] > 0 for r in sql)
            compared += len(sql)
    finally:
        con.close()
    assert compared > 60 and failing > 20, (compared, failing)


def test_gx_database_holds_no_rows_after_a_run():
    """The rows copied for GX (pseudonymised, but a batch's worth) live only for their run."""
    import pyarrow as pa

    from pipelines.expectations import _sql_database, run_suite

    rows = pa.table({"redemption_id": ["R1"], "redemption_id__bad": [None]})
    try:
        run_suite("redemptions", rows)
    except RuntimeError:
        pass  # the suite's other columns are missing: it stops (test_ingest), and still cleans up
    con, _ = _sql_database()
    assert con.cursor().execute("select count(*) from duckdb_tables()").fetchall() == [(0,)]


def test_each_batch_validates_only_its_own_rows(home, tmp_path):
    """Results are stored per batch and count that batch's rows, not the warehouse's."""
    ingest(b.write_reference(tmp_path / "ref"))
    f1 = b.write_csv(tmp_path / "events_20250630.csv", b.EVENT_HEADER, [b.event("E1", grid="1"), b.event("E2")])
    ingest([f1])
    f2 = b.write_csv(tmp_path / "events_20250701.csv", b.EVENT_HEADER,
                     [b.event("E3", grid="2"), b.event("E4", grid="3"), b.event("E5")])
    ingest([f2])
    con = duckdb.connect(str(home / "warehouse" / "xiangzhi.duckdb"), read_only=True)
    try:
        rows = con.execute("""select v.unexpected_count from reg_validation v
                              join (select batch_id, row_number() over (order by started_at) n from reg_batches) b
                              using (batch_id)
                              where v.suite = 'xiangzhi_events' and v.expectation like '%_grid_known%'
                              order by b.n""").fetchall()
    finally:
        con.close()
    assert rows[-2:] == [(1,), (2,)]
