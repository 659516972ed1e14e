"""Marts kept by month (issue #12): after an incremental batch, the models that declare
`-- by month: … ~ fct_x.col` are updated only in the months whose fact rows the batch replaced. The
result must equal building every mart in full, whatever the order and batching of the files; the
untouched months must really be left alone; and anything that breaks the chain (a batch loaded
without marts, a model whose SQL changed) builds them in full."""

from __future__ import annotations

import random
import shutil
from collections import Counter

import duckdb
import pytest

from pipelines.load import ingest
from pipelines.models import runner

REFERENCE_WORDS = ("区划", "网格划分", "户籍")
# A by-month mart no other mart reads, so a mark planted in it stays where it was put. (Visits, not
# points: in the small county a month's points re-judge more than core.PER_ID_MAX_SHARE of the
# table, which is then rebuilt whole and every points month with it.)
MARKED = "household_visit_months"
MARK = "last_visit = month_start + interval 1 second"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    from pipelines.generate import generate

    out = tmp_path_factory.mktemp("small_marts")
    generate(scale="small", seed=1, out=out, dirty=0.02)
    files = sorted(p for p in out.iterdir() if p.name != "manifest.json")
    refs = [p for p in files if any(w in p.name for w in REFERENCE_WORDS)]
    months = {m: [p for p in files if p not in refs and f"{m:02d}月" in p.name] for m in range(1, 7)}
    disputes = [p for p in files if "纠纷" in p.name]
    return refs, months, disputes


def _warehouse(home):
    return home / "warehouse" / "xiangzhi.duckdb"


def _marts(con) -> dict[str, Counter]:
    return {t: Counter(map(repr, con.execute(f'select * from "{t}"').fetchall()))
            for t in runner.dependency_order("marts")}


def _full_build_equals(home, tmp_path) -> dict[str, Counter]:
    """Every mart of the warehouse equals what a full build over the same core tables gives."""
    copy = tmp_path / "full.duckdb"
    shutil.copy(_warehouse(home), copy)
    con = duckdb.connect(str(copy))
    try:
        kept = _marts(con)
        runner.build_marts(con)  # no batch, no months: every model built in full
        full = _marts(con)
    finally:
        con.close()
    for t in full:
        missing, extra = list((full[t] - kept[t]).elements()), list((kept[t] - full[t]).elements())
        assert not missing and not extra, (t, missing[:3], extra[:3])
    return kept


def _mark(home) -> int:
    """Move every row's last visit to one second after its month began (the contract still holds;
    no generated visit is at that second), keeping the true values aside for _unmark."""
    con = duckdb.connect(str(_warehouse(home)))
    try:
        assert con.execute(f"select count(*) from {MARKED} where {MARK}").fetchone()[0] == 0
        con.execute(f"create table _true_visits as select * from {MARKED}")
        con.execute(f"update {MARKED} set last_visit = month_start + interval 1 second")
        return con.execute(f"select count(*) from {MARKED}").fetchone()[0]
    finally:
        con.close()


def _marked(home) -> tuple[int, int]:
    con = duckdb.connect(str(_warehouse(home)), read_only=True)
    try:
        return con.execute(f"select count(*) filter (where {MARK}), count(*) from {MARKED}").fetchone()
    finally:
        con.close()


def _unmark(home) -> None:
    con = duckdb.connect(str(_warehouse(home)))
    try:
        con.execute(f"update {MARKED} as m set last_visit = t.last_visit from _true_visits as t where m.last_visit = m.month_start + interval 1 second "
                    "and t.month_start = m.month_start and t.household_key = m.household_key")
        con.execute("drop table _true_visits")
    finally:
        con.close()


def test_the_declarations_name_the_heavy_month_local_marts():
    declared = runner.month_models()
    assert set(declared) == {"int_confirmed_points", "int_household_points", "household_month_points",
                             "household_visit_months"}
    assert runner.month_sources() == {("fct_points", "occurred_on"), ("fct_visit", "visited_at")}


@pytest.mark.parametrize("seed", [1, 2])
def test_random_batchings_keep_the_marts_equal_to_a_full_build(small, home, tmp_path, seed):
    refs, months, disputes = small
    rng = random.Random(seed)
    facts = [f for m in (1, 2, 3) for f in months[m]] + disputes
    rng.shuffle(facts)
    assert ingest(refs + facts[:2]).judged == "full"
    rest = facts[2:]
    while rest:
        n = rng.randint(1, 3)
        assert ingest(rest[:n]).judged == "incremental"
        rest = rest[n:]
        _full_build_equals(home, tmp_path)


