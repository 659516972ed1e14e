"""Indicators, scores, ranks, boards and stars on a tiny warehouse worked out by hand (SPEC §5–6).

The county 360001 has two townships and four villages:

    T1 360001001: V1 360001001001 (grids G11, G12), V2 360001001002 (grid G21)
    T2 360001002: V3 360001002001 (grid G31),       V4 360001002002 (grid G41)

Households (k = key household):
    G11: h01k h02k h03k h04          G12: h05k h06k h07        G21: h08k h09 h10 h11 h12
    G31: h13 h14 h15 h16 h17         G41: h18 h19 h20 h21 h22
    → V1 7 (5 key, 2 ordinary), V2 5 (1 key, 4 ordinary), V3 5 ordinary, V4 5 ordinary;
      T1 12 (6 key, 6 ordinary), T2 10 (0 key, 10 ordinary), county 22 (6 key, 16 ordinary).
Population: V1 700, V2 500, V3 400, V4 250 → T1 1200, T2 650, county 1850.

Months: February to April 2025 (visits start in February; points and redemptions end in April).
An entry dated May and an event closed in May do not extend the range. No event is reported in
April, no dispute is registered in February and nothing is redeemed in February.
Every value below is worked out by hand from the rows inserted in `warehouse()`.
"""

from __future__ import annotations

import math
from datetime import date, datetime

import duckdb
import pytest

from pipelines.catalogue import load_catalogue
from pipelines.explain import explain_village
from pipelines.models import contract
from pipelines.models.runner import build_marts

C = "360001"
T1, T2 = "360001001", "360001002"
V1, V2, V3, V4 = "360001001001", "360001001002", "360001002001", "360001002002"
G11, G12, G21, G31, G41 = V1 + "001", V1 + "002", V2 + "001", V3 + "001", V4 + "001"
FEB, MAR, APR = "2025-02", "2025-03", "2025-04"
PERIODS = (FEB, MAR, APR)

HOUSEHOLDS = {  # household → (grid, village, township, key?)
    **{h: (G11, V1, T1, k) for h, k in (("h01", 1), ("h02", 1), ("h03", 1), ("h04", 0))},
    **{h: (G12, V1, T1, k) for h, k in (("h05", 1), ("h06", 1), ("h07", 0))},
    **{h: (G21, V2, T1, k) for h, k in (("h08", 1), ("h09", 0), ("h10", 0), ("h11", 0), ("h12", 0))},
    **{f"h{i}": (G31, V3, T2, 0) for i in range(13, 18)},
    **{f"h{i}": (G41, V4, T2, 0) for i in range(18, 23)},
}
GRID_VILLAGE = {G11: (V1, T1), G12: (V1, T1), G21: (V2, T1), G31: (V3, T2), G41: (V4, T2)}


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def d(text: str) -> date:
    return date.fromisoformat(text)


# Visits: id, grid, type, household, visited_at, entered_at  (entry lag in calendar days in comments)
VISITS = [
    ("vs01", G11, "走访", "h01", "2025-02-03 10:00", "2025-02-04 09:00"),  # lag 1
    ("vs02", G11, "走访", "h02", "2025-02-10 09:00", "2025-02-14 08:00"),  # lag 4: late
    ("vs03", G11, "走访", "h01", "2025-02-20 15:00", "2025-02-20 16:00"),  # h01 again: still one household
    ("vs04", G12, "走访", "h05", "2025-02-11 09:00", "2025-02-13 09:00"),  # lag 2
    ("vs05", G12, "走访", "h06", "2025-02-12 08:00", "2025-02-15 23:00"),  # 87 h but 3 calendar days: on time
    ("vs06", G12, "走访", "h07", "2025-02-25 10:00", "2025-02-25 10:00"),  # ordinary h07
    ("vs07", G21, "巡查", None, "2025-02-05 09:00", "2025-02-05 09:00"),   # a patrol makes G21 active
    ("vs08", G11, "走访", "h01", "2025-03-03 09:00", "2025-03-03 09:00"),
    ("vs09", G11, "走访", "h02", "2025-03-04 09:00", "2025-03-04 09:00"),
    ("vs10", G11, "走访", "h03", "2025-03-05 09:00", "2025-03-10 09:00"),  # lag 5: late
    ("vs11", G12, "走访", "h05", "2025-03-06 09:00", "2025-03-06 09:00"),
    ("vs12", G12, "走访", "h06", "2025-03-07 09:00", "2025-03-07 09:00"),
    ("vs13", G11, "走访", "h04", "2025-03-15 09:00", "2025-03-15 09:00"),  # ordinary h04
    ("vs14", G21, "走访", "h09", "2025-03-20 09:00", "2025-03-21 09:00"),  # ordinary h09
    ("vs15", G21, "走访", "h08", "2025-03-21 09:00", "2025-03-21 09:00"),  # key h08
    ("vs16", G31, "宣讲", None, "2025-03-31 23:59", "2025-04-01 08:00"),   # lag 1
    ("vs17", G21, "走访", "h10", "2025-04-02 09:00", "2025-05-02 09:00"),  # lag 30; May entry adds no month
    ("vs18", G41, "走访", "h18", "2025-04-10 09:00", "2025-04-11 09:00"),
]

# Events: id, grid, reported, status, handling level, deadline, closed, satisfaction, entered
EVENTS = [
    ("ev01", G21, "2025-02-03 08:00", "已回访", "网格", "2025-02-06 08:00", "2025-02-04 08:00", "满意", "2025-02-03 09:00"),      # 24 h
    ("ev02", G21, "2025-02-05 10:00", "已回访", "村", "2025-02-08 10:00", "2025-02-07 10:00", "基本满意", "2025-02-05 10:00"),    # 48 h
    ("ev03", G21, "2025-02-10 09:00", "已办结", "网格", "2025-02-13 09:00", "2025-02-12 21:00", "未回访", "2025-02-14 10:00"),    # 60 h; entered late
    ("ev04", G21, "2025-02-14 12:00", "已回访", "乡镇", "2025-02-17 12:00", "2025-02-20 12:00", "不满意", "2025-02-14 12:00"),    # 144 h, late
    ("ev05", G21, "2025-02-20 08:00", "已回访", "网格", "2025-02-23 08:00", "2025-02-22 02:00", "满意", "2025-02-20 08:00"),      # 42 h
    ("ev06", G31, "2025-03-01 10:00", "处置中", None, "2025-03-04 10:00", None, None, "2025-03-01 10:00"),                        # open
    ("ev07", G41, "2025-02-15 09:00", "已办结", "村", "2025-02-18 09:00", "2025-02-16 15:00", None, "2025-02-16 08:00"),          # 30 h
    ("ev08", G21, "2025-03-05 09:00", "已回访", "村", "2025-03-08 09:00", "2025-03-06 09:00", "满意", "2025-03-05 09:00"),        # 24 h
    ("ev09", G11, "2025-03-10 10:00", "已受理", None, "2025-03-13 10:00", None, None, "2025-03-10 10:00"),                        # open
    ("ev10", G12, "2025-03-28 14:00", "已回访", "县", "2025-03-31 14:00", "2025-04-03 14:00", "不满意", "2025-03-29 08:00"),      # 144 h, late, closed in April
    ("ev11", G31, "2025-03-30 10:00", "已办结", "网格", "2025-04-02 10:00", "2025-05-05 10:00", "未回访", "2025-03-30 10:00"),    # closed in May: outside the months
]

