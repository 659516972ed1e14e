"""The five real systems' exports of tests/fixtures/real_formats load through their shipped import
profiles (SPEC §3.8), with values right: counts and cells of the core tables checked against the
files themselves (read here with fastexcel, independently of the readers)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import duckdb
import fastexcel
import pytest

from pipelines.load import ingest

FIX = Path(__file__).parent / "fixtures" / "real_formats"
FILES = {
    "jeecg_points": FIX / "01_jeecg_points" / "居民积分登记记录.xls",
    "tianque_households": FIX / "04_tianque_households" / "户籍人口信息登记表.xls",
    "nbs_division_codes": FIX / "06_nbs_villages" / "统计用区划代码_云岭县.xlsx",
    "gsm_minqing_log": FIX / "08_gsm_minqing_log" / "民情日志.xlsx",
    "gsm_event_query": FIX / "09_gsm_events" / "事件综合查询.xlsx",
}
REFERENCE = [FIX / "reference" / n for n in ("行政区划.csv", "网格边界.geojson", "户籍台账.csv")]
SECRET = "test-secret-key"
ODD = "某系统导出.csv"


def sheet_rows(path: Path, sheet: int = 0) -> list[tuple]:
    return fastexcel.read_excel(str(path)).load_sheet(sheet, header_row=None, dtypes="string").to_polars().rows()


def records(path: Path, header_row: int) -> list[dict]:
    """Data rows below the 1-based header row as dicts (header text stripped of * and spaces)."""
    rows = sheet_rows(path)
    head = [str(c or "").replace("*", "").strip() for c in rows[header_row - 1]]
    return [dict(zip(head, r, strict=False)) for r in rows[header_row:] if any(c for c in r)]


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    """Reference first, then all five formats in a later batch (their export time is later)."""
    home = tmp_path_factory.mktemp("real") / "home"
    mp = pytest.MonkeyPatch()
    mp.setenv("XIANGZHI_HOME", str(home))
    mp.setenv("XIANGZHI_SECRET", SECRET)
    ingest(REFERENCE)
    # and one export no profile knows: rejected whole, with the diagnosis as its reason
    odd = home.parent / ODD
    odd.write_text("受理编号,事件状态,所属地区,受理时间\nA1,办结,王家村,2025-07-01\n", encoding="utf-8")
    report = ingest(list(FILES.values()) + [odd])
    con = duckdb.connect(str(home / "published" / "xiangzhi.duckdb"), read_only=True)
    yield home, con, {f.file_name: f for f in report.files}
    con.close()
    mp.undo()


def q(con, sql, *params):
    return con.execute(sql, list(params)).fetchall()


def test_every_format_is_recognised_by_its_profile_and_rows_add_up(wh):
    _, con, _ = wh
    rows = {r[0]: r[1:] for r in q(con, "select file_name, profile, status, rows_read, rows_loaded, "
                                        "rows_quarantined, rows_duplicate, rows_non_data from load_files")}
    expected = {  # name: (rows read, loaded, non-data)
        "jeecg_points": (50, 48, 2),  # title + 导出人 rows above the header
        "tianque_households": (59, 52, 7),  # 4 title rows + the sub-caption row; bean sheet's 2 titles
        "nbs_division_codes": (5, 5, 0),
        "gsm_minqing_log": (40, 40, 0),
        "gsm_event_query": (40, 40, 0),
    }
    for prof, path in FILES.items():
        profile, status, read, loaded, quarantined, dup, non_data = rows[path.name]
        assert (profile, status) == (prof, "loaded")
        assert read == loaded + quarantined + dup + non_data
        assert (read, loaded, non_data) == expected[prof], prof
        assert quarantined == 0, prof


def test_jeecg_points_signed_by_category_with_derived_ids(wh):
    _, con, _ = wh
    recs = records(FILES["jeecg_points"], 3)
    signed = [(-1 if r["评分类别"] == "扣分" else 1) * float(r["加（扣）分分值"]) for r in recs]
    n, total, negatives, states = q(con, "select count(*), sum(points), count(*) filter (where points < 0), "
                                         "list(distinct review_status) from fct_points")[0]
    assert (n, total, negatives) == (len(recs), sum(signed), sum(s < 0 for s in signed))
    assert states == ["已确认"]
    # 李丽娟's 扣分 of 2025-06-03: -1 point, in her household's village (from the registry)
    row = q(con, "select points, item, occurred_on::varchar, entered_on::varchar, village_code from fct_points "
                 "where occurred_on = date '2025-06-03'")
    assert row == [(-1.0, "乱堆乱放", "2025-06-03", "2025-06-03", "530999101201")]
    ids = [r[0] for r in q(con, "select record_id from fct_points")]
    assert len(set(ids)) == len(ids) and all(i.startswith("H") for i in ids)


def test_jeecg_points_reexport_is_a_new_observation_not_new_records(wh, tmp_path):
    home, _, _ = wh
    copy = tmp_path / "居民积分登记记录_20250901.xls"
    copy.write_bytes(FILES["jeecg_points"].read_bytes() + b"\0")  # another export: other bytes, same rows
    report = ingest([copy])
    f = next(x for x in report.files if x.file_name == copy.name)
    assert (f.status, f.rows_loaded, f.rows_quarantined) == ("loaded", 48, 0)
    # the working warehouse (the module's open connection holds the published file's old instance)
    con = duckdb.connect(str(home / "warehouse" / "xiangzhi.duckdb"), read_only=True)
    try:
        assert q(con, "select count(*) from fct_points") == [(48,)]
        assert q(con, "select count(*) from stg_points") == [(96,)]  # two observations of each record
    finally:
        con.close()


def test_tianque_persons_grouped_into_households_with_grid_by_name(wh):
    _, con, _ = wh
    recs = records(FILES["tianque_households"], 5)[1:]  # row 6 is the sub-caption row
    sizes = Counter(str(r["户号"]) for r in recs)
    heads = {str(r["户号"]): r["姓名"] for r in recs if r["与户主关系"] == "户主"}
    got = q(con, "select h.grid_code, h.members, h.head_name_masked from dim_household as h "
                 "where h.village_code = '530999101201' order by h.grid_code, h.members")
    assert len(got) == len(sizes) == 16
    assert sorted(m for _, m, _ in got) == sorted(sizes.values())
    # grid by name (王家村第一网格 exists in both townships: the 填报单位 line scopes it to 清河镇)
    assert {g for g, _, _ in got} == {"530999101201001", "530999101201002"}
    masked = {h[0] + "*" * (len(h) - 1) for h in heads.values()}
    assert {m for _, _, m in got} == masked


def test_tianque_export_without_key_type_keeps_the_registrys_key_types(wh):
    # 天阙 exports carry no 重点户类型 column: its 16 households (all in the registry, loaded earlier)
    # keep the registry's key types; the fields it does carry (家庭人口 = its persons) come from it.
    import csv

    _, con, _ = wh
    ref = [r for r in csv.DictReader(REFERENCE[2].open(encoding="utf-8")) if r["户编号"].startswith("530999101201")]
    want = Counter(r["重点户类型"] for r in ref if r["重点户类型"] not in ("", "普通户"))
    assert sum(want.values()) == 4
    got = q(con, "select key_type, count(*) from dim_household where village_code = '530999101201' and is_key "
                 "group by 1")
    assert Counter(dict(got)) == want
    sizes = Counter(str(r["户号"]) for r in records(FILES["tianque_households"], 5)[1:])
    assert sorted(m for (m,) in q(con, "select members from dim_household where village_code = '530999101201'")) \
        == sorted(sizes.values())


def test_nbs_codes_give_level_and_parent(wh):
    _, con, _ = wh
    got = q(con, "select village_code, name, township_code from dim_village order by 1")
    assert len(got) == 5
    assert ("530999101001", "清河社区居民委员会", "530999101") in got  # the one village not in the reference
    assert ("530999201202", "王家村村民委员会", "530999201") in got


def grid_villages() -> dict[str, tuple[str, str]]:
    """A grid's full name (county + township + grid name, as 所属辖区 writes it; with or without the
    village's name before the grid's) → (grid code, village code), from the reference files."""
    import csv
    import json

    units = {r["区划代码"]: r for r in csv.DictReader(REFERENCE[0].open(encoding="utf-8"))}
    out = {}
    for feat in json.loads(REFERENCE[1].read_text(encoding="utf-8"))["features"]:
        p = feat["properties"]
        village = units[p["所属村代码"]]
        township = units[village["上级代码"]]
        county = units[township["上级代码"]]
        for v in ("", village["名称"]):
            out[county["名称"] + township["名称"] + v + p["网格名称"]] = (p["网格编码"], p["所属村代码"])
    return out


def log_parts(path: Path = FILES["gsm_minqing_log"]) -> list[dict]:
    """One dict per household the 民情日志 names (门牌和户主 split at 、), with the row's cells, the
    head's name without its house number, the grid and village from the reference, and how many
    registry households of that village have that head (1: the visit loads; else quarantined)."""
    import csv
    import re

    grids = grid_villages()
    heads = Counter((r["网格编码"][:12], r["户主姓名"])
                    for r in csv.DictReader(REFERENCE[2].open(encoding="utf-8")))
    out = []
    for i, r in enumerate(records(path, 1)):
        for part in (r["门牌和户主"] or "").split("、"):
            if part.strip():
                grid, village = grids[r["所属辖区"]]
                head = re.sub(r"^[0-9]+号", "", part.strip())
                out.append({**r, "_input": i, "head": head, "grid": grid, "matches": heads[(village, head)]})
    return out


def test_gsm_log_grid_by_full_name_and_no_entry_time(wh):
    _, con, _ = wh
    recs = records(FILES["gsm_minqing_log"], 1)
    per_name = Counter(r["所属辖区"] for r in recs)
    assert per_name["云岭县石门乡王家村第二网格"] == 5  # rows: the worker's days
    # one 走访 per household named that resolves (log_parts), in the grid the full name gives
    per_grid = Counter(p["grid"] for p in log_parts() if p["matches"] == 1)
    got = dict(q(con, "select grid_code, count(*) from fct_visit group by 1"))
    assert got == dict(per_grid)
    assert got["530999201202002"] == per_grid["530999201202002"] > per_name["云岭县石门乡王家村第二网格"]
    assert q(con, "select count(*) from fct_visit where entered_at is not null") == [(0,)]
    assert q(con, "select worker, visited_at::varchar from fct_visit where grid_code = '530999201202002' "
                  "order by visited_at limit 1") == [("黄红霞", "2025-06-07 00:00:00")]


def test_gsm_log_one_visit_per_household_named_ambiguous_heads_quarantined(wh):
    # 门牌和户主 "12号杨红霞、18号张光荣": one 走访 per household, found by its head's name within the
    # grid's village; a head two households of the village share (or none has) is never guessed.
    _, con, _ = wh
    parts = log_parts()
    rows = records(FILES["gsm_minqing_log"], 1)
    ok = [p for p in parts if p["matches"] == 1]
    bad = [p for p in parts if p["matches"] != 1]
    assert bad and ok and len(parts) > len(rows)  # the file has both cases and several households a row
    assert q(con, "select count(*), count(*) filter (where visit_type = '走访'), count(distinct record_id), "
                  "count(household_key), count(distinct (household_key, visited_at)) from fct_visit") \
        == [(len(ok), len(ok), len(ok), len(ok), len({(p["grid"], p["head"], p["走访日期"]) for p in ok}))]
    # the visits land on the households of those heads (the registry's, by the keyed hash of 户编号)
    import csv

    from pipelines.privacy import keyed_hash

    registry = {(r["网格编码"][:12], r["户主姓名"]): r["户编号"]
                for r in csv.DictReader(REFERENCE[2].open(encoding="utf-8"))}
    want = Counter(keyed_hash(registry[(p["grid"][:12], p["head"])], SECRET.encode()) for p in ok)
    assert Counter(dict(q(con, "select household_key, count(*) from fct_visit group by 1"))) == want
    quarantined = q(con, "select row_number, reason_code, reason_detail from quarantine where file_name = ? "
                         "order by row_number, reason_detail", FILES["gsm_minqing_log"].name)
    assert [(n, code) for n, code, _ in quarantined] == sorted((p["_input"] + 2, "UNKNOWN_HOUSEHOLD") for p in bad)
    for (_, _, detail), p in zip(quarantined, sorted(bad, key=lambda p: p["_input"]), strict=True):
        assert f"户主 {p['head'][0]}**（户主姓名在本村对应 {p['matches']} 户" in detail, detail
    # Nothing lost, counted as input rows: a row is loaded when any of its households loaded
    read, loaded, quar, dup, non_data = q(con, "select rows_read, rows_loaded, rows_quarantined, rows_duplicate, "
                                               "rows_non_data from load_files where file_name = ?",
                                          FILES["gsm_minqing_log"].name)[0]
    some_ok = {p["_input"] for p in ok}
    assert (read, loaded, quar, dup, non_data) == (len(rows), len(some_ok), len(rows) - len(some_ok), 0, 0)


def test_gsm_log_reexport_gives_the_same_ids_a_new_observation_not_new_records(wh, tmp_path):
    import csv

    home, con, _ = wh
    ids = {r for (r,) in q(con, "select record_id from fct_visit")}
    rows = sheet_rows(FILES["gsm_minqing_log"])
    again = tmp_path / "民情日志_再次导出.csv"  # the same log, exported again (as CSV: other bytes)
    with again.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    report = ingest([again])
    f = next(x for x in report.files if x.file_name == again.name)
    parts = log_parts()
    bad_rows = {p["_input"] for p in parts if p["matches"] != 1}
    assert (f.status, f.rows_read, f.rows_loaded) == ("loaded", len(rows) - 1, 0)
    assert (f.rows_quarantined, f.rows_duplicate) == (len(bad_rows), len(rows) - 1 - len(bad_rows))
    wcon = duckdb.connect(str(home / "warehouse" / "xiangzhi.duckdb"), read_only=True)
    try:
        assert {r for (r,) in q(wcon, "select record_id from fct_visit")} == ids
        assert q(wcon, "select count(*) from stg_visits") == [(2 * len(parts),)]
        assert q(wcon, "select count(distinct record_id) from stg_visits") == [(len(parts),)]
    finally:
        wcon.close()


def test_gsm_log_a_day_without_households_is_a_patrol_and_rows_are_counted_once(tmp_path, monkeypatch):
    # A day naming no household loads as the worker's 巡查; a row naming only heads the village does
    # not know is one quarantined input row (two quarantine lines, one per household named).
    import csv

    home = tmp_path / "home"
    monkeypatch.setenv("XIANGZHI_HOME", str(home))
    monkeypatch.setenv("XIANGZHI_SECRET", SECRET)
    ingest(REFERENCE)
    rows = sheet_rows(FILES["gsm_minqing_log"])
    grid, worker = rows[1][0], rows[1][1]
    extra = [[grid, worker, "2025-07-01", "0", "0", "0", "0", "1小时0分钟", "", "PC设备填报"],
             [grid, worker, "2025-07-02", "2", "0", "0", "0", "1小时0分钟", "31号无此人，32号也无此人", "PC设备填报"],
             [grid, worker, "2025-07-03", "2", "0", "0", "0", "1小时0分钟", rows[1][8].replace("、", " ; "), "PC设备填报"]]
    path = tmp_path / "民情日志_7月.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([rows[0], *extra])
    report = ingest([path])
    f = next(x for x in report.files if x.file_name == path.name)
    assert (f.status, f.rows_read, f.rows_loaded, f.rows_quarantined, f.rows_duplicate) == ("loaded", 3, 2, 1, 0)
    assert f.by_reason == {"UNKNOWN_HOUSEHOLD": 2}
    con = duckdb.connect(str(home / "published" / "xiangzhi.duckdb"), read_only=True)
    try:
        got = q(con, "select visited_at::date::varchar, visit_type, household_key is null from fct_visit order by 1, 2")
        detail = q(con, "select reason_detail from quarantine order by reason_detail")
    finally:
        con.close()
    n = len(rows[1][8].split("、"))
    assert got == [("2025-07-01", "巡查", True)] + [("2025-07-03", "走访", False)] * n
    assert all("户主姓名在户籍台账中未找到" in d for (d,) in detail) and len(detail) == 2


def test_gsm_events_statuses_categories_and_times(wh):
    _, con, _ = wh
    recs = records(FILES["gsm_event_query"], 1)
    closed = sum(r["事件状态"] in ("办结", "批准结案") for r in recs)
    assert q(con, "select count(*), count(*) filter (where is_closed) from fct_event") == [(len(recs), closed)]
    row = q(con, "select grid_code, category, status, reported_at::varchar, accepted_at::varchar, "
                 "deadline::varchar, closed_at::varchar, satisfaction, entered_at from fct_event "
                 "where event_id = 'SL202507130002'")
    assert row == [("530999101201002", "民生诉求", "已办结", "2025-07-13 08:41:00", "2025-07-13 08:41:00",
                    "2025-07-18 23:59:59", "2025-07-15 11:41:00", "满意", None)]


def test_records_without_entry_time_are_out_of_entry_timeliness(wh):
    _, con, _ = wh
    # Only the points (which carry 登记日期) count: visits and events have no entry time at all.
    june_points = q(con, "select count(*) from fct_points where occurred_on between '2025-06-01' and '2025-06-30'")
    got = q(con, "select numerator, denominator from indicator_values where indicator_id = 'entry_timeliness_rate' "
                 "and unit_level = 'county' and period = '2025-06'")
    assert got == [(june_points[0][0], june_points[0][0])]


def test_no_personal_value_in_clear_in_any_duckdb_file(wh):
    home, _, _ = wh
    recs = records(FILES["tianque_households"], 5)[1:]
    secrets = {str(r["身份证号码"]) for r in recs} | {r["姓名"] for r in recs}
    secrets |= {str(r["联系手机"]) for r in recs if r["联系手机"]}
    secrets |= {r["诉求人姓名"] for r in records(FILES["gsm_event_query"], 1)}
    secrets |= {r["户主"] for r in records(FILES["jeecg_points"], 3)}
    secrets |= {p["head"] for p in log_parts()}  # the 民情日志's 户主, one per household named
    # Grid workers' and grid heads' names are public by policy (SPEC §3.7): a resident who shares one
    # is not a leak.
    import json

    public = {r["网格员姓名"] for r in records(FILES["gsm_minqing_log"], 1)}
    public |= {f["properties"]["网格长"] for f in json.loads(REFERENCE[1].read_text(encoding="utf-8"))["features"]}
    secrets -= public
    assert len(secrets) > 60
    for db in (home / "warehouse" / "xiangzhi.duckdb", home / "published" / "xiangzhi.duckdb"):
        con = duckdb.connect(str(db), read_only=True)
        try:
            text = "\n".join(str(con.execute(f'select * from "{t}"').fetchall())
                             for (t,) in con.execute("select table_name from duckdb_tables()").fetchall())
        finally:
            con.close()
        leaked = sorted(s for s in secrets if s and s in text)
        assert not leaked, (db.name, leaked[:5])


def test_quality_page_shows_each_files_profile_and_a_rejected_files_diagnosis(wh, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from dashboard import auth

    home, _, _ = wh
    auth.write_demo_users(home / "users.yaml", home / "published" / "xiangzhi.duckdb", rounds=4)
    monkeypatch.setenv("XIANGZHI_HOME", str(home))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py"), default_timeout=60)
    at.session_state["username"] = "county"
    at.run()
    at.switch_page("views/quality.py").run()
    assert not at.exception, [e.value for e in at.exception]
    # the file list is a page table (its reasons wrap), the other lists data grids
    files = next(d.value for d in [*at.table, *at.dataframe] if "导入方案" in d.value.columns)
    by_name = files.set_index("文件名")
    for prof, path in FILES.items():
        assert by_name.loc[path.name, "导入方案"] == prof
    reason = by_name.loc[ODD, "原因"]
    assert reason.startswith("表头不符合任何已知数据源") and "最接近网格事件（events" in reason
    assert f'xiangzhi profile suggest "{ODD}"' in reason