def test_a_month_batch_rewrites_only_the_months_it_changes(small, home, tmp_path):
    # Five months of history, then the sixth.
    refs, months, disputes = small
    ingest(refs + [f for m in range(1, 6) for f in months[m]] + disputes)
    total = _mark(home)
    assert ingest(months[6]).judged == "incremental"
    marked, rows = _marked(home)
    # The months month 6's rows do not touch kept their mark: not rebuilt. Month 6 is new, so some
    # rows were computed by this batch.
    assert 0 < marked < rows and rows > total
    _unmark(home)
    _full_build_equals(home, tmp_path)


def test_marts_built_for_another_batch_make_the_next_build_a_full_one(small, home, tmp_path):
    # As after a batch loaded without marts (profiles' trial ingest): the by-month rows are of an
    # older batch, and months it changed would be missed.
    refs, months, disputes = small
    ingest(refs + [f for m in range(1, 6) for f in months[m]] + disputes)
    _mark(home)
    con = duckdb.connect(str(_warehouse(home)))
    try:
        con.execute(f"update {runner.MART_STATE} set batch_id = 'an-older-batch'")
    finally:
        con.close()
    assert ingest(months[6]).judged == "incremental"
    assert _marked(home)[0] == 0  # every month rebuilt
    _full_build_equals(home, tmp_path)


def test_a_model_whose_sql_changed_is_built_in_full(small, home, tmp_path):
    refs, months, disputes = small
    ingest(refs + [f for m in range(1, 6) for f in months[m]] + disputes)
    _mark(home)
    con = duckdb.connect(str(_warehouse(home)))
    try:  # as after an upgrade that changed the model: the state holds another SQL's hash
        con.execute(f"update {runner.MART_STATE} set sql_hash = 'older' where model = ?", [MARKED])
    finally:
        con.close()
    ingest(months[6])
    assert _marked(home)[0] == 0
    _full_build_equals(home, tmp_path)


def test_a_declaration_the_sql_contradicts_is_refused(tmp_path, monkeypatch):
    folder = tmp_path / "marts"
    folder.mkdir()
    (folder / "points_by_month.sql").write_text(
        "-- by month: month_start ~ fct_points.occurred_on\n"
        "select date_trunc('month', occurred_on) as month_start, count(*) as n from fct_points "
        "join fct_event using (village_code) group by all\n", encoding="utf-8")
    monkeypatch.setattr(runner, "MODELS_DIR", tmp_path)
    runner.month_models.cache_clear()
    try:
        with pytest.raises(runner.ModelError, match="fct_event"):
            runner.month_models()
        (folder / "points_by_month.sql").write_text(
            "-- by month: month_start ~ fct_points.occurred_on\n"
            "select date_trunc('month', occurred_on) as month_start, count(*) as n from fct_points group by all\n",
            encoding="utf-8")
        (folder / "reads_it.sql").write_text(
            "-- by month: month_start ~ fct_visit.visited_at\nselect * from points_by_month\n", encoding="utf-8")
        runner.month_models.cache_clear()
        with pytest.raises(runner.ModelError, match="points_by_month"):
            runner.month_models()
    finally:
        runner.month_models.cache_clear()


def test_the_published_copy_gets_only_the_changed_months_of_a_mart_kept_by_month(small, home):
    from pipelines import config, publish

    refs, months, disputes = small
    ingest(refs + [f for m in range(1, 6) for f in months[m]] + disputes)
    p = config.paths()
    con = duckdb.connect(str(p.published))
    try:  # a mark in the published copy only: a month publish copies again loses it
        con.execute(f"update {MARKED} set last_visit = month_start + interval 1 second")
        planted = con.execute(f"select count(*) from {MARKED}").fetchone()[0]
    finally:
        con.close()
    assert ingest(months[6]).judged == "incremental"
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"attach {publish.sql_string(p.warehouse)} as wh (read_only)")
        con.execute(f"attach {publish.sql_string(p.published)} as pub (read_only)")
        changed = [r[0] for r in con.execute("select month from wh.reg_month_delta where table_name = ? "
                                             "and month is not null", [MARKED]).fetchall()]
        assert changed  # the batch recomputed some months of the mart…
        marked = con.execute(f"select count(*) filter (where month_start in (select unnest(?::date[]))), count(*) "
                             f"from pub.{MARKED} where {MARK}", [changed]).fetchone()
        assert marked[0] == 0 and 0 < marked[1] < planted  # …and publish replaced exactly those
        same = f"select * from pub.{MARKED} where month_start in (select unnest(?::date[]))"
        theirs = f"select * from wh.{MARKED} where month_start in (select unnest(?::date[]))"
        assert Counter(con.execute(same, [changed]).fetchall()) == Counter(con.execute(theirs, [changed]).fetchall())
        for t in ("household_month_points", "fct_visit", "village_scores", "indicator_values"):
            if t == MARKED:
                continue
            assert Counter(con.execute(f"select * from pub.{t}").fetchall()) == \
                Counter(con.execute(f"select * from wh.{t}").fetchall()), t
    finally:
        con.close()
