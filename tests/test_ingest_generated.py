"""The generator's manifest against a real ingest of its small county (issue #4)."""

from __future__ import annotations

import json
from collections import Counter

import duckdb
import pytest

from pipelines.sources import REASON_CODES


@pytest.fixture(scope="module")
def published(demo_home):
    con = duckdb.connect(str(demo_home / "published" / "xiangzhi.duckdb"), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def manifest(demo_home):
    return json.loads((demo_home / "inbox" / "manifest.json").read_text(encoding="utf-8"))


def test_every_injected_bad_row_is_quarantined_with_its_reason(published, manifest):
    got = {(f, s, r): c for f, s, r, c in published.execute(
        "select file_name, sheet, row_number, reason_code from quarantine").fetchall()}
    wrong = [(b["file"], b["sheet"], b["row_number"], b["reason_code"], got.get((b["file"], b["sheet"], b["row_number"])))
             for b in manifest["bad_rows"] if got.get((b["file"], b["sheet"], b["row_number"])) != b["reason_code"]]
    assert not wrong, wrong[:10]
    assert {b["reason_code"] for b in manifest["bad_rows"]} == set(REASON_CODES)


def test_nothing_quarantined_that_was_not_injected(published, manifest):
    injected = {(b["file"], b["sheet"], b["row_number"]) for b in manifest["bad_rows"]}
    extra = [r for r in published.execute(
        "select file_name, sheet, row_number, reason_code, reason_detail from quarantine").fetchall()
        if tuple(r[:3]) not in injected]
    assert not extra, extra[:10]


def test_per_file_accounting_matches_manifest(published, manifest):
    rows = {r[0]: r[1:] for r in published.execute("""
        select file_name, rows_read, rows_loaded, rows_quarantined, rows_duplicate, rows_non_data, status
        from load_files""").fetchall()}
    for f in manifest["files"]:
        read, loaded, quarantined, dup, non_data, status = rows[f["file"]]
        assert status == "loaded", f["file"]
        assert read == loaded + quarantined + dup + non_data, f["file"]
        assert (read, non_data, dup, quarantined) == (f["rows_read"], f["non_data"], f["duplicates"], f["bad"]), f["file"]


def test_quarantine_reasons_by_file_add_up(published):
    by_file = Counter(dict(published.execute(
        "select file_name, count(*) from quarantine group by all").fetchall()))
    assert by_file == Counter(dict(published.execute(
        "select file_name, rows_quarantined from load_files where rows_quarantined > 0").fetchall()))


def test_demo_publishes_marts(published):
    n = dict(published.execute("""
        select 'iv', count(*) from indicator_values union all select 'vs', count(*) from village_scores
        union all select 'hs', count(*) from household_stars""").fetchall())
    assert n["iv"] > 0 and n["vs"] > 0 and n["hs"] > 0


def _cells(value) -> set[str]:
    """Every scalar inside a cell, JSON documents (raw rows) opened up."""
    if isinstance(value, str) and value.startswith("{"):
        try:
            return {str(v) for v in json.loads(value).values()}
        except ValueError:
            pass
    return {str(value)}


def test_no_personal_data_in_clear_in_any_duckdb_file(demo_home):
    """Names, id numbers and phones of the generated registry and dispute ledgers appear nowhere,
    neither as a value nor inside a raw-row JSON (grid workers' names are public and excluded)."""
    from pipelines.readers import read_file

    secrets: set[str] = set()
    public: set[str] = set()
    for f in (demo_home / "inbox").iterdir():
        res = read_file(f)
        if res.error or res.source is None:
            continue
        for sheet in res.sheets:
            for col in ("head_name", "id_number", "phone", "parties"):
                if col in sheet.rows.columns:
                    secrets.update(v.strip() for v in sheet.rows[col].drop_nulls().to_list())
            for col in ("worker", "reporter", "grid_head", "mediator"):
                if col in sheet.rows.columns:
                    public.update(v.strip() for v in sheet.rows[col].drop_nulls().to_list())
    secrets -= public
    assert len(secrets) > 1000  # the registry really was read
    for db in (demo_home / "warehouse" / "xiangzhi.duckdb", demo_home / "published" / "xiangzhi.duckdb"):
        con = duckdb.connect(str(db), read_only=True)
        values: set[str] = set()
        for (t,) in con.execute("select table_name from duckdb_tables()").fetchall():
            for row in con.execute(f'select * from "{t}"').fetchall():
                for v in row:
                    if v is not None:
                        values |= _cells(v)
        con.close()
        leaked = sorted(secrets & values)
        assert not leaked, (db.name, leaked[:10])


def test_each_rule_counts_the_same_rows_in_gx_and_in_sql(demo_home):
    """One declaration, two forms: the GX expectation and the SQL predicate of every quarantine rule
    agree on how many rows of the batch break it."""
    from pipelines.expectations import quarantine_rules
    from pipelines.load import _checked_view_sql
    from pipelines.sources import LOAD_ORDER

    con = duckdb.connect(str(demo_home / "warehouse" / "xiangzhi.duckdb"), read_only=True)
    try:
        gx_counts = {(suite, rule): n for suite, rule, n in con.execute(
            "select suite, rule, unexpected_count from reg_validation where reason is not null").fetchall()}
        compared = 0
        for kind in LOAD_ORDER:
            con.execute(f"create or replace temp view chk_{kind} as {_checked_view_sql(kind)}")
            for rule in quarantine_rules(kind):
                if rule.gx is None:
                    continue
                sql_n = con.execute(f"select count(*) from chk_{kind} where coalesce(({rule.violation}), false)").fetchone()[0]
                assert gx_counts[(f"xiangzhi_{kind}", rule.name)] == sql_n, (kind, rule.name)
                compared += 1
        assert compared > 50
    finally:
        con.close()