# Disputes: id, registered, village, result, concluded, petition
DISPUTES = [
    ("d01", "2025-03-03", V3, "调解成功", "2025-03-10", True),   # petition: veto for V3 in March
    ("d02", "2025-03-12", V3, "调解中", None, False),
    ("d03", "2025-03-05", V1, "调解不成功", "2025-03-20", False),
    ("d04", "2025-03-18", V1, "移交", "2025-04-02", False),      # concluded in April
    ("d05", "2025-03-25", V2, "调解成功", "2025-04-05", False),   # concluded in April
    ("d06", "2025-04-08", V4, "调解成功", "2025-04-09", False),
    ("d07", "2025-04-15", V2, "调解成功", "2025-04-20", False),
]

# Points: id, household, points, occurred, entered, review state
POINTS = [
    # February: V1 all 7 households (h06 negative), V2 h08 h09 h10 confirmed, V3 and V4 everyone.
    ("p01", "h01", 10, "2025-02-05", "2025-02-06", "已确认"),
    ("p02", "h02", 5, "2025-02-05", "2025-02-06", "已确认"),
    ("p03", "h03", 5, "2025-02-06", "2025-02-12", "已确认"),    # lag 6: late
    ("p04", "h04", 5, "2025-02-07", "2025-02-07", "已确认"),
    ("p05", "h05", 5, "2025-02-07", "2025-02-07", "已确认"),
    ("p06", "h06", -2, "2025-02-08", "2025-02-08", "已确认"),   # a deduction still makes a participant
    ("p07", "h07", 3, "2025-02-09", "2025-02-09", "已确认"),
    ("p08", "h08", 4, "2025-02-10", "2025-02-10", "已确认"),
    ("p09", "h09", 4, "2025-02-10", "2025-02-10", "已确认"),
    ("p10", "h10", 2, "2025-02-11", "2025-02-11", "已确认"),
    ("p11", "h11", 6, "2025-02-11", "2025-02-11", "待审核"),    # not confirmed: no participation
    ("p12", "h10", 3, "2025-02-12", "2025-02-12", "已驳回"),
    ("p13", "h13", 8, "2025-02-15", "2025-02-15", "已确认"),
    ("p14", "h14", 6, "2025-02-15", "2025-02-15", "已确认"),
    ("p15", "h15", 6, "2025-02-15", "2025-02-15", "已确认"),
    ("p16", "h16", 4, "2025-02-15", "2025-02-15", "已确认"),
    ("p17", "h17", 2, "2025-02-15", "2025-02-15", "已确认"),
    *[(f"p{18 + i}", f"h{18 + i}", 5, "2025-02-20", "2025-02-20", "已确认") for i in range(5)],
    # March: V1 nobody confirmed, V2 h08 h11, V3 everyone (entered late), V4 h18 h19 h20 (h20 negative).
    ("p23", "h01", 5, "2025-03-10", "2025-03-11", "待审核"),
    ("p24", "h08", 3, "2025-03-05", "2025-03-05", "已确认"),
    ("p25", "h11", 6, "2025-03-06", "2025-03-06", "已确认"),
    *[(f"p{26 + i}", f"h{13 + i}", 2, "2025-03-15", "2025-03-20", "已确认") for i in range(5)],  # lag 5
    ("p31", "h18", 5, "2025-03-20", "2025-03-20", "已确认"),
    ("p32", "h19", 5, "2025-03-20", "2025-03-20", "已确认"),
    ("p33", "h20", -5, "2025-03-20", "2025-03-20", "已确认"),
    # April: V1 everyone, V2 h08–h11 (h12 never has a point), V3 only a rejected one, V4 everyone.
    *[(f"p{34 + i}", f"h0{1 + i}", 1, "2025-04-01", "2025-04-01", "已确认") for i in range(7)],
    *[(f"p{41 + i}", f"h{8 + i:02d}", 2, "2025-04-02", "2025-04-03", "已确认") for i in range(4)],
    ("p46", "h13", 5, "2025-04-05", "2025-04-05", "已驳回"),
    *[(f"p{47 + i}", f"h{18 + i}", 1, "2025-04-30", "2025-05-02", "已确认") for i in range(5)],  # lag 2
]

# Redemptions: id, household, points spent, date
REDEMPTIONS = [
    ("r01", "h13", 10, "2025-03-20"),
    ("r02", "h01", 5, "2025-03-25"),
    ("r03", "h08", 4, "2025-04-10"),
    ("r04", "h18", 5, "2025-04-12"),
]


def _insert(con, table: str, rows: list[dict]) -> None:
    cols = list(rows[0])
    con.executemany(
        f"insert into {table} ({', '.join(cols)}) values ({', '.join('?' for _ in cols)})",
        [[r[c] for c in cols] for r in rows],
    )


