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


def test_the_declarations_name_every_mart_kept_by_month():
    declared = runner.month_models()
    # Every mart but the case list (its open state is as of the county's latest export), the labels
    # and the unit levels (no facts: built whole, cheaply).
    assert set(runner.model_files("marts")) - set(declared) == {"event_case_list", "village_labels",
                                                                 "int_unit_levels"}
    assert runner.month_sources() == {("fct_points", "occurred_on"), ("fct_visit", "visited_at"),
                                      ("fct_event", "reported_at"), ("fct_event", "closed_at"),
                                      ("fct_dispute", "registered_on"), ("fct_dispute", "concluded_on"),
                                      ("fct_redemption", "redeemed_on")}
    # A reader follows the months its inputs were updated in: the grid reporting mart those of the
    # entry lags and of the calendar (compared before and after).
    assert declared["grid_month_reporting"].sources == {("int_entry_lags", runner.ITSELF),
                                                        ("int_calendar", runner.ITSELF)}
    assert declared["int_calendar"].itself
    # Windows: the quarter-to-date visit rate, the cells' 环比/同比, the previous month's rank, the
    # year's stars, a worker's overdue events in every later month.
    assert {m: (d.window, d.lags) for m, d in declared.items() if d.window != "month"} == {
        "int_grid_month": ("quarter to date", ()), "unit_indicator_cells": ("later", (1, 3, 12)),
        "village_scores": ("later", (1,)), "household_stars": ("year", ()),
        "int_worker_item_counts": ("onward", ())}


def test_windows_widen_the_changed_months():
    from datetime import date

    def widen(window, lags=()):
        return sorted(runner._widen({date(2025, 2, 1), date(2025, 6, 1)}, runner.ByMonth("month_start", frozenset(),
                                                                                         window=window, lags=lags)))
    assert widen("month") == [date(2025, 2, 1), date(2025, 6, 1)]
    assert widen("quarter to date") == [date(2025, 2, 1), date(2025, 3, 1), date(2025, 6, 1)]
    assert widen("year") == [date(2025, 1, 1)]
    assert widen("later", (1, 12)) == [date(2025, 2, 1), date(2025, 3, 1), date(2025, 6, 1), date(2025, 7, 1),
                                       date(2026, 2, 1), date(2026, 6, 1)]


@pytest.mark.parametrize("seed,by_id", [(1, False), (2, False), (1, True), (3, True)])
def test_random_batchings_keep_the_marts_equal_to_a_full_build(small, home, tmp_path, monkeypatch, seed, by_id):
    from pipelines.ingest import core

    if by_id:  # every fact table updated by id, so every mart by month (the small county's months are
        # a large share of its rows: by default most batches rebuild the facts, and the marts, whole)
        monkeypatch.setattr(core, "PER_ID_MAX_SHARE", 100.0)
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
        (folder / "by_quarter.sql").write_text(
            "select date_trunc('quarter', occurred_on) as quarter_start, count(*) as n from fct_points group by all\n",
            encoding="utf-8")
        (folder / "reads_it.sql").write_text(
            "-- by month: month_start ~ fct_visit.visited_at\nselect * from points_by_month, by_quarter\n",
            encoding="utf-8")
        runner.month_models.cache_clear()
        with pytest.raises(runner.ModelError, match="by_quarter"):  # not kept by month, reads facts
            runner.month_models()
        (folder / "reads_it.sql").write_text(
            "-- by month: month_start ~ fct_visit.visited_at\nselect * from points_by_month\n", encoding="utf-8")
        runner.month_models.cache_clear()  # a by-month input: its months are followed too
        assert runner.month_models()["reads_it"].sources == {("fct_visit", "visited_at"),
                                                             ("points_by_month", runner.ITSELF)}
        (folder / "reads_it.sql").write_text(
            "-- by month: month_start ~ fct_visit.visited_at; fortnightly\nselect * from points_by_month\n",
            encoding="utf-8")
        runner.month_models.cache_clear()
        with pytest.raises(runner.ModelError, match="fortnightly"):
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


def test_a_month_of_visits_alone_extends_the_calendar_of_the_points_marts(small, home, tmp_path):
    # unit_points_distribution follows the points' months and the calendar's: a month that only
    # visits bring is a new calendar month, so it gets its rows (every registry household at 0)
    # although no points row of that month changed.
    refs, months, _disputes = small  # (the yearly dispute ledgers would span month 6 already)
    ingest(refs + [f for m in range(1, 6) for f in months[m]])
    visits = [p for p in months[6] if "走访" in p.name]
    assert len(visits) == 1
    con = duckdb.connect(str(_warehouse(home)), read_only=True)
    try:
        before = {r[0] for r in con.execute("select distinct period from unit_points_distribution").fetchall()}
    finally:
        con.close()
    assert ingest(visits).judged == "incremental"
    con = duckdb.connect(str(_warehouse(home)), read_only=True)
    try:
        after = dict(con.execute("select period, sum(households) filter (where unit_level = 'county') "
                                 "from unit_points_distribution group by all").fetchall())
        households = con.execute("select count(*) from dim_household").fetchone()[0]
        new = con.execute("select list(month) from reg_month_delta where table_name = 'unit_points_distribution' "
                          "and month is not null").fetchone()[0]
    finally:
        con.close()
    added = set(after) - before
    assert len(added) == 1 and after[added.pop()] == households
    assert len(new) == 1  # the one new month, nothing else recomputed
    _full_build_equals(home, tmp_path)


def test_a_changed_setting_rebuilds_the_marts_kept_by_month(small, home, tmp_path, monkeypatch):
    # int_entry_lags reads entry_timeliness_days from the catalogue: after the office changes it,
    # every month's timely and late counts change, not only the batch's months.
    from pipelines.catalogue import catalogue_path

    refs, months, disputes = small
    ingest(refs + [f for m in range(1, 6) for f in months[m]] + disputes)
    text = catalogue_path().read_text(encoding="utf-8")
    assert "entry_timeliness_days: 3 " in text
    changed = tmp_path / "indicators.yaml"
    changed.write_text(text.replace("entry_timeliness_days: 3 ", "entry_timeliness_days: 1 "), encoding="utf-8")
    monkeypatch.setenv("XIANGZHI_INDICATORS", str(changed))
    # Visits alone: a points file would re-judge most of the small county's points and rebuild every
    # points month anyway (core.PER_ID_MAX_SHARE).
    assert ingest([p for p in months[6] if "走访" in p.name]).judged == "incremental"
    kept = _full_build_equals(home, tmp_path)  # the full build reads the changed catalogue too
    assert sum(1 for _ in kept["int_entry_lags"].elements())
