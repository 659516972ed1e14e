"""Publishing an incremental batch by id (issue #12): the published copy one batch behind gets the
batch's fact rows replaced by id, keeps the core tables the batch did not rebuild, and gets every
other table copied whole; the result equals the warehouse's
tables as multisets, and a copy further behind is copied in full."""

from __future__ import annotations

import shutil
from collections import Counter

import duckdb
import pytest

from pipelines import config, publish
from pipelines.ingest import core
from pipelines.load import ingest
from pipelines.sources import SOURCES

MARK = " (planted)"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    from pipelines.generate import generate

    out = tmp_path_factory.mktemp("small")
    generate(scale="small", seed=1, out=out, dirty=0.02)
    files = sorted(p for p in out.iterdir() if p.name != "manifest.json")
    refs = [p for p in files if any(w in p.name for w in ("区划", "网格划分", "户籍"))]
    month = {m: [p for p in files if p not in refs and f"{m}月" in p.name] for m in ("01", "02")}
    return refs, month["01"], month["02"]


def _rows(con, db: str, table: str) -> Counter:
    return Counter(map(repr, con.execute(f'select * from {db}."{table}"').fetchall()))


def _assert_published_equals_warehouse(p) -> None:
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"attach {publish.sql_string(p.warehouse)} as wh (read_only)")
        con.execute(f"attach {publish.sql_string(p.published)} as pub (read_only)")
        names = [r[0] for r in con.execute("select table_name from duckdb_tables() where database_name = 'pub'"
                                           ).fetchall()]
        con.execute("use pub")
        assert sorted(names) == sorted(publish.published_table_names(con))
        for t in names:
            assert _rows(con, "pub", t) == _rows(con, "wh", t), t
    finally:
        con.close()


def _plant(published) -> dict[str, int]:
    """Marks every fact row of the published copy; returns rows marked per table."""
    con = duckdb.connect(str(published))
    try:
        out = {}
        for m in core.per_id_models():
            out[m] = con.execute(f'update "{m}" set file_name = file_name || ?', [MARK]).fetchone()[0]
        return out
    finally:
        con.close()


def test_the_next_batch_is_published_by_id_and_equals_a_full_copy(small, home, monkeypatch):
    # month 2 re-judges most of month 1's ids: above core.PER_ID_MAX_SHARE the tables would be
    # rebuilt in full, so the by-id path this test is about is forced
    monkeypatch.setattr(core, "PER_ID_MAX_SHARE", 100.0)
    refs, m1, m2 = small
    ingest(refs + m1, build_marts=False)
    p = config.paths()
    planted = _plant(p.published)
    assert planted["fct_visit"] > 100
    con = duckdb.connect(str(p.published))
    try:  # a dimension month 2 does not rebuild (no household file in it)
        households = con.execute("update dim_household set grid_code = grid_code || ? where grid_code is not null",
                                 [MARK]).fetchone()[0]
    finally:
        con.close()
    assert households > 100
    report = ingest(m2, build_marts=False)
    assert report.judged == "incremental"
    con = duckdb.connect(str(p.published), read_only=True)
    wh = duckdb.connect(str(p.warehouse), read_only=True)
    try:
        # kept in the copy, not copied again from the warehouse
        assert con.execute("select count(*) from dim_household where grid_code like ?",
                           ["%" + MARK]).fetchone()[0] == households
        kept = 0
        for m, k in core.per_id_models().items():
            idf = SOURCES[k].id_field
            named = {r[0] for r in wh.execute(f'select distinct "{idf}" from stg_{k} where _batch_id = ?',
                                              [report.batch_id]).fetchall()}
            for i, name_ in con.execute(f'select "{idf}", file_name from "{m}"').fetchall():
                assert name_.endswith(MARK) == (i not in named), (m, i, name_)  # untouched rows not rewritten
                kept += i not in named
    finally:
        con.close()
        wh.close()
    assert kept > 100
    con = duckdb.connect(str(p.published))
    try:
        for m in core.per_id_models():
            con.execute(f'update "{m}" set file_name = replace(file_name, ?, \'\')', [MARK])
        con.execute("update dim_household set grid_code = replace(grid_code, ?, '')", [MARK])
    finally:
        con.close()
    _assert_published_equals_warehouse(p)


def test_a_copy_more_than_one_batch_behind_or_after_a_full_rebuild_is_copied_whole(small, home, tmp_path):
    refs, m1, m2 = small
    ingest(refs, build_marts=False)
    p = config.paths()
    behind = tmp_path / "behind.duckdb"
    shutil.copy(p.published, behind)
    ingest(m1, build_marts=False)
    one_behind = tmp_path / "one_behind.duckdb"
    shutil.copy(p.published, one_behind)
    ingest(m2, build_marts=False)
    assert publish.delta_plan(p.warehouse, one_behind) is not None
    assert publish.delta_plan(p.warehouse, behind) is None  # two batches behind
    assert publish.delta_plan(p.warehouse, p.published) is None  # up to date
    shutil.copy(behind, p.published)
    publish.publish(p.warehouse, p.published)
    _assert_published_equals_warehouse(p)
    shutil.copy(p.published, one_behind)
    ingest([_touched(refs[0], tmp_path)], build_marts=False)  # a reference file: full re-judge
    assert publish.delta_plan(p.warehouse, one_behind) is None
    _assert_published_equals_warehouse(p)


def _touched(ref, folder):
    """The same reference file with other bytes (a trailing newline): new content, the same rows."""
    out = folder / ref.name
    out.write_bytes(ref.read_bytes() + b"\n")
    return out