def fill(con) -> None:
    """The warehouse above, on contract tables."""
    contract.create_empty(con)
    _insert(con, "dim_county", [dict(county_code=C, name="测试县", households=22, population=1850)])
    _insert(con, "dim_township", [
        dict(township_code=T1, name="一乡", county_code=C, households=12, population=1200),
        dict(township_code=T2, name="二镇", county_code=C, households=10, population=650),
    ])
    _insert(con, "dim_village", [
        dict(village_code=v, name=n, township_code=t, county_code=C, households=h, population=p)
        for v, n, t, h, p in ((V1, "甲村", T1, 7, 700), (V2, "乙村", T1, 5, 500),
                              (V3, "丙村", T2, 5, 400), (V4, "丁村", T2, 5, 250))
    ])
    _insert(con, "dim_grid", [
        dict(grid_code=g, grid_name=g[-5:], village_code=v, township_code=t) for g, (v, t) in GRID_VILLAGE.items()
    ])
    _insert(con, "dim_household", [
        dict(household_key=h, grid_code=g, village_code=v, township_code=t,
             key_type="低保五保户" if k else None, is_key=bool(k))
        for h, (g, v, t, k) in HOUSEHOLDS.items()
    ])
    _insert(con, "fct_visit", [
        dict(record_id=i, grid_code=g, village_code=GRID_VILLAGE[g][0], township_code=GRID_VILLAGE[g][1],
             household_key=h, visit_type=t, visited_at=ts(a), entered_at=ts(e))
        for i, g, t, h, a, e in VISITS
    ])
    _insert(con, "fct_event", [
        dict(event_id=i, grid_code=g, village_code=GRID_VILLAGE[g][0], township_code=GRID_VILLAGE[g][1],
             reported_at=ts(r), category="其他", status=s, is_closed=s in ("已办结", "已回访"),
             handling_level=lv, deadline=ts(dl), closed_at=ts(c) if c else None, satisfaction=sat,
             entered_at=ts(e))
        for i, g, r, s, lv, dl, c, sat, e in EVENTS
    ])
    _insert(con, "fct_dispute", [
        dict(case_id=i, registered_on=d(r), village_code=v, township_code=v[:9], dispute_type="邻里纠纷",
             result=res, concluded_on=d(c) if c else None, is_petition=p)
        for i, r, v, res, c, p in DISPUTES
    ])
    _insert(con, "fct_points", [
        dict(record_id=i, household_key=h, village_code=HOUSEHOLDS[h][1], township_code=HOUSEHOLDS[h][2],
             points=float(p), occurred_on=d(o), entered_on=d(e), review_status=s)
        for i, h, p, o, e, s in POINTS
    ])
    _insert(con, "fct_redemption", [
        dict(redemption_id=i, household_key=h, village_code=HOUSEHOLDS[h][1], township_code=HOUSEHOLDS[h][2],
             points_spent=float(p), redeemed_on=d(r))
        for i, h, p, r in REDEMPTIONS
    ])


@pytest.fixture(scope="module")
def con():
    con = duckdb.connect()
    fill(con)
    build_marts(con, load_catalogue())
    yield con
    con.close()


# ---------------------------------------------------------------------------------------------
# Expected indicator values, by hand. R(n, d) is a rate n/d (None when d = 0); N(n) a count;
# M(n, v) a median over n records. Each list is [February, March, April].

def R(n, den, scale=1):
    return (n, den, scale * n / den if den else None)


def N(n):
    return (n, None, n)


def M(n, v):
    return (n, None, v)


def P1000(n, pop):
    return R(n, pop, 1000)


