"""Case lists, drill-through and the what-if league (SPEC §7 pages 9, 10), through the gateway.

Drill-through: for every indicator, unit and month, the records listed add up to the numerator and
denominator published in indicator_values — on the hand-built county of tests/test_indicators.py
(marts built by the real model runner) and on the generated demo county (ingested end to end).
What-if: with the official weights it reproduces village_scores exactly.
"""

from __future__ import annotations

import math

import duckdb
import pandas as pd
import pytest

from pipelines import warehouse as wh
from pipelines.catalogue import load_catalogue
from pipelines.models.runner import build_marts
from tests import test_indicators as hand

CAT = load_catalogue()


@pytest.fixture(scope="module")
def hand_con():
    con = duckdb.connect()
    hand.fill(con)
    build_marts(con, CAT)
    yield con
    con.close()


@pytest.fixture(scope="module")
def demo_con(demo_home):
    con = wh.connect(demo_home / "published" / "xiangzhi.duckdb")
    yield con
    con.close()


def _county(con) -> str:
    return con.execute("select county_code from dim_county order by 1 limit 1").fetchone()[0]


def _check_drill(con, scope, rows) -> int:
    """rows: (period, unit_code, indicator_id, numerator, denominator, value). Returns checks made."""
    checked = 0
    for period, unit, ind_id, num, den, value in rows:
        recs = wh.drill_records(scope, period, ind_id, unit, con=con)
        where = f"{ind_id} {unit} {period}"
        assert recs["numerator_part"].sum() == pytest.approx(float(num), abs=1e-6), where
        ind = CAT[ind_id]
        if ind_id == "disputes_per_1000":
            assert recs["denominator_part"].isna().all(), where  # denominator is the population
        elif ind.kind == "rate" or ind_id in ("points_per_household", "redemption_rate"):
            assert recs["denominator_part"].sum() == pytest.approx(float(den), abs=1e-6), where
            # the numerator records are a subset of the denominator records (a rate's list)
            if ind_id not in ("points_per_household", "redemption_rate"):
                assert int(recs["in_numerator"].sum()) == int(num), where
                assert len(recs) == int(den), where
        else:
            assert len(recs) == int(num), where
        if ind_id == "median_handle_hours" and len(recs):
            assert recs["handle_hours"].median() == pytest.approx(value, abs=0.01), where
        assert recs["record_id"].notna().all(), where
        checked += 1
    return checked


def test_every_indicator_drills_to_its_numerator_and_denominator_by_hand(hand_con):
    scope = wh.Scope("county", hand.C)
    rows = hand_con.execute(
        "select period, unit_code, indicator_id, numerator, denominator, value from indicator_values "
        "order by all").fetchall()
    assert {r[2] for r in rows} == set(CAT.ids)
    assert _check_drill(hand_con, scope, rows) == len(rows)


def test_every_indicator_drills_on_generated_data(demo_con):
    county = _county(demo_con)
    scope = wh.Scope("county", county)
    period = demo_con.execute("select max(period) from indicator_values").fetchone()[0]
    # county, one township, three villages and one grid of the last month: every indicator of their levels
    units = demo_con.execute(
        """select unit_code from (
             select unit_code, unit_level, row_number() over (partition by unit_level order by unit_code) as n
             from (select distinct unit_code, unit_level from indicator_values))
           where (unit_level in ('county', 'township') and n = 1) or (unit_level = 'village' and n <= 3)
              or (unit_level = 'grid' and n = 1)""").df()["unit_code"].tolist()
    rows = demo_con.execute(
        "select period, unit_code, indicator_id, numerator, denominator, value from indicator_values "
        "where period = ? and list_contains(?, unit_code) order by all", [period, units]).fetchall()
    assert {r[2] for r in rows} == set(CAT.ids)
    assert sum(1 for r in rows if r[3] and r[3] > 0) > 20  # real records behind most of them
    assert _check_drill(demo_con, scope, rows) == len(rows)


def test_drill_marks_on_time_events(hand_con):
    scope = wh.Scope("county", hand.C)
    recs = wh.drill_records(scope, hand.MAR, "on_time_rate", hand.V1, con=hand_con)
    ok = recs["closed_at"] <= recs["deadline"]
    assert (recs["in_numerator"] == ok).all()
    assert recs["closed_at"].dt.strftime("%Y-%m").eq(hand.MAR).all()


def test_drill_is_scoped(hand_con):
    scope = wh.Scope("township", hand.T1)
    with pytest.raises(wh.ScopeError):
        wh.drill_records(scope, hand.MAR, "events_reported", hand.V3, con=hand_con)
    recs = wh.drill_records(scope, hand.MAR, "entry_timeliness_rate", con=hand_con)
    assert recs["village_code"].str.startswith(hand.T1).all() and len(recs)
    with pytest.raises(ValueError):
        wh.drill_records(scope, hand.MAR, "no_such_indicator", con=hand_con)


