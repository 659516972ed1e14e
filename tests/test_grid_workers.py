"""Grid workers' monthly assessment 网格员月度考评 (SPEC §6.1) on a tiny warehouse worked out by hand.

County 360001; township T1 360001001 with villages V1 (grids G11, G12) and V2 (grid G21); township
T2 360001002 with village V3 (grid G31). Households h01–h20 live in G11 (h01–h12 key), h21–h40 in
G12 (h21–h25 key), h41–h55 in G21, h56–h75 in G31 (all ordinary). Months June–August 2025 (visits
and events happen in those months only; closings in September would not extend the range).

Workers (grid, name) and what they did, with every count and point below worked out by hand:

June, T1
  王伟 G11  18 households (h01–h18, h01 twice; 12 key), 12 patrols, 3 talks, 6 events reported and
            resolved in the grid; some records written "王 伟" (staging leaves one space).
            15 (cap) + 10 (cap) + 5 (cap) + 1.5 + 10 (cap) + 10 (cap) = 51.5 → 111.5 → clipped 100, 优秀, rank 1
  陈静 G12  15 households, 5 of them key → 60 + 15 + 5 = 80, 良好, rank 2 (tie)
  王伟 G21  the same name in another grid is another worker: 10 households (h41–h49 and h20 of G11:
            a record counts in its own grid), 20 patrols, 2 talks, 2 events
            → 60 + 10 + 5 (cap) + 1 + 4 = 80, 良好, rank 2 (tie)
  赵强 G21  (written "赵 强") 1 household (entered 3 calendar days later: on time), 1 patrol entered 4
            days later (late), 1 talk with no entry time (never late); events: E-ONTIME closed at its
            deadline, E-BARE closed before the end of its bare-date deadline day (23:59:59), both in the
            grid; E-LATE closed an hour after its deadline (村); E-OPEN never closed; E-AUG deadline in
            July, closed in August; plus a 群众上报 event naming him (not his).
            reported 5 → 10 (cap); resolved 2 → 4; overdue June: E-LATE, E-OPEN → −6; late 1 → −0.5
            → 60 + 1 + 0.5 + 0.5 + 10 + 4 − 6 − 0.5 = 69.5, 合格, rank 4
  李娜 G11  1 household (entered 5 days late); 7 events reported 3–9 June, deadline 10 June, entered
            4 days late: L1 closed 5 July in the grid, L2 closed 20 July (村), L3 closed 3 August
            (乡镇), L4–L7 never closed. reported 7 → 14 → 10 (cap); overdue 7 → −21 → −15 (cap);
            late 8 → −4 → 60 + 1 + 10 − 15 − 4 = 52, 不合格, rank 5
June, T2
  刘洋 G31  14 households, 10 patrols, 10 talks, 2 events (one resolved in the grid)
            → 60 + 14 + 5 + 5 + 4 + 2 = 90 exactly: 优秀, rank 1
  孙丽 G31  (written "孙 丽") two late home visits to one household → 60 + 1 − 1 = 60 exactly: 合格, rank 2
July, T1
  赵强 G21  E-AFTER reported 2 July with a deadline of 30 June (counts from its report month), closed
            5 July in the grid; overdue: E-AFTER, E-OPEN, E-AUG (its deadline month) → −9;
            reported 1 → +2, resolved 1 → +2 → 55, 不合格, rank 1
  李娜 G11  only lapses left: L3–L7 still open at the end of July → overdue 5 → −15; L1 resolved in
            the grid → +2 → 47, 不合格, rank 2. (L1 and L2, closed in July, no longer count.)
August, T1
  王伟 G11  2 patrols → 61, 合格, rank 1
  赵强 G21  E-OPEN still open → −3; E-AUG resolved in the grid (closed in August: not overdue) → +2
            → 59, 不合格, rank 2
  李娜 G11  L4–L7 open → overdue 4 → −12 → 48, 不合格, rank 3
No other rows: 陈静 has nothing after June; records with no name, and events of other sources, count
for nobody.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import pytest

from pipelines.catalogue import load_catalogue
from pipelines.models import contract
from pipelines.models.runner import build_marts

C, T1, T2 = "360001", "360001001", "360001002"
V1, V2, V3 = T1 + "001", T1 + "002", T2 + "001"
G11, G12, G21, G31 = V1 + "001", V1 + "002", V2 + "001", V3 + "001"
GRIDS = {G11: (V1, T1), G12: (V1, T1), G21: (V2, T1), G31: (V3, T2)}
ITEMS = ("households_visited", "key_households_visited", "patrols", "talks", "events_reported",
         "events_resolved_in_grid", "overdue_events", "late_entries")


def h(n: int) -> str:
    return f"h{n:02d}"


HOUSEHOLDS = {
    **{h(i): (G11, i <= 12) for i in range(1, 21)},
    **{h(i): (G12, i <= 25) for i in range(21, 41)},
    **{h(i): (G21, False) for i in range(41, 56)},
    **{h(i): (G31, False) for i in range(56, 76)},
}


def at(day: str, hour: int = 9) -> datetime:
    return datetime.fromisoformat(f"2025-{day}") + timedelta(hours=hour)


class Facts:
    def __init__(self):
        self.visits: list[dict] = []
        self.events: list[dict] = []

    def visit(self, grid, worker, kind, when, household=None, lag_days: float | None = 0):
        self.visits.append(dict(
            record_id=f"v{len(self.visits):03d}", grid_code=grid, village_code=GRIDS[grid][0],
            township_code=GRIDS[grid][1], worker=worker, household_key=household, visit_type=kind,
            visited_at=when, entered_at=None if lag_days is None else when + timedelta(days=lag_days)))

    def event(self, eid, grid, reporter, reported, deadline, closed=None, level="网格", source="网格员巡查",
              lag_days: float | None = 0):
        closed_ok = closed is not None
        self.events.append(dict(
            event_id=eid, grid_code=grid, village_code=GRIDS[grid][0], township_code=GRIDS[grid][1],
            reporter=reporter, reported_at=reported, category="其他", source=source,
            handling_level=level if closed_ok else None, status="已办结" if closed_ok else "处置中",
            is_closed=closed_ok, accepted_at=reported + timedelta(hours=1), deadline=deadline, closed_at=closed,
            entered_at=None if lag_days is None else reported + timedelta(days=lag_days)))


def facts() -> Facts:
    f = Facts()
    # 王伟 in G11, June: 18 households (h01 twice), 12 patrols, 3 talks, 6 events resolved in the grid.
    for i in range(1, 19):
        f.visit(G11, "王伟" if i % 2 else "王 伟", "走访", at(f"06-{i:02d}"), h(i))
    f.visit(G11, "王伟", "走访", at("06-20"), h(1))
    for i in range(12):
        f.visit(G11, "王 伟", "巡查", at(f"06-{i + 1:02d}", 15))
    for i in range(3):
        f.visit(G11, "王伟", "宣讲", at(f"06-{i + 21:02d}"))
    for i in range(6):
        f.event(f"W{i}", G11, "王伟", at(f"06-{i + 1:02d}"), at(f"06-{i + 4:02d}"), at(f"06-{i + 2:02d}"))
    # 王伟 in G11, August: 2 patrols.
    f.visit(G11, "王伟", "巡查", at("08-05"))
    f.visit(G11, "王伟", "巡查", at("08-25"))
    # 陈静 in G12, June: 15 households, 5 key.
    for i in range(21, 36):
        f.visit(G12, "陈静", "走访", at(f"06-{i - 20:02d}"), h(i))
    # 王伟 in G21, June: 10 households (h20 belongs to G11), 20 patrols, 2 talks, 2 open events whose
    # deadline is after August (never overdue in the range).
    for i in list(range(41, 50)) + [20]:
        f.visit(G21, "王伟", "走访", at("06-10"), h(i))
    for i in range(20):
        f.visit(G21, "王伟", "巡查", at(f"06-{i + 1:02d}", 16))
    f.visit(G21, "王伟", "宣讲", at("06-11"))
    f.visit(G21, "王伟", "宣讲", at("06-12"))
    f.event("X1", G21, "王伟", at("06-15"), at("09-30"))
    f.event("X2", G21, "王伟", at("06-16"), at("09-30"))
    # 赵强 in G21.
    f.visit(G21, "赵 强", "走访", at("06-01"), h(50), lag_days=3)
    f.visit(G21, "赵强", "巡查", at("06-02"), lag_days=4)
    f.visit(G21, "赵强", "宣讲", at("06-03"), lag_days=None)
    f.event("E-ONTIME", G21, "赵强", at("06-05"), at("06-08"), closed=at("06-08"))
    f.event("E-BARE", G21, "赵 强", at("06-09"), datetime(2025, 6, 10, 23, 59, 59), closed=at("06-10", 20))
    f.event("E-LATE", G21, "赵强", at("06-11"), at("06-12"), closed=at("06-12", 10), level="村")
    f.event("E-OPEN", G21, "赵强", at("06-20"), at("06-25"))
    f.event("E-AUG", G21, "赵强", at("06-25"), at("07-02"), closed=at("08-10"))
    f.event("E-AFTER", G21, "赵强", at("07-02"), at("06-30"), closed=at("07-05"))
    f.event("E-PUBLIC", G21, "赵强", at("06-06"), at("06-07"), source="群众上报")
    f.event("E-NONAME", G21, None, at("06-07"), at("06-08"))
    f.visit(G21, None, "巡查", at("06-08"))
    # 李娜 in G11.
    f.visit(G11, "李娜", "走访", at("06-02"), h(19), lag_days=5)
    closings = {1: (at("07-05"), "网格"), 2: (at("07-20"), "村"), 3: (at("08-03"), "乡镇")}
    for i in range(1, 8):
        closed, level = closings.get(i, (None, "网格"))
        f.event(f"L{i}", G11, "李娜", at(f"06-{i + 2:02d}"), at("06-10"), closed=closed, level=level, lag_days=4)
    # 刘洋 in G31, June: 14 households, 10 patrols, 10 talks, 2 events, one resolved in the grid.
    for i in range(56, 70):
        f.visit(G31, "刘洋", "走访", at(f"06-{i - 55:02d}"), h(i))
    for i in range(10):
        f.visit(G31, "刘洋", "巡查", at(f"06-{i + 1:02d}", 17))
        f.visit(G31, "刘洋", "宣讲", at(f"06-{i + 1:02d}", 18))
    f.event("Y1", G31, "刘洋", at("06-03"), at("06-06"), closed=at("06-04"))
    f.event("Y2", G31, "刘洋", at("06-05"), at("09-30"))
    # 孙丽 in G31, June: two late home visits to one household.
    f.visit(G31, "孙 丽", "走访", at("06-04"), h(70), lag_days=4)
    f.visit(G31, "孙丽", "走访", at("06-05"), h(70), lag_days=6)
    return f


def fill(con) -> None:
    contract.create_empty(con)
    f = facts()

    def put(table, rows):
        cols = list(rows[0])
        con.executemany(f"insert into {table} ({', '.join(cols)}) values ({', '.join('?' for _ in cols)})",
                        [[r[c] for c in cols] for r in rows])

    put("dim_county", [dict(county_code=C, name="测试县")])
    put("dim_township", [dict(township_code=T1, name="一乡", county_code=C),
                         dict(township_code=T2, name="二镇", county_code=C)])
    put("dim_village", [dict(village_code=v, name=n, township_code=v[:9], county_code=C)
                        for v, n in ((V1, "甲村"), (V2, "乙村"), (V3, "丙村"))])
    put("dim_grid", [dict(grid_code=g, grid_name=g[-6:], village_code=v, township_code=t, grid_head="某网格长",
                          worker_count=9) for g, (v, t) in GRIDS.items()])
    put("dim_household", [dict(household_key=k, grid_code=g, village_code=GRIDS[g][0], township_code=GRIDS[g][1],
                               is_key=key, key_type="低保五保户" if key else None)
                          for k, (g, key) in HOUSEHOLDS.items()])
    put("fct_visit", f.visits)
    put("fct_event", f.events)


#   (period, grid, name): (8 counts, 8 points, total, grade, rank)
EXPECTED = {
    ("2025-06", G11, "王伟"): ((18, 12, 12, 3, 6, 6, 0, 0), (15, 10, 5, 1.5, 10, 10, 0, 0), 100, "优秀", 1),
    ("2025-06", G12, "陈静"): ((15, 5, 0, 0, 0, 0, 0, 0), (15, 5, 0, 0, 0, 0, 0, 0), 80, "良好", 2),
    ("2025-06", G21, "王伟"): ((10, 0, 20, 2, 2, 0, 0, 0), (10, 0, 5, 1, 4, 0, 0, 0), 80, "良好", 2),
    ("2025-06", G21, "赵强"): ((1, 0, 1, 1, 5, 2, 2, 1), (1, 0, 0.5, 0.5, 10, 4, -6, -0.5), 69.5, "合格", 4),
    ("2025-06", G11, "李娜"): ((1, 0, 0, 0, 7, 0, 7, 8), (1, 0, 0, 0, 10, 0, -15, -4), 52, "不合格", 5),
    ("2025-06", G31, "刘洋"): ((14, 0, 10, 10, 2, 1, 0, 0), (14, 0, 5, 5, 4, 2, 0, 0), 90, "优秀", 1),
    ("2025-06", G31, "孙丽"): ((1, 0, 0, 0, 0, 0, 0, 2), (1, 0, 0, 0, 0, 0, 0, -1), 60, "合格", 2),
    ("2025-07", G21, "赵强"): ((0, 0, 0, 0, 1, 1, 3, 0), (0, 0, 0, 0, 2, 2, -9, 0), 55, "不合格", 1),
    ("2025-07", G11, "李娜"): ((0, 0, 0, 0, 0, 1, 5, 0), (0, 0, 0, 0, 0, 2, -15, 0), 47, "不合格", 2),
    ("2025-08", G11, "王伟"): ((0, 0, 2, 0, 0, 0, 0, 0), (0, 0, 1, 0, 0, 0, 0, 0), 61, "合格", 1),
    ("2025-08", G21, "赵强"): ((0, 0, 0, 0, 0, 1, 1, 0), (0, 0, 0, 0, 0, 2, -3, 0), 59, "不合格", 2),
    ("2025-08", G11, "李娜"): ((0, 0, 0, 0, 0, 0, 4, 0), (0, 0, 0, 0, 0, 0, -12, 0), 48, "不合格", 3),
}

COLUMNS = ", ".join([*ITEMS, *(f"{i}_points" for i in ITEMS), "total", "grade", "rank_in_township"])


def scores(con) -> dict:
    rows = con.execute(
        f"select period, grid_code, worker_name, village_code, township_code, {COLUMNS} from grid_worker_scores"
    ).fetchall()
    out = {}
    for r in rows:
        assert r[3] == r[1][:12] and r[4] == r[1][:9]  # the grid's own village and township
        out[r[:3]] = (tuple(r[5:13]), tuple(r[13:21]), r[21], r[22], r[23])
    return out


@pytest.fixture(scope="module")
def con():
    con = duckdb.connect()
    fill(con)
    build_marts(con, load_catalogue())
    yield con
    con.close()


def test_every_row_by_hand(con):
    got = scores(con)
    assert set(got) == set(EXPECTED)
    for key, exp in EXPECTED.items():
        assert got[key] == exp, key


def test_types_follow_the_contract(con):
    assert contract.check(con, "grid_worker_scores") == []
    types = dict(con.execute("select column_name, column_type from (describe grid_worker_scores)").fetchall())
    assert {types[i] for i in ITEMS} == {"INTEGER"} and types["rank_in_township"] == "INTEGER"
    assert {types[f"{i}_points"] for i in ITEMS} == {"DOUBLE"} and types["total"] == "DOUBLE"


def test_sheet_points_match_python(con):
    """WorkerItem.score and WorkerSheet.grade (the page, the pack and the property test use them)
    agree with the SQL on every row."""
    sheet = load_catalogue().workers
    for (counts, points, total, grade, _rank) in scores(con).values():
        assert tuple(sheet[i].score(n) for i, n in zip(ITEMS, counts, strict=True)) == points
        assert min(100, max(0, sheet.base + sum(points))) == total
        assert sheet.grade(total) == grade


def _edited(tmp_path, replacements: list[tuple[str, str]]):
    text = load_catalogue().path.read_text(encoding="utf-8")
    head, sheet = text.split("\nworker_assessment:\n")
    for old, new in replacements:
        assert old in sheet
        sheet = sheet.replace(old, new, 1)
    path = tmp_path / "indicators.yaml"
    path.write_text(head + "\nworker_assessment:\n" + sheet, encoding="utf-8")
    return load_catalogue(path)


def test_total_is_clipped_at_zero_with_a_lower_base(tmp_path):
    # base 10: 李娜 in July is 10 − 15 + 2 = −3 → 0; 赵强 in July 10 + 2 + 2 − 9 = 5.
    con = duckdb.connect()
    fill(con)
    build_marts(con, _edited(tmp_path, [("base: 60", "base: 10")]))
    got = scores(con)
    assert got[("2025-07", G11, "李娜")][2:] == (0, "不合格", 2)
    assert got[("2025-07", G21, "赵强")][2:] == (5, "不合格", 1)
    assert got[("2025-06", G11, "王伟")][2] == 61.5  # 10 + 51.5: no longer clipped


def test_grades_and_ranks_use_totals_rounded_to_4_decimals(tmp_path):
    # A patrol worth 0.49999999: 刘洋's 10 patrols give 4.9999999, his total 89.9999999 (stored
    # unrounded) is 90.0000 at 4 decimals: 优秀. 王伟 G21's 20 patrols give 9.9999998, held to the cap
    # 5, so his 80 still ties 陈静's 80.
    con = duckdb.connect()
    fill(con)
    build_marts(con, _edited(tmp_path, [("points: 0.5\n      cap: 5", "points: 0.49999999\n      cap: 5")]))
    got = scores(con)
    counts, points, total, grade, rank = got[("2025-06", G31, "刘洋")]
    assert points[2] == pytest.approx(4.9999999, abs=1e-12) and total == pytest.approx(89.9999999, abs=1e-9)
    assert total != 90 and (grade, rank) == ("优秀", 1)
    assert got[("2025-06", G21, "王伟")][2:] == (80, "良好", 2)
    # 王伟 G11's 3 talks: still 0.5 each (only the first 0.5 line, patrols, was edited).
    assert got[("2025-06", G11, "王伟")][1][3] == 1.5


def test_near_ties_share_a_rank_when_equal_at_4_decimals(tmp_path):
    # 陈静's households worth 1.00000001 each: 15 → 15.00000015, held to the cap 15 → 80 exactly;
    # key households 5 × 1.00000001 = 5.00000005 → total 80.00000005, equal to 王伟 G21's 80 at 4
    # decimals: both rank 2, 赵强 rank 4.
    con = duckdb.connect()
    fill(con)
    build_marts(con, _edited(tmp_path, [("points: 1\n      cap: 10", "points: 1.00000001\n      cap: 10")]))
    got = scores(con)
    assert got[("2025-06", G12, "陈静")][2] == pytest.approx(80.00000005, abs=1e-9)
    assert got[("2025-06", G12, "陈静")][2] != 80
    assert [got[("2025-06", g, n)][4] for g, n in ((G12, "陈静"), (G21, "王伟"), (G21, "赵强"))] == [2, 2, 4]


# ---------------------------------------------------------------------------------------------
# The scoring sheet in the config file: SPEC §6.1's defaults, and every broken edit names its line.

def test_packaged_sheet_is_the_spec():
    s = load_catalogue().workers
    assert s.base == 60
    assert [(i.item, i.points, i.cap) for i in s.items] == [
        ("households_visited", 1, 15), ("key_households_visited", 1, 10), ("patrols", 0.5, 5), ("talks", 0.5, 5),
        ("events_reported", 2, 10), ("events_resolved_in_grid", 2, 10), ("overdue_events", -3, -15),
        ("late_entries", -0.5, -10),
    ]
    assert [(g.grade, g.min) for g in s.grades] == [("优秀", 90), ("良好", 80), ("合格", 60), ("不合格", None)]
    assert [s.grade(x) for x in (100, 90, 89.99996, 89.99994, 80, 79.5, 60, 59.5, 0)] == [
        "优秀", "优秀", "优秀", "良好", "良好", "合格", "合格", "不合格", "不合格"]


SHEET_LINES = load_catalogue().path.read_text(encoding="utf-8").splitlines()
SHEET_START = SHEET_LINES.index("worker_assessment:")


def _sheet_line(after: str, prefix: str) -> int:
    """1-based line of the first line starting with `prefix` at or after the line `after` (stripped)."""
    start = next(n for n in range(SHEET_START, len(SHEET_LINES)) if SHEET_LINES[n].strip() == after)
    return next(n for n in range(start, len(SHEET_LINES)) if SHEET_LINES[n].strip().startswith(prefix)) + 1


SHEET_CASES = [
    ("base above 100", "base: 60", "base:", "  base: 160", "base must be a number in 0–100"),
    ("unknown item", "- item: talks", "- item:", "    - item: speeches", "unknown item 'speeches'"),
    ("duplicate item", "- item: talks", "- item:", "    - item: patrols", "duplicate item 'patrols'"),
    ("positive lapse", "- item: overdue_events", "points:", "      points: 3", "a negative number (a lapse)"),
    ("lapse cap positive", "- item: late_entries", "cap:", "      cap: 10", "a negative number (a lapse)"),
    ("reward cap negative", "- item: patrols", "cap:", "      cap: -5", "a positive number (a reward)"),
    ("points text", "- item: talks", "points:", "      points: 半分", "a positive number (a reward)"),
    ("unknown item field", "- item: talks", "cap:", "      limit: 5", "unknown field 'limit'"),
    ("grade min text", "- grade: 良好", "min:", "      min: 八十", "min must be a number in 0–100"),
    ("grade order", "- grade: 合格", "min:", "      min: 85", "must be below the grade above (80)"),
    ("last grade with a min", "- grade: 不合格", "min:", "      min: 0", "the last grade takes no min"),
    ("renamed grade", "grades:", "- grade: 良好", "    - grade: 较好", "grades must be, in order"),
]


@pytest.mark.parametrize("case, after, prefix, new, words", SHEET_CASES, ids=[c[0] for c in SHEET_CASES])
def test_broken_sheet_edit_names_its_line(tmp_path, case, after, prefix, new, words):
    from pipelines.catalogue import CatalogueError

    line = _sheet_line(after, prefix)
    lines = list(SHEET_LINES)
    lines[line - 1] = new
    path = tmp_path / "indicators.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(CatalogueError) as err:
        load_catalogue(path)
    message = str(err.value)
    assert message.startswith(f"{path}, 第{line}行 / line {line}: "), message
    assert words in message


def test_missing_item_or_sheet(tmp_path):
    from pipelines.catalogue import CatalogueError

    start = _sheet_line("- item: late_entries", "- item:")
    lines = SHEET_LINES[: start - 1] + SHEET_LINES[start + 5:]
    path = tmp_path / "indicators.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="missing item.*late_entries"):
        load_catalogue(path)
    path.write_text("\n".join(SHEET_LINES[:SHEET_START]) + "\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="missing section 'worker_assessment'"):
        load_catalogue(path)


def test_sheet_reaches_the_mart_as_cfg_tables(con):
    rows = con.execute("select item, points, cap from cfg_worker_item order by ordinal").fetchall()
    assert rows[0] == ("households_visited", 1.0, 15.0) and rows[-1] == ("late_entries", -0.5, -10.0)
    assert con.execute("select value from cfg_setting where key = 'worker_base'").fetchone() == (60.0,)
    assert con.execute("select grade, min_total from cfg_worker_grade order by ordinal").fetchall() == [
        ("优秀", 90.0), ("良好", 80.0), ("合格", 60.0), ("不合格", None)]


# ---------------------------------------------------------------------------------------------
# Property: on a random warehouse (tests/test_marts_properties.random_warehouse, with worker names,
# reporters and sources drawn per record) and on the generator's tiny county after a real ingest,
# every row equals an independent Python recomputation from the fact rows.

def _month(ts) -> tuple[int, int]:
    return (ts.year, ts.month)


def oracle(con) -> dict:
    cat = load_catalogue()
    sheet, days = cat.workers, cat.settings.entry_timeliness_days
    occurred = []
    for sql in ("select min(visited_at), max(visited_at) from fct_visit",
                "select min(reported_at), max(reported_at) from fct_event",
                "select min(registered_on), max(registered_on) from fct_dispute",
                "select min(occurred_on), max(occurred_on) from fct_points",
                "select min(redeemed_on), max(redeemed_on) from fct_redemption"):
        occurred += [_month(x) for x in con.execute(sql).fetchone() if x is not None]
    first, last = min(occurred), max(occurred)
    months = []
    y, m = first
    while (y, m) <= last:
        months.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    in_range = set(months)
    grids = {g: t for g, t in con.execute("select grid_code, township_code from dim_grid").fetchall()}
    key = {k for (k,) in con.execute("select household_key from dim_household where is_key").fetchall()}
    counts: dict = {}

    def add(month, grid, name, item, n=1):
        if month in in_range and name:
            c = counts.setdefault((f"{month[0]:04d}-{month[1]:02d}", grid, name), dict.fromkeys(ITEMS, 0))
            c[item] += n

    def late(occ, entered) -> bool:
        return entered is not None and (entered.date() - occ.date()).days > days

    homes = set()
    for grid, worker, hh, kind, occ, entered in con.execute(
            "select grid_code, worker, household_key, visit_type, visited_at, entered_at from fct_visit").fetchall():
        name = "".join((worker or "").split())
        if kind == "走访" and hh is not None and (_month(occ), grid, name, hh) not in homes:
            homes.add((_month(occ), grid, name, hh))
            add(_month(occ), grid, name, "households_visited")
            if hh in key:
                add(_month(occ), grid, name, "key_households_visited")
        if kind == "巡查":
            add(_month(occ), grid, name, "patrols")
        if kind == "宣讲":
            add(_month(occ), grid, name, "talks")
        if late(occ, entered):
            add(_month(occ), grid, name, "late_entries")
    for grid, reporter, source, status, level, rep, deadline, closed, entered in con.execute(
            "select grid_code, reporter, source, status, handling_level, reported_at, deadline, closed_at, entered_at "
            "from fct_event").fetchall():
        name = "".join((reporter or "").split())
        if source != "网格员巡查" or not name:
            continue
        is_closed = status in ("已办结", "已回访") and closed is not None
        add(_month(rep), grid, name, "events_reported")
        if late(rep, entered):
            add(_month(rep), grid, name, "late_entries")
        if is_closed and level == "网格":
            add(_month(closed), grid, name, "events_resolved_in_grid")
        if not (is_closed and closed <= deadline):
            start = _month(max(deadline, rep))
            for mo in months:
                if mo == start or (mo > start and (not is_closed or _month(closed) > mo)):
                    add(mo, grid, name, "overdue_events")
    out = {}
    for (period, grid, name), c in counts.items():
        if not any(c.values()):
            continue
        points = tuple(sheet[i].score(c[i]) for i in ITEMS)
        total = min(100.0, max(0.0, sheet.base + sum(points)))
        out[(period, grid, name)] = [tuple(c[i] for i in ITEMS), points, total, sheet.grade(total), grids[grid]]
    for (period, _g, _n), row in out.items():
        peers = [r[2] for (p, _gg, _nn), r in out.items() if p == period and r[4] == row[4]]
        row.append(1 + sum(1 for x in peers if round(x, 4) > round(row[2], 4)))
    return {k: (v[0], v[1], v[2], v[3], v[5]) for k, v in out.items()}


def _random_workers_warehouse():
    from tests.test_marts_properties import random_warehouse

    con = duckdb.connect()
    random_warehouse(con, seed=11, months=4, households=20, events_per_grid_month=12,
                     visits_per_household_month=1.5)
    # Names per record from a small pool (spaces inside some, none for a few), so workers share names
    # across grids; sources from SPEC §3.2 with reporters named even when the source is not a worker.
    con.execute("""
        update fct_visit set worker = (['王伟', '王 伟', '王伟', '李娜', null, '陈 静'])
            [1 + (hash(record_id, 'w') % 6)::int]""")
    con.execute("""
        update fct_event set
            reporter = (['王伟', '李 娜', '赵强', null, '陈静'])[1 + (hash(event_id, 'r') % 5)::int],
            source = (['网格员巡查', '网格员巡查', '网格员巡查', '群众上报', '12345热线', '部门转办'])
                [1 + (hash(event_id, 's') % 6)::int],
            deadline = case when hash(event_id, 'd') % 4 = 0 then coalesce(closed_at, deadline)
                            when hash(event_id, 'd') % 4 = 1 then reported_at - interval 2 day
                            else deadline end,
            entered_at = case when hash(event_id, 'e') % 7 = 0 then null else entered_at end""")
    con.execute("update fct_visit set entered_at = null where hash(record_id, 'e') % 9 = 0")
    build_marts(con, load_catalogue())
    return con


@pytest.fixture(scope="module", params=["random", pytest.param("generated", marks=pytest.mark.slow)])
def any_con(request, tmp_path_factory):
    if request.param == "random":
        c = _random_workers_warehouse()
    else:
        from tests.test_marts_properties import _generated_warehouse

        c = _generated_warehouse(tmp_path_factory)
    yield c
    c.close()


def test_mart_equals_an_independent_recomputation(any_con):
    got = {k: v for k, v in scores(any_con).items()}
    exp = oracle(any_con)
    assert len(exp) > 20
    assert set(got) == set(exp)
    for k, v in exp.items():
        g = got[k]
        assert g[0] == v[0] and g[3:] == v[3:], k
        assert g[1] == pytest.approx(v[1], abs=1e-9) and g[2] == pytest.approx(v[2], abs=1e-9), k
    # The data exercises every item, both clips or caps, and ties.
    assert all(any(v[0][i] for v in exp.values()) for i in range(8))
    sheet = load_catalogue().workers
    capped = {ITEMS[i] for v in exp.values() for i in range(8)
              if v[0][i] * sheet[ITEMS[i]].points != v[1][i]}
    assert {"households_visited", "overdue_events"} <= capped, capped
    ranks = [(k[0], any_con.execute("select township_code from dim_grid where grid_code = ?", [k[1]]).fetchone()[0],
              v[4]) for k, v in exp.items()]
    assert len(ranks) > len(set(ranks)), "no tie in any township and month"


@pytest.mark.slow
@pytest.mark.parametrize("any_con", ["generated"], indirect=True)
def test_generator_manifest_names_the_injected_cases(any_con, tmp_path):
    """The generator's worker plan is in its manifest and shows up in the mart: a worker named in two
    grids has rows in both, the full-round worker reaches the households cap, the slack worker's
    overdue events reach theirs."""
    import json

    from pipelines.generate import generate

    generate("tiny", 5, tmp_path, 0.01)  # the same seed and scale as the ingested tiny county
    cases = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))["grid_workers"]
    assert cases["shared_workers"] and cases["full_round"] and cases["slack"]
    for s in cases["shared_workers"]:
        grids = {g for (g,) in any_con.execute(
            "select distinct grid_code from grid_worker_scores where worker_name = ?", [s["worker"]]).fetchall()}
        assert set(s["grids"]) <= grids, s
    for case, column, cap in (("full_round", "households_visited_points", 15), ("slack", "overdue_events_points", -15)):
        best = [any_con.execute(f"select {'max' if cap > 0 else 'min'}({column}) from grid_worker_scores "
                                "where grid_code = ? and worker_name = ?", [c["grid"], c["worker"]]).fetchone()[0]
                for c in cases[case]]
        assert cap in best, (case, best)


# ---------------------------------------------------------------------------------------------
# Through a real ingest: names as offices type them (full-width and non-breaking spaces) become one
# worker, and a deadline written as a bare date means the end of that day (SPEC §3.6, §6.1).

def test_ingested_names_and_bare_date_deadlines(home, tmp_path):
    from pipelines.load import ingest
    from tests import builders as b

    ingest(b.write_reference(tmp_path / "ref"))
    visits = b.write_csv(tmp_path / "走访_20250630.csv", b.VISIT_HEADER, [
        b.visit("V1", worker="王\u3000伟", at="2025-06-03 10:00", entered="2025-06-03 18:00"),
        b.visit("V2", worker=" 王\u00a0伟 ", kind="巡查", hh="", at="2025-06-04 10:00", entered="2025-06-09 08:00"),
        b.visit("V3", worker="", kind="巡查", hh="", at="2025-06-05 10:00", entered="2025-06-05 11:00"),
    ])
    ev = b.event("E1", reported="2025-06-02 09:00", deadline="2025-06-10", status="已办结", accepted="2025-06-02 10:00",
                 closed="2025-06-10 22:00")  # closed before the end of its bare-date deadline day: on time
    ev[2] = "王 伟"
    late = b.event("E2", reported="2025-06-03 09:00", deadline="2025-06-10", status="已办结",
                   accepted="2025-06-03 10:00", closed="2025-06-11 08:00", level="村")  # the next morning: overdue
    late[2] = "王伟"
    events = b.write_csv(tmp_path / "事件_20250630.csv", b.EVENT_HEADER, [ev, late])
    ingest([visits, events])
    con = duckdb.connect(str(home / "published" / "xiangzhi.duckdb"), read_only=True)
    try:
        rows = con.execute(f"select period, grid_code, worker_name, {COLUMNS} from grid_worker_scores").fetchall()
        deadline = con.execute("select deadline from fct_event where event_id = 'E1'").fetchone()[0]
    finally:
        con.close()
    assert deadline == datetime(2025, 6, 10, 23, 59, 59)
    # One worker 王伟 in G1: household H1 (a key household: both items), 1 patrol entered 5 days later
    # (late), 2 events, E1 resolved in the grid, E2 overdue; the patrol with no name counts for nobody.
    # 60 + 1 + 1 + 0.5 + 4 + 2 − 3 − 0.5 = 65
    assert rows == [("2025-06", b.G1, "王伟", 1, 1, 1, 0, 2, 1, 1, 1,
                     1.0, 1.0, 0.5, 0.0, 4.0, 2.0, -3.0, -0.5, 65.0, "合格", 1)]