EXPECTED = {
    # --- grid level -----------------------------------------------------------------------------
    # active: G11/G12 visits Feb+Mar, none in Apr; G21 patrol Feb, events/visits Mar, vs17 Apr;
    # G31 nothing in Feb, ev06/ev11/vs16 in Mar, nothing in Apr; G41 ev07 Feb, nothing Mar, vs18 Apr.
    ("grid", G11, "grid_active_rate"): [R(1, 1), R(1, 1), R(0, 1)],
    ("grid", G12, "grid_active_rate"): [R(1, 1), R(1, 1), R(0, 1)],
    ("grid", G21, "grid_active_rate"): [R(1, 1), R(1, 1), R(1, 1)],
    ("grid", G31, "grid_active_rate"): [R(0, 1), R(1, 1), R(0, 1)],
    ("grid", G41, "grid_active_rate"): [R(1, 1), R(0, 1), R(1, 1)],
    # key: G11 h01 h02 of 3 in Feb (vs01, vs03 both h01), all 3 in Mar, none in Apr.
    ("grid", G11, "key_visit_rate"): [R(2, 3), R(3, 3), R(0, 3)],
    ("grid", G12, "key_visit_rate"): [R(2, 2), R(2, 2), R(0, 2)],
    ("grid", G21, "key_visit_rate"): [R(0, 1), R(1, 1), R(0, 1)],
    ("grid", G31, "key_visit_rate"): [R(0, 0)] * 3,
    ("grid", G41, "key_visit_rate"): [R(0, 0)] * 3,
    # ordinary QTD: h04 visited in Mar; h07 in Feb (counts Feb and Mar, Q2 resets in Apr);
    # G21 h09 in Mar (Mar only), h10 in Apr; G41 h18 in Apr.
    ("grid", G11, "ordinary_visit_rate_qtd"): [R(0, 1), R(1, 1), R(0, 1)],
    ("grid", G12, "ordinary_visit_rate_qtd"): [R(1, 1), R(1, 1), R(0, 1)],
    ("grid", G21, "ordinary_visit_rate_qtd"): [R(0, 4), R(1, 4), R(1, 4)],
    ("grid", G31, "ordinary_visit_rate_qtd"): [R(0, 5)] * 3,
    ("grid", G41, "ordinary_visit_rate_qtd"): [R(0, 5), R(0, 5), R(1, 5)],
    ("grid", G11, "events_reported"): [N(0), N(1), N(0)],   # ev09
    ("grid", G12, "events_reported"): [N(0), N(1), N(0)],   # ev10
    ("grid", G21, "events_reported"): [N(5), N(1), N(0)],   # ev01–05; ev08
    ("grid", G31, "events_reported"): [N(0), N(2), N(0)],   # ev06, ev11
    ("grid", G41, "events_reported"): [N(1), N(0), N(0)],   # ev07
    # --- village level ---------------------------------------------------------------------------
    ("village", V1, "grid_active_rate"): [R(2, 2), R(2, 2), R(0, 2)],
    ("village", V2, "grid_active_rate"): [R(1, 1), R(1, 1), R(1, 1)],
    ("village", V3, "grid_active_rate"): [R(0, 1), R(1, 1), R(0, 1)],
    ("village", V4, "grid_active_rate"): [R(1, 1), R(0, 1), R(1, 1)],
    ("village", V1, "key_visit_rate"): [R(4, 5), R(5, 5), R(0, 5)],
    ("village", V2, "key_visit_rate"): [R(0, 1), R(1, 1), R(0, 1)],
    ("village", V3, "key_visit_rate"): [R(0, 0)] * 3,
    ("village", V4, "key_visit_rate"): [R(0, 0)] * 3,
    ("village", V1, "ordinary_visit_rate_qtd"): [R(1, 2), R(2, 2), R(0, 2)],
    ("village", V2, "ordinary_visit_rate_qtd"): [R(0, 4), R(1, 4), R(1, 4)],
    ("village", V3, "ordinary_visit_rate_qtd"): [R(0, 5)] * 3,
    ("village", V4, "ordinary_visit_rate_qtd"): [R(0, 5), R(0, 5), R(1, 5)],
    ("village", V1, "events_reported"): [N(0), N(2), N(0)],
    ("village", V2, "events_reported"): [N(5), N(1), N(0)],
    ("village", V3, "events_reported"): [N(0), N(2), N(0)],
    ("village", V4, "events_reported"): [N(1), N(0), N(0)],
    # closure: of those reported in the month, closed now. V1 Mar: ev10 closed, ev09 open;
    # V3 Mar: ev11 closed (in May, but closed now), ev06 open.
    ("village", V1, "event_closure_rate"): [R(0, 0), R(1, 2), R(0, 0)],
    ("village", V2, "event_closure_rate"): [R(5, 5), R(1, 1), R(0, 0)],
    ("village", V3, "event_closure_rate"): [R(0, 0), R(1, 2), R(0, 0)],
    ("village", V4, "event_closure_rate"): [R(1, 1), R(0, 0), R(0, 0)],
    # closed in the month: Feb V2 ev01–05, V4 ev07; Mar V2 ev08; Apr V1 ev10; ev11 (May) nowhere.
    ("village", V1, "on_time_rate"): [R(0, 0), R(0, 0), R(0, 1)],       # ev10 late
    ("village", V2, "on_time_rate"): [R(4, 5), R(1, 1), R(0, 0)],       # ev04 late
    ("village", V3, "on_time_rate"): [R(0, 0)] * 3,
    ("village", V4, "on_time_rate"): [R(1, 1), R(0, 0), R(0, 0)],
    ("village", V1, "median_handle_hours"): [M(0, None), M(0, None), M(1, 144.0)],
    ("village", V2, "median_handle_hours"): [M(5, 48.0), M(1, 24.0), M(0, None)],  # 24 42 48 60 144
    ("village", V3, "median_handle_hours"): [M(0, None)] * 3,
    ("village", V4, "median_handle_hours"): [M(1, 30.0), M(0, None), M(0, None)],
    ("village", V1, "grid_resolution_rate"): [R(0, 0), R(0, 0), R(0, 1)],       # 县
    ("village", V2, "grid_resolution_rate"): [R(3, 5), R(0, 1), R(0, 0)],       # ev01 ev03 ev05; ev08 村
    ("village", V3, "grid_resolution_rate"): [R(0, 0)] * 3,
    ("village", V4, "grid_resolution_rate"): [R(0, 1), R(0, 0), R(0, 0)],       # 村
    ("village", V1, "village_resolution_rate"): [R(0, 0), R(0, 0), R(0, 1)],
    ("village", V2, "village_resolution_rate"): [R(4, 5), R(1, 1), R(0, 0)],    # all but ev04 乡镇
    ("village", V3, "village_resolution_rate"): [R(0, 0)] * 3,
    ("village", V4, "village_resolution_rate"): [R(1, 1), R(0, 0), R(0, 0)],
    # satisfaction: Feb V2 callbacks ev01 满意, ev02 基本满意, ev04 不满意, ev05 满意 (ev03 未回访 out).
    ("village", V1, "satisfaction_rate"): [R(0, 0), R(0, 0), R(0, 1)],          # ev10 不满意
    ("village", V2, "satisfaction_rate"): [R(3, 4), R(1, 1), R(0, 0)],
    ("village", V3, "satisfaction_rate"): [R(0, 0)] * 3,
    ("village", V4, "satisfaction_rate"): [R(0, 0)] * 3,                        # ev07 no callback
    ("village", V1, "disputes_registered"): [N(0), N(2), N(0)],                 # d03 d04
    ("village", V2, "disputes_registered"): [N(0), N(1), N(1)],                 # d05; d07
    ("village", V3, "disputes_registered"): [N(0), N(2), N(0)],                 # d01 d02
    ("village", V4, "disputes_registered"): [N(0), N(0), N(1)],                 # d06
    ("village", V1, "disputes_per_1000"): [P1000(0, 700), P1000(2, 700), P1000(0, 700)],
    ("village", V2, "disputes_per_1000"): [P1000(0, 500), P1000(1, 500), P1000(1, 500)],
    ("village", V3, "disputes_per_1000"): [P1000(0, 400), P1000(2, 400), P1000(0, 400)],
    ("village", V4, "disputes_per_1000"): [P1000(0, 250), P1000(0, 250), P1000(1, 250)],
    # concluded: Mar d03 (V1 不成功), d01 (V3 成功); Apr d04 (V1 移交), d05 d07 (V2 成功), d06 (V4 成功).
    ("village", V1, "mediation_success_rate"): [R(0, 0), R(0, 1), R(0, 1)],
    ("village", V2, "mediation_success_rate"): [R(0, 0), R(0, 0), R(2, 2)],
    ("village", V3, "mediation_success_rate"): [R(0, 0), R(1, 1), R(0, 0)],
    ("village", V4, "mediation_success_rate"): [R(0, 0), R(0, 0), R(1, 1)],
    ("village", V1, "petitions"): [N(0)] * 3,
    ("village", V2, "petitions"): [N(0)] * 3,
    ("village", V3, "petitions"): [N(0), N(1), N(0)],                            # d01
    ("village", V4, "petitions"): [N(0)] * 3,
    ("village", V1, "points_participation_rate"): [R(7, 7), R(0, 7), R(7, 7)],
    ("village", V2, "points_participation_rate"): [R(3, 5), R(2, 5), R(4, 5)],
    ("village", V3, "points_participation_rate"): [R(5, 5), R(5, 5), R(0, 5)],
    ("village", V4, "points_participation_rate"): [R(5, 5), R(3, 5), R(5, 5)],
    # confirmed sums: V1 Feb 10+5+5+5+5−2+3 = 31, Apr 7; V2 4+4+2 = 10, 3+6 = 9, 4×2 = 8;
    # V3 8+6+6+4+2 = 26, 5×2 = 10; V4 25, 5+5−5 = 5, 5.
    ("village", V1, "points_per_household"): [R(31, 7), R(0, 7), R(7, 7)],
    ("village", V2, "points_per_household"): [R(10, 5), R(9, 5), R(8, 5)],
    ("village", V3, "points_per_household"): [R(26, 5), R(10, 5), R(0, 5)],
    ("village", V4, "points_per_household"): [R(25, 5), R(5, 5), R(5, 5)],
    # redeemed / positive confirmed: V1 Feb positives 33; Mar r02 5 / 0; V3 Mar r01 10 / 10;
    # V4 Mar positives 10 (h20's −5 excluded); Apr r03 4 / 8, r04 5 / 5.
    ("village", V1, "redemption_rate"): [R(0, 33), R(5, 0), R(0, 7)],
    ("village", V2, "redemption_rate"): [R(0, 10), R(0, 9), R(4, 8)],
    ("village", V3, "redemption_rate"): [R(0, 26), R(10, 10), R(0, 0)],
    ("village", V4, "redemption_rate"): [R(0, 25), R(0, 10), R(5, 5)],
    # timeliness (visits + events + points): V1 Feb 5/6 + 0 + 6/7 = 11/13; Mar 5/6 + 2/2 + 1/1 = 8/9;
    # Apr 7/7. V2 Feb 1/1 + 4/5 + 5/5 = 10/11; Mar 2/2 + 1/1 + 2/2; Apr 0/1 + 4/4 = 4/5.
    # V3 Feb 5/5; Mar 1/1 + 2/2 + 0/5 = 3/8; Apr 1/1 (rejected p46). V4 Feb 1/1 + 5/5; Mar 3/3; Apr 1/1 + 5/5.
    ("village", V1, "entry_timeliness_rate"): [R(11, 13), R(8, 9), R(7, 7)],
    ("village", V2, "entry_timeliness_rate"): [R(10, 11), R(5, 5), R(4, 5)],
    ("village", V3, "entry_timeliness_rate"): [R(5, 5), R(3, 8), R(1, 1)],
    ("village", V4, "entry_timeliness_rate"): [R(6, 6), R(3, 3), R(6, 6)],
    # --- township level: sums of the villages' numerators and denominators ------------------------
    ("township", T1, "grid_active_rate"): [R(3, 3), R(3, 3), R(1, 3)],
    ("township", T2, "grid_active_rate"): [R(1, 2), R(1, 2), R(1, 2)],
    ("township", T1, "key_visit_rate"): [R(4, 6), R(6, 6), R(0, 6)],
    ("township", T2, "key_visit_rate"): [R(0, 0)] * 3,
    ("township", T1, "ordinary_visit_rate_qtd"): [R(1, 6), R(3, 6), R(1, 6)],
    ("township", T2, "ordinary_visit_rate_qtd"): [R(0, 10), R(0, 10), R(1, 10)],
    ("township", T1, "events_reported"): [N(5), N(3), N(0)],
    ("township", T2, "events_reported"): [N(1), N(2), N(0)],
    ("township", T1, "event_closure_rate"): [R(5, 5), R(2, 3), R(0, 0)],
    ("township", T2, "event_closure_rate"): [R(1, 1), R(1, 2), R(0, 0)],
    ("township", T1, "on_time_rate"): [R(4, 5), R(1, 1), R(0, 1)],
    ("township", T2, "on_time_rate"): [R(1, 1), R(0, 0), R(0, 0)],
    ("township", T1, "median_handle_hours"): [M(5, 48.0), M(1, 24.0), M(1, 144.0)],
    ("township", T2, "median_handle_hours"): [M(1, 30.0), M(0, None), M(0, None)],
    ("township", T1, "grid_resolution_rate"): [R(3, 5), R(0, 1), R(0, 1)],
    ("township", T2, "grid_resolution_rate"): [R(0, 1), R(0, 0), R(0, 0)],
    ("township", T1, "village_resolution_rate"): [R(4, 5), R(1, 1), R(0, 1)],
    ("township", T2, "village_resolution_rate"): [R(1, 1), R(0, 0), R(0, 0)],
    ("township", T1, "satisfaction_rate"): [R(3, 4), R(1, 1), R(0, 1)],
    ("township", T2, "satisfaction_rate"): [R(0, 0)] * 3,
    ("township", T1, "disputes_registered"): [N(0), N(3), N(1)],
    ("township", T2, "disputes_registered"): [N(0), N(2), N(1)],
    ("township", T1, "disputes_per_1000"): [P1000(0, 1200), P1000(3, 1200), P1000(1, 1200)],
    ("township", T2, "disputes_per_1000"): [P1000(0, 650), P1000(2, 650), P1000(1, 650)],
    ("township", T1, "mediation_success_rate"): [R(0, 0), R(0, 1), R(2, 3)],
    ("township", T2, "mediation_success_rate"): [R(0, 0), R(1, 1), R(1, 1)],
    ("township", T1, "petitions"): [N(0)] * 3,
    ("township", T2, "petitions"): [N(0), N(1), N(0)],
    ("township", T1, "points_participation_rate"): [R(10, 12), R(2, 12), R(11, 12)],
    ("township", T2, "points_participation_rate"): [R(10, 10), R(8, 10), R(5, 10)],
    ("township", T1, "points_per_household"): [R(41, 12), R(9, 12), R(15, 12)],
    ("township", T2, "points_per_household"): [R(51, 10), R(15, 10), R(5, 10)],
    ("township", T1, "redemption_rate"): [R(0, 43), R(5, 9), R(4, 15)],
    ("township", T2, "redemption_rate"): [R(0, 51), R(10, 20), R(5, 5)],
    ("township", T1, "entry_timeliness_rate"): [R(21, 24), R(13, 14), R(11, 12)],
    ("township", T2, "entry_timeliness_rate"): [R(11, 11), R(6, 11), R(7, 7)],
    # --- county level ----------------------------------------------------------------------------
    ("county", C, "grid_active_rate"): [R(4, 5), R(4, 5), R(2, 5)],
    ("county", C, "key_visit_rate"): [R(4, 6), R(6, 6), R(0, 6)],
    ("county", C, "ordinary_visit_rate_qtd"): [R(1, 16), R(3, 16), R(2, 16)],
    ("county", C, "events_reported"): [N(6), N(5), N(0)],
    ("county", C, "event_closure_rate"): [R(6, 6), R(3, 5), R(0, 0)],
    ("county", C, "on_time_rate"): [R(5, 6), R(1, 1), R(0, 1)],
    # Feb county: 24 30 42 48 60 144: even count, mean of the middle two (42 + 48) / 2 = 45.
    ("county", C, "median_handle_hours"): [M(6, 45.0), M(1, 24.0), M(1, 144.0)],
    ("county", C, "grid_resolution_rate"): [R(3, 6), R(0, 1), R(0, 1)],
    ("county", C, "village_resolution_rate"): [R(5, 6), R(1, 1), R(0, 1)],
    ("county", C, "satisfaction_rate"): [R(3, 4), R(1, 1), R(0, 1)],
    ("county", C, "disputes_registered"): [N(0), N(5), N(2)],
    ("county", C, "disputes_per_1000"): [P1000(0, 1850), P1000(5, 1850), P1000(2, 1850)],
    ("county", C, "mediation_success_rate"): [R(0, 0), R(1, 2), R(3, 4)],
    ("county", C, "petitions"): [N(0), N(1), N(0)],
    ("county", C, "points_participation_rate"): [R(20, 22), R(10, 22), R(16, 22)],
    ("county", C, "points_per_household"): [R(92, 22), R(24, 22), R(20, 22)],
    ("county", C, "redemption_rate"): [R(0, 94), R(15, 29), R(9, 20)],
    ("county", C, "entry_timeliness_rate"): [R(32, 35), R(19, 25), R(18, 19)],
}


