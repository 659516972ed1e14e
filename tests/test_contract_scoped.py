"""The data contract after an incremental batch (issue #12): tables the batch changed by id or by
month are checked in the rows it replaced (their other rows passed the same contract after the
batch before and are unchanged); a changed schema.yml, or no record of the previous check, checks
everything. A defect in the replaced rows still rolls the batch back."""

from __future__ import annotations

import duckdb
import pytest

from pipelines import config
from pipelines.ingest import core, registry
from pipelines.load import ingest
from pipelines.models import contract


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    from pipelines.generate import generate

    out = tmp_path_factory.mktemp("small")
    generate(scale="small", seed=1, out=out, dirty=0.02)
    files = sorted(p for p in out.iterdir() if p.name != "manifest.json")
    refs = [p for p in files if any(w in p.name for w in ("区划", "网格划分", "户籍"))]
    month = {m: [p for p in files if p not in refs and f"{m}月" in p.name] for m in ("01", "02")}
    return refs, month["01"], month["02"]


def _first_batch(small, monkeypatch):
    monkeypatch.setattr(core, "PER_ID_MAX_SHARE", 100.0)  # month 2 by id, not rebuilt whole
    refs, m1, m2 = small
    first = ingest(refs + m1, build_marts=False)
    return first, m2


def _plant_duplicate() -> str:
    """A second fct_visit row of month 1's earliest visit (a key violation); month 2's export does
    not name it (the tests check that), so the batch leaves it alone."""
    con = duckdb.connect(str(config.paths().warehouse))
    try:
        rid = con.execute("select record_id from fct_visit order by visited_at, record_id limit 1").fetchone()[0]
        con.execute("insert into fct_visit select * from fct_visit where record_id = ?", [rid])
        return rid
    finally:
        con.close()


def test_the_first_batch_records_the_contract_it_passed(small, home, monkeypatch):
    first, _ = _first_batch(small, monkeypatch)
    con = duckdb.connect(str(config.paths().warehouse), read_only=True)
    try:
        assert con.execute("select * from reg_contract_state").fetchall() == [(contract.schema_hash(), first.batch_id)]
    finally:
        con.close()


def test_an_incremental_batch_checks_the_rows_it_replaced_only(small, home, monkeypatch):
    first, m2 = _first_batch(small, monkeypatch)
    planted = _plant_duplicate()
    report = ingest(m2, build_marts=False)
    assert report.judged == "incremental"
    con = duckdb.connect(str(config.paths().warehouse), read_only=True)
    try:
        named = {r for (r,) in con.execute("select record_id from stg_visits where _batch_id = ?",
                                           [report.batch_id]).fetchall()}
        assert planted not in named and len(named) > 100
        replaced = registry.replaced_rows(con, report.batch_id)
        assert {"fct_visit", "fct_event", "fct_points"} <= set(replaced)
        n_replaced = con.execute(f"select count(*) from fct_visit where {replaced['fct_visit']}").fetchone()[0]
        assert 0 < n_replaced < con.execute("select count(*) from fct_visit").fetchone()[0]
        # In full the planted duplicate is there; the replaced rows, which the ingest checked, pass.
        assert any("fct_visit: key (record_id) unique" in p for p in contract.check_data(con, ["fct_visit"]))
        assert contract.check_data(con, ["fct_visit"], rows=replaced) == []
        assert con.execute("select batch_id from reg_contract_state").fetchall() == [(report.batch_id,)]
    finally:
        con.close()


def test_a_changed_contract_checks_every_row(small, home, monkeypatch):
    _first_batch(small, monkeypatch)
    _plant_duplicate()
    con = duckdb.connect(str(config.paths().warehouse))
    try:  # as if schema.yml had changed since the batch before: its rows never met this contract
        con.execute("update reg_contract_state set schema_hash = 'an older contract'")
    finally:
        con.close()
    with pytest.raises(contract.ContractError, match=r"fct_visit: key \(record_id\) unique"):
        ingest(small[2], build_marts=False)


def test_a_defect_in_the_replaced_rows_still_rolls_the_batch_back(small, home, monkeypatch):
    first, m2 = _first_batch(small, monkeypatch)
    real = core.run_core_per_id

    def doubling(con, model, kind):  # a defective by-id update: one replaced visit twice
        real(con, model, kind)
        if model == "fct_visit":
            con.execute("insert into fct_visit select * from fct_visit "
                        "where record_id = (select min(_id) from _affected_visits)")

    monkeypatch.setattr(core, "run_core_per_id", doubling)
    with pytest.raises(contract.ContractError, match=r"fct_visit: key \(record_id\) unique \(2 rows\)"):
        ingest(m2, build_marts=False)
    con = duckdb.connect(str(config.paths().warehouse), read_only=True)
    try:
        assert con.execute("select batch_id from reg_contract_state").fetchall() == [(first.batch_id,)]
        assert con.execute("select count(*) - count(distinct record_id) from fct_visit").fetchone()[0] == 0
    finally:
        con.close()