def test_event_cases_lifecycle_and_filters(hand_con):
    scope = wh.Scope("county", hand.C)
    ev = wh.event_cases(scope, hand.MAR, con=hand_con)
    n = hand_con.execute("select count(*) from fct_event where strftime(reported_at, '%Y-%m') = ?",
                         [hand.MAR]).fetchone()[0]
    assert len(ev) == n > 0
    closed = ev[ev["is_closed"]]
    assert (closed["closed_late"] == (closed["closed_at"] > closed["deadline"])).all()
    assert ev.loc[~ev["is_closed"], "closed_late"].eq(False).all()
    assert (ev["hours_to_close"].dropna() >= 0).all()
    every = wh.event_cases(scope, None, con=hand_con)
    assert len(every) == hand_con.execute("select count(*) from fct_event").fetchone()[0]
    late_or_overdue = wh.event_cases(scope, None, overdue=True, con=hand_con)
    assert len(late_or_overdue) == int((every["closed_late"] | every["overdue_open"]).sum())
    one = every["status"].iloc[0]
    assert wh.event_cases(scope, None, status=one, con=hand_con)["status"].eq(one).all()


def test_overdue_events_by_band_and_grid(demo_con):
    scope = wh.Scope("county", _county(demo_con))
    od = wh.overdue_events(scope, con=demo_con)
    assert len(od) > 0 and od["overdue_open"].all() and (od["days_overdue"] >= 0).all()
    assert not od["status"].isin(["已办结", "已回访"]).any()
    assert (od["deadline"] < od["as_of"]).all()
    summary = wh.overdue_summary(scope, con=demo_con)
    assert summary["overdue"].sum() == len(od)
    assert summary[["1–7", "8–30", "31–90", ">90"]].sum(axis=1).eq(summary["overdue"]).all()


def test_dispute_cases_states_and_masking(demo_con):
    scope = wh.Scope("county", _county(demo_con))
    dc = wh.dispute_cases(scope, None, con=demo_con)
    assert len(dc) == demo_con.execute("select count(*) from fct_dispute").fetchone()[0]
    assert set(dc["result"].dropna()) <= {"调解中", "移交", "调解不成功", "调解成功"}
    assert dc["parties_masked"].dropna().str.contains(r"\*").all()
    state = "调解中"
    assert wh.dispute_cases(scope, None, result=state, con=demo_con)["result"].eq(state).all()


def _assert_same_scores(con, scope, period):
    wi = wh.whatif_scores(scope, period, con=con)
    official = con.execute(
        "select village_code, score, rank, board from village_scores where period = ?", [period]).df()
    m = official.merge(wi, on="village_code", suffixes=("", "_x"))
    assert len(m) == len(official) == len(wi)
    same = [(a == b) or (a is None and b is None) or (isinstance(a, float) and math.isnan(a) and math.isnan(b))
            for a, b in zip(m["score"], m["wi_score"], strict=True)]
    assert all(same)  # exactly, not approximately: one definition
    assert (m["rank"].fillna(-1) == m["wi_rank"].fillna(-1)).all()
    assert (m["board"].fillna("") == m["wi_board"].fillna("")).all()
    assert not wi["rank_changed"].any() and not wi["board_changed"].any()


def test_whatif_with_official_weights_equals_village_scores(hand_con, demo_con):
    for p in hand.PERIODS:
        _assert_same_scores(hand_con, wh.Scope("county", hand.C), p)
    periods = demo_con.execute("select distinct period from village_scores order by 1").df()["period"]
    for p in periods.iloc[-3:]:
        _assert_same_scores(demo_con, wh.Scope("county", _county(demo_con)), p)
    # official weights passed explicitly change nothing either
    official = {i.id: i.weight for i in CAT.indicators if i.weight}
    wi = wh.whatif_scores(wh.Scope("county", hand.C), hand.MAR, official, CAT.settings.board_share, con=hand_con)
    assert not wi["rank_changed"].any()


def test_whatif_single_weight_scores_attainment(hand_con):
    scope = wh.Scope("county", hand.C)
    only = {i.id: (1.0 if i.id == "event_closure_rate" else 0.0) for i in CAT.indicators if i.weight}
    wi = wh.whatif_scores(scope, hand.MAR, only, con=hand_con)
    parts = hand_con.execute(
        """select village_code, attainment, counted from village_score_parts
           where period = ? and indicator_id = 'event_closure_rate'""", [hand.MAR]).df()
    m = wi.merge(parts, on="village_code")
    for r in m.itertuples():
        if r.counted:
            assert r.wi_score == pytest.approx(100 * r.attainment)
        else:
            assert pd.isna(r.wi_score)


def test_whatif_board_share_and_bad_input(demo_con):
    scope = wh.Scope("county", _county(demo_con))
    period = demo_con.execute("select max(period) from village_scores").fetchone()[0]
    wide = wh.whatif_scores(scope, period, board_share=0.5, con=demo_con)
    n = int(wide["wi_rank"].notna().sum())
    assert int(wide["wi_board"].notna().sum()) >= min(n, 2 * math.ceil(0.5 * n) - 1)
    assert wide["board_changed"].any()
    with pytest.raises(ValueError):
        wh.whatif_scores(scope, period, board_share=0.9, con=demo_con)
    with pytest.raises(ValueError):
        wh.whatif_scores(scope, period, {"petitions": -1}, con=demo_con)
    t = wh.Scope("township", scope.code + "000")
    with pytest.raises(wh.ScopeError):
        wh.whatif_scores(t, period, unit_code=scope.code, con=demo_con)