def _actual(con) -> dict:
    rows = con.execute(
        "select unit_level, unit_code, indicator_id, period, numerator, denominator, value, low_n "
        "from indicator_values"
    ).fetchall()
    return {(lv, u, i, p): (n, den, v, low) for lv, u, i, p, n, den, v, low in rows}


def test_every_indicator_at_every_level_by_hand(con):
    actual = _actual(con)
    # Every (unit, indicator, month) has exactly one row, and nothing else exists:
    # 5 grids × 4 + (4 villages + 2 townships + 1 county) × 18 = 146 series × 3 months.
    assert len(EXPECTED) == 5 * 4 + 7 * 18
    assert set(actual) == {(lv, u, i, p) for (lv, u, i) in EXPECTED for p in PERIODS}
    for (lv, u, i), per_month in EXPECTED.items():
        for p, (n, den, v) in zip(PERIODS, per_month, strict=True):
            got_n, got_den, got_v, _ = actual[(lv, u, i, p)]
            assert (got_n, got_den) == (n, den), (lv, u, i, p)
            if v is None:
                assert got_v is None, (lv, u, i, p)
            else:
                assert got_v == pytest.approx(v, rel=1e-12), (lv, u, i, p)


def test_low_n_only_for_village_rates_below_five(con):
    cat = load_catalogue()
    for (lv, u, i, p), (_n, den, _v, low) in _actual(con).items():
        expected = lv == "village" and cat[i].kind == "rate" and den < 5
        assert low is expected, (lv, u, i, p)
    a = _actual(con)
    assert a[("village", V2, "satisfaction_rate", FEB)][3] is True       # 3/4: a value, but low n
    assert a[("village", V1, "key_visit_rate", FEB)][3] is False         # 4/5
    assert a[("township", T1, "satisfaction_rate", FEB)][3] is False     # township rows never low n


def test_month_without_events_gives_null_rates_and_zero_counts(con):
    a = _actual(con)
    for lv, u in (("county", C), ("township", T1), ("village", V3)):
        assert a[(lv, u, "events_reported", APR)][:3] == (0, None, 0)
        assert a[(lv, u, "event_closure_rate", APR)][:3] == (0, 0, None)
    assert a[("village", V3, "median_handle_hours", APR)][:3] == (0, None, None)
    # February has no dispute at all: counts 0, the mediation rate undefined, per-1000 is 0.
    assert a[("county", C, "disputes_registered", FEB)][2] == 0
    assert a[("county", C, "mediation_success_rate", FEB)][2] is None
    assert a[("county", C, "disputes_per_1000", FEB)][2] == 0


def test_months_come_from_occurrence_dates_only(con):
    periods = [r[0] for r in con.execute("select distinct period from indicator_values order by 1").fetchall()]
    assert periods == [FEB, MAR, APR]  # May entries (vs17, p47–p51) and the May closure add nothing


# ---------------------------------------------------------------------------------------------
# Scores (default weights: key 15, grid_active 10, closure 15, on_time 10, satisfaction 10,
# mediation 15, petitions 10, participation 15). Counted = has a value and is not low n.
#
# February
#   V1: key 4/5 → a 0.8; petitions 0 → a 1; participation 7/7 → a 1 (grid_active 2/2 low n)
#       100 × (15×0.8 + 10 + 15) / 40 = 100 × 37/40 = 92.5
#   V2: closure 5/5 → 1; on_time 4/5 → 0.8/0.95 = 16/19; petitions 1; participation 3/5 → 0.6/0.9 = 2/3
#       (key 0/1, grid_active 1/1, satisfaction 3/4 low n; mediation no value)
#       100 × (15 + 10×16/19 + 10 + 15×2/3) / 50 = 100 × (825/19) / 50 = 1650/19 = 86.842105…
#   V3: petitions 1, participation 5/5 → 100 × 25/25 = 100
#   V4: petitions 1, participation 5/5 → 100 (closure 1/1, on_time 1/1 low n)
#   ranks V3 1, V4 1 (tie), V1 3, V2 4; n = 4, k = ceil(0.4) = 1 → V3 and V4 red (nobody higher),
#   V2 black (nobody lower); first month: prev_rank NULL.
# March
#   V1: key 5/5 → 1; petitions 1; participation 0/7 → 0 → 100 × 25/40 = 62.5
#   V2: petitions 1; participation 2/5 → 0.4/0.9 = 4/9 → 100 × (10 + 15×4/9)/25 = 200/3 = 66.67
#   V3: petition d01 → a = 1 − (1 − 0)/2 = 0.5; participation 5/5 → 100 × (5 + 15)/25 = 80; veto
#   V4: petitions 1; participation 3/5 → 2/3 → 100 × (10 + 10)/25 = 80
#   ranks V3 1, V4 1, V2 3, V1 4. V3 vetoed: black although nobody scores higher (it would be red);
#   V4 red; V1 black. Changes: V3 1→1 0, V4 1→1 0, V2 4→3 +1, V1 3→4 −1.
# April (no events reported)
#   V1: key 0/5 → 0; petitions 1; participation 7/7 → 100 × 25/40 = 62.5
#   V2: petitions 1; participation 4/5 → 0.8/0.9 → 100 × (10 + 15×8/9)/25 = 280/3 = 93.33
#   V3: petitions 1; participation 0/5 → 0 → 100 × 10/25 = 40
#   V4: petitions 1; participation 5/5 → 100 (mediation 1/1 low n)
#   ranks V4 1, V2 2, V1 3, V3 4 → V4 red, V3 black. Changes: V4 0, V2 3→2 +1, V1 4→3 +1, V3 1→4 −3.

SCORES = {  # (period, village): (score, rank, prev_rank, rank_change, board, veto)
    (FEB, V1): (92.5, 3, None, None, None, False),
    (FEB, V2): (1650 / 19, 4, None, None, "black", False),
    (FEB, V3): (100.0, 1, None, None, "red", False),
    (FEB, V4): (100.0, 1, None, None, "red", False),
    (MAR, V1): (62.5, 4, 3, -1, "black", False),
    (MAR, V2): (200 / 3, 3, 4, 1, None, False),
    (MAR, V3): (80.0, 1, 1, 0, "black", True),
    (MAR, V4): (80.0, 1, 1, 0, "red", False),
    (APR, V1): (62.5, 3, 4, 1, None, False),
    (APR, V2): (280 / 3, 2, 3, 1, None, False),
    (APR, V3): (40.0, 4, 1, -3, "black", False),
    (APR, V4): (100.0, 1, 1, 0, "red", False),
}


def test_scores_ranks_boards_by_hand(con):
    rows = con.execute(
        "select period, village_code, township_code, score, rank, prev_rank, rank_change, board, veto "
        "from village_scores"
    ).fetchall()
    assert len(rows) == 12  # one row per village per month
    for period, village, township, score, rank, prev, change, board, veto in rows:
        e_score, e_rank, e_prev, e_change, e_board, e_veto = SCORES[(period, village)]
        assert township == village[:9]
        assert score == pytest.approx(e_score, abs=1e-8), (period, village)
        assert (rank, prev, change, board, veto) == (e_rank, e_prev, e_change, e_board, e_veto), (period, village)


def test_tied_scores_are_bit_identical(con):
    # 80 = 20 + 60 for V3 and 40 + 40 (= 100×15×(0.6/0.9)/25, not exactly 40 in binary) for V4.
    (a,), (b,) = con.execute(
        "select score from village_scores where period = ? and village_code in (?, ?)", [MAR, V3, V4]
    ).fetchall()
    assert a == b == 80.0


def test_explain_reproduces_the_score(con):
    rows = explain_village(con, V2, FEB)
    by_id = {r["indicator_id"]: r for r in rows}
    assert [r["indicator_id"] for r in rows] == [i.id for i in load_catalogue().weighted]
    # V2 February: Σw of counted = 15 + 10 + 10 + 15 = 50.
    assert by_id["event_closure_rate"]["contribution"] == pytest.approx(100 * 15 * 1 / 50)     # 30
    assert by_id["on_time_rate"]["contribution"] == pytest.approx(100 * 10 * (16 / 19) / 50)  # 16.842…
    assert by_id["on_time_rate"]["attainment"] == pytest.approx(0.8 / 0.95)
    assert by_id["petitions"]["contribution"] == pytest.approx(20.0)
    assert by_id["points_participation_rate"]["contribution"] == pytest.approx(20.0)
    assert by_id["satisfaction_rate"]["why_not_counted"] == "low_n"
    assert by_id["satisfaction_rate"]["value"] == pytest.approx(0.75)
    assert by_id["satisfaction_rate"]["contribution"] is None
    assert by_id["mediation_success_rate"]["why_not_counted"] == "no_value"
    assert by_id["key_visit_rate"]["why_not_counted"] == "low_n"        # 0/1
    assert by_id["on_time_rate"]["numerator"] == 4 and by_id["on_time_rate"]["denominator"] == 5
    assert by_id["on_time_rate"]["target"] == 0.95 and by_id["on_time_rate"]["weight"] == 10
    assert by_id["on_time_rate"]["name_zh"] == "按期办结率"
    assert {r["counted"] for r in rows if r["why_not_counted"] is None} == {True}
    for village in (V1, V2, V3, V4):
        for period in PERIODS:
            parts = explain_village(con, village, period)
            total = math.fsum(r["contribution"] for r in parts if r["counted"])
            (score,) = con.execute(
                "select score from village_scores where village_code = ? and period = ?", [village, period]
            ).fetchone()
            assert total == pytest.approx(score, abs=1e-9)
    # Exactly, in the warehouse's own decimals.
    mismatches = con.execute(
        """
        select count(*) from village_scores s
        join (select period, village_code, sum(contribution)::double as total
              from village_score_parts group by all) p using (period, village_code)
        where s.score is distinct from p.total
        """
    ).fetchone()[0]
    assert mismatches == 0


def test_explain_unknown_village_or_bad_period(con):
    assert explain_village(con, "999999999999", FEB) == []
    with pytest.raises(ValueError):
        explain_village(con, V1, "2025-2")


# ---------------------------------------------------------------------------------------------
# Stars, year 2025 (confirmed points only). n = 5: 5★ rank ≤ ceil(0.5) = 1, 4★ ≤ ceil(1.0) = 1,
# 3★ ≤ ceil(1.5) = 2. n = 7: 5★ ≤ 1, 4★ ≤ ceil(1.4) = 2, 3★ ≤ ceil(2.1) = 3.
#   V1: h01 10+1 = 11 (1) 5★; h02–h05 5+1 = 6 (2, tied) 4★; h07 3+1 = 4 (6) 0; h06 −2+1 = −1 (7) 0.
#   V2: h08 4+3+2 = 9 (1) 5★; h11 6+2 = 8 (2) 3★ (p11 pending); h09 4+2 = 6 (3) 0; h10 2+2 = 4
#       (4) 0 (p12 rejected); h12 no points at all: 0 (5) 0.
#   V3: h13 8+2 = 10 (1) 5★; h14, h15 6+2 = 8 (2) 3★; h16 4+2 = 6 (4) 0; h17 2+2 = 4 (5) 0.
#   V4: h18, h19 5+5+1 = 11 (1, tied) 5★; h21, h22 5+1 = 6 (3) 0; h20 5−5+1 = 1 (5) 0.
STARS = {
    "h01": (11, 1, 5), "h02": (6, 2, 4), "h03": (6, 2, 4), "h04": (6, 2, 4), "h05": (6, 2, 4),
    "h07": (4, 6, 0), "h06": (-1, 7, 0),
    "h08": (9, 1, 5), "h11": (8, 2, 3), "h09": (6, 3, 0), "h10": (4, 4, 0), "h12": (0, 5, 0),
    "h13": (10, 1, 5), "h14": (8, 2, 3), "h15": (8, 2, 3), "h16": (6, 4, 0), "h17": (4, 5, 0),
    "h18": (11, 1, 5), "h19": (11, 1, 5), "h21": (6, 3, 0), "h22": (6, 3, 0), "h20": (1, 5, 0),
}


def test_household_stars_by_hand(con):
    rows = con.execute(
        "select year, household_key, village_code, total_points, rank, stars from household_stars"
    ).fetchall()
    assert len(rows) == 22  # every registry household, one year
    for year, h, village, total, rank, stars in rows:
        assert year == 2025
        assert village == HOUSEHOLDS[h][1]
        assert (total, rank, stars) == STARS[h], h


def test_marts_match_the_contract(con):
    for table in ("indicator_values", "village_scores", "household_stars"):
        assert contract.check(con, table) == []


# ---------------------------------------------------------------------------------------------
# Configuration: a copy of the catalogue with points_participation_rate weight 15 → 30 and the
# on_time_rate target 0.95 → 0.80 changes the scores with no code change.
#   V2 February: on_time 0.8/0.8 → a 1; Σw = 15 + 10 + 10 + 30 = 65;
#       100 × (15 + 10 + 10 + 30×2/3) / 65 = 100 × 55/65 = 1100/13 = 84.615…
#   V1 February: Σw = 15 + 10 + 30 = 55; 100 × (12 + 10 + 30) / 55 = 1040/11 = 94.545…

def _edited_catalogue(tmp_path, edits: list[tuple[str, str, str]]):
    """Copy of the packaged catalogue with (indicator id, field line, replacement) edits."""
    text = load_catalogue().path.read_text(encoding="utf-8")
    lines = text.splitlines()
    for iid, old, new in edits:
        start = lines.index(f"  - id: {iid}")
        offset = next(n for n in range(start, len(lines)) if lines[n].strip() == old)
        lines[offset] = lines[offset].replace(old, new)
    path = tmp_path / "indicators.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_config_change_rescores_without_code_change(tmp_path, monkeypatch):
    path = _edited_catalogue(tmp_path, [
        ("points_participation_rate", "weight: 15", "weight: 30"),
        ("on_time_rate", "target: 0.95", "target: 0.80"),
    ])
    monkeypatch.setenv("XIANGZHI_INDICATORS", str(path))
    con = duckdb.connect()
    fill(con)
    build_marts(con)  # reads $XIANGZHI_INDICATORS
    scores = dict(con.execute(
        "select village_code, score from village_scores where period = ?", [FEB]
    ).fetchall())
    assert scores[V2] == pytest.approx(1100 / 13, abs=1e-8)
    assert scores[V1] == pytest.approx(1040 / 11, abs=1e-8)
    (target,) = con.execute("select target from cfg_indicator where indicator_id = 'on_time_rate'").fetchone()
    assert target == 0.80


# ---------------------------------------------------------------------------------------------
# A village with no history: with petitions weighted 0 (the veto stays), a village whose every
# weighted rate is undefined or low n has no score and no rank; the month it first scores it has
# no prev_rank. VB has one grid, no households and its first events in March.
#   VA (5 households, h1 confirmed points in both months):
#       Feb participation 1/5 → a = 0.2/0.9; only counted indicator → score 100 × 0.2/0.9 = 22.2…
#   VB Feb: grid_active 0/1 low n, key/participation no value, closure no value → NULL, unranked.
#   VB Mar: 5 events reported, 5 closed on time → closure 5/5 (a 1), on_time 5/5 (a 1) → 100;
#       rank 1, prev_rank NULL, rank_change NULL. VA Mar: 22.2… rank 2, prev 1, change −1.
# Stars in VA: only h1 has points (n = 5: 3★ cut is rank ≤ 2); the others tie at 0 on rank 2,
# within the 3★ cut, but a total of 0 earns no star.

VA, VB = "360001001003", "360001001004"


def test_new_village_has_no_prev_rank(tmp_path, monkeypatch):
    path = _edited_catalogue(tmp_path, [("petitions", "weight: 10", "weight: 0")])
    con = duckdb.connect()
    contract.create_empty(con)
    _insert(con, "dim_county", [dict(county_code=C, name="测试县")])
    _insert(con, "dim_township", [dict(township_code=T1, name="一乡", county_code=C)])
    _insert(con, "dim_village", [
        dict(village_code=VA, name="新甲村", township_code=T1, county_code=C, population=100),
        dict(village_code=VB, name="新乙村", township_code=T1, county_code=C, population=100),
    ])
    _insert(con, "dim_grid", [
        dict(grid_code=VA + "001", village_code=VA, township_code=T1),
        dict(grid_code=VB + "001", village_code=VB, township_code=T1),
    ])
    _insert(con, "dim_household", [
        dict(household_key=f"a{i}", grid_code=VA + "001", village_code=VA, township_code=T1, is_key=False)
        for i in range(1, 6)
    ])
    _insert(con, "fct_points", [
        dict(record_id=f"q{m}", household_key="a1", village_code=VA, township_code=T1, points=3.0,
             occurred_on=date(2025, m, 10), entered_on=date(2025, m, 10), review_status="已确认")
        for m in (2, 3)
    ])
    _insert(con, "fct_event", [
        dict(event_id=f"e{i}", grid_code=VB + "001", village_code=VB, township_code=T1,
             reported_at=datetime(2025, 3, i, 9), category="其他", status="已办结", is_closed=True,
             handling_level="网格", deadline=datetime(2025, 3, i + 3, 9), closed_at=datetime(2025, 3, i + 1, 9),
             entered_at=datetime(2025, 3, i, 9))
        for i in range(1, 6)
    ])
    build_marts(con, load_catalogue(path))
    got = {
        (p, v): rest for p, v, *rest in con.execute(
            "select period, village_code, score, rank, prev_rank, rank_change, board from village_scores"
        ).fetchall()
    }
    assert got[(FEB, VB)] == [None, None, None, None, None]
    assert got[(FEB, VA)][:4] == [pytest.approx(100 * 0.2 / 0.9), 1, None, None]
    assert got[(MAR, VB)][:4] == [100.0, 1, None, None]
    assert got[(MAR, VA)][:4] == [pytest.approx(100 * 0.2 / 0.9), 2, 1, -1]
    stars = dict(con.execute("select household_key, stars from household_stars").fetchall())
    assert stars == {"a1": 5, "a2": 0, "a3": 0, "a4": 0, "a5": 0}
    ranks = dict(con.execute("select household_key, rank from household_stars").fetchall())
    assert ranks == {"a1": 1, "a2": 2, "a3": 2, "a4": 2, "a5": 2}
    # With the default catalogue the same village is scored on petitions alone (0 → a = 1): SPEC §6
    # counts every indicator that has a value, and a count of 0 is a value.
    build_marts(con, load_catalogue())
    (score,) = con.execute(
        "select score from village_scores where period = ? and village_code = ?", [FEB, VB]
    ).fetchone()
    assert score == 100.0
