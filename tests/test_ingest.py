"""Ingestion (issue #4): one test per reason code, order rules, duplicates, accounting, idempotency."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.load import ingest
from tests import builders as b


def _q(home, sql, params=None):
    con = duckdb.connect(str(home / "warehouse" / "xiangzhi.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _reasons(home):
    return {(f, r): (code, detail) for f, r, code, detail in
            _q(home, "select file_name, row_number, reason_code, reason_detail from quarantine")}


def _accounting_holds(home):
    rows = _q(home, """select file_name, rows_read, rows_loaded + rows_quarantined + rows_duplicate + rows_non_data
                       from load_files where status = 'loaded'""")
    assert rows and all(r[1] == r[2] for r in rows), rows


@pytest.fixture
def ref(home, tmp_path):
    files = b.write_reference(tmp_path / "ref")
    ingest(files)
    return tmp_path


def test_reference_loads_and_is_pseudonymised(ref, home):
    assert _q(home, "select count(*) from dim_village")[0][0] == 3
    assert _q(home, "select count(*) from dim_grid where centroid_lon is not null")[0][0] == 3
    hh = _q(home, "select head_name_masked, is_key, key_type, village_code from dim_household order by village_code")
    assert hh == [("张**", True, "低保五保户", b.V1), ("李**", False, None, b.V2), ("王*", True, "空巢老人户", b.V3)]
    _accounting_holds(home)


# (case id, source header, rows, expected {line: reason}) — line 1 is the header, data from line 2.
CASES = [
    ("missing_required", b.VISIT_HEADER,
     [b.visit("V1", at=""), b.visit("V2", hh="", kind="走访"), b.visit("V3", hh="", kind="巡查")],
     {2: "MISSING_REQUIRED", 3: "MISSING_REQUIRED"}),
    ("bad_date", b.EVENT_HEADER, [b.event("E1", reported="2025-02-30 09:00"), b.event("E2", reported="6月31日")],
     {2: "BAD_DATE", 3: "BAD_DATE"}),
    ("bad_number", b.POINTS_HEADER, [b.points("P1", value="5分左右"), b.points("P2", value="待定"),
                                     b.points("P3", value="五"), b.points("P4", value="5分")],
     {2: "BAD_NUMBER", 3: "BAD_NUMBER", 4: "BAD_NUMBER"}),
    ("bad_enum", b.EVENT_HEADER, [b.event("E1", status="已取消"), b.event("E2", category="天灾")],
     {2: "BAD_ENUM", 3: "BAD_ENUM"}),
    ("unknown_grid", b.VISIT_HEADER, [b.visit("V1", grid="360799101009009")], {2: "UNKNOWN_GRID"}),
    ("unknown_village", b.DISPUTE_HEADER, [b.dispute("D1", village="火星村"), b.dispute("D2", township="北极乡")],
     {2: "UNKNOWN_VILLAGE", 3: "UNKNOWN_VILLAGE"}),
    ("ambiguous_village", b.DISPUTE_HEADER,
     [b.dispute("D1", township="", village="桃园"), b.dispute("D2", township="", village="李家村委会")],
     {2: "AMBIGUOUS_VILLAGE"}),
    ("unknown_household", b.POINTS_HEADER, [b.points("P1", hh="H9999")], {2: "UNKNOWN_HOUSEHOLD"}),
    ("time_order", b.EVENT_HEADER,
     [b.event("E1", status="已受理", accepted="2025-06-01 08:00"),
      b.event("E2", status="已办结", accepted="2025-06-02 10:00", closed="2025-06-02 09:30"),
      b.event("E3", status="已办结", accepted="2025-06-02 10:00", closed="2025-06-01 09:30", deadline="2025-05-01")],
     {2: "TIME_ORDER", 3: "TIME_ORDER", 4: "TIME_ORDER"}),
    ("future_date", b.VISIT_HEADER, [b.visit("V1", at="2025-07-02 10:00", entered="2025-07-02 10:00"),
                                     b.visit("V2", at="2025-06-30 10:00", entered="2025-07-01 00:00")],
     {2: "FUTURE_DATE", 3: "FUTURE_DATE"}),
]


@pytest.mark.parametrize("case, header, rows, expected", CASES, ids=[c[0] for c in CASES])
def test_reason_code(ref, home, case, header, rows, expected):
    f = b.write_csv(ref / f"{case}_20250630.csv", header, rows)  # export time 2025-06-30 23:59:59
    ingest([f])
    got = {r: code for (fname, r), (code, _) in _reasons(home).items() if fname == f.name}
    assert got == expected
    loaded = _q(home, "select rows_loaded from load_files where file_name = ?", [f.name])[0][0]
    assert loaded == len(rows) - len(expected)
    _accounting_holds(home)


def test_first_reason_wins_and_detail_names_every_fault(ref, home):
    # Unknown grid AND a bad date AND a bad enum: BAD_DATE comes first in SPEC §3.6's order.
    f = b.write_csv(ref / "multi_20250630.csv", b.EVENT_HEADER,
                    [b.event("E1", grid="360799101009009", reported="2025-13-01", status="取消")])
    ingest([f])
    code, detail = _reasons(home)[(f.name, 2)]
    assert code == "BAD_DATE"
    assert "BAD_ENUM" in detail and "UNKNOWN_GRID" in detail and "BAD_DATE" in detail


def test_id_conflict_for_visit_in_later_file(ref, home):
    f1 = b.write_csv(ref / "visits_202505.csv", b.VISIT_HEADER, [b.visit("V1", at="2025-05-03 10:00",
                                                                         entered="2025-05-03 12:00")])
    f2 = b.write_csv(ref / "visits_202506.csv", b.VISIT_HEADER,
                     [b.visit("V1", at="2025-05-03 10:00", entered="2025-05-03 12:00", worker="别人"),
                      b.visit("V2")])
    ingest([f1])
    ingest([f2])
    reasons = _reasons(home)
    assert reasons[(f2.name, 2)][0] == "ID_CONFLICT"
    assert "网格员" in reasons[(f2.name, 2)][1]
    assert _q(home, "select worker from fct_visit where record_id = 'V1'") == [("赵网格",)]


def test_snapshot_newer_then_older_keeps_newer_state(ref, home):
    newer = b.write_csv(ref / "events_20250710.csv", b.EVENT_HEADER,
                        [b.event("E1", status="已办结", accepted="2025-06-02 10:00", closed="2025-06-05 10:00",
                                 level="村")])
    older = b.write_csv(ref / "events_20250615.csv", b.EVENT_HEADER,
                        [b.event("E1", status="已受理", accepted="2025-06-02 10:00")])
    ingest([newer])
    ingest([older])
    assert _q(home, "select status, is_closed, handling_level from fct_event") == [("已办结", True, "村")]
    # Both observations count as loaded (a new observation of the record's state, SPEC §3.6).
    assert _q(home, "select sum(rows_loaded) from load_files where source_kind = 'events'")[0][0] == 2


def test_snapshot_conflict_quarantines_the_later_export_even_when_loaded_first(ref, home):
    later = b.write_csv(ref / "events_20250710.csv", b.EVENT_HEADER, [b.event("E1", category="安全隐患")])
    earlier = b.write_csv(ref / "events_20250615.csv", b.EVENT_HEADER, [b.event("E1", category="矛盾纠纷")])
    ingest([later])
    ingest([earlier])
    reasons = _reasons(home)
    assert reasons[(later.name, 2)][0] == "ID_CONFLICT"
    assert (earlier.name, 2) not in reasons
    assert _q(home, "select category from fct_event") == [("矛盾纠纷",)]


def test_duplicates_within_file_and_across_files(ref, home):
    v = b.write_csv(ref / "visits_a.csv", b.VISIT_HEADER, [b.visit("V1"), b.visit("V1"), b.visit("V2")])
    v2 = b.write_csv(ref / "visits_b.csv", b.VISIT_HEADER, [b.visit("V2"), b.visit("V3")])
    e1 = b.write_csv(ref / "events_20250610.csv", b.EVENT_HEADER, [b.event("E1"), b.event("E1")])
    e2 = b.write_csv(ref / "events_20250620.csv", b.EVENT_HEADER, [b.event("E1")])
    ingest([v, e1])
    ingest([v2, e2])
    got = dict((f, (lo, d)) for f, lo, d in _q(home, "select file_name, rows_loaded, rows_duplicate from load_files"))
    assert got[v.name] == (2, 1)
    assert got[v2.name] == (1, 1)  # V2 already accepted from an earlier file: visits are not snapshots
    assert got[e1.name] == (1, 1)
    assert got[e2.name] == (1, 0)  # another export of a snapshot source: a new observation, loaded
    assert _q(home, "select count(*) from fct_visit")[0][0] == 3
    _accounting_holds(home)


def test_same_files_twice_is_a_no_op(ref, home):
    f = b.write_csv(ref / "visits.csv", b.VISIT_HEADER, [b.visit("V1"), b.visit("V2", grid="999")])
    ingest([f])
    tables = ["fct_visit", "quarantine", "load_files", "load_batches", "dim_household", "validation_results"]
    before = {t: _q(home, f"select * from {t} order by all") for t in tables}
    report = ingest([f, ref / "ref"])
    assert report.batch_id is None and all(o.status == "unchanged" for o in report.files)
    assert {t: _q(home, f"select * from {t} order by all") for t in tables} == before


def test_unreadable_files_are_rejected_and_the_rest_loads(ref, home):
    docx = ref / "会议纪要.docx"
    docx.write_bytes(b"PK\x03\x04 not really a document")
    foreign = b.write_csv(ref / "工资表.csv", ["姓名", "工资"], [["张三", 3000]])
    good = b.write_csv(ref / "visits.csv", b.VISIT_HEADER, [b.visit("V1")])
    report = ingest([docx, foreign, good])
    by = {o.file_name: o for o in report.files}
    assert by[docx.name].status == "rejected" and by[docx.name].reason
    assert by[foreign.name].status == "rejected" and "表头" in by[foreign.name].reason
    assert by[good.name].status == "loaded" and by[good.name].rows_loaded == 1
    assert "\n" not in by[docx.name].reason  # one line


def test_late_reference_heals_unknown_grid(ref, home, tmp_path):
    f = b.write_csv(ref / "visits.csv", b.VISIT_HEADER, [b.visit("V1", grid=b.V1 + "002", hh="")[:3] + ["", "巡查", "2025-06-03 10:00", "2025-06-03 12:00"]])
    ingest([f])
    assert _reasons(home)[(f.name, 2)][0] == "UNKNOWN_GRID"
    import json
    extra = tmp_path / "网格补充.geojson"
    extra.write_text(json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {
        "网格编码": b.V1 + "002", "所属村代码": b.V1}, "geometry": b._square(115.5, 25.2)}]}, ensure_ascii=False),
        encoding="utf-8")
    ingest([extra])
    assert (f.name, 2) not in _reasons(home)
    assert _q(home, "select rows_loaded, rows_quarantined from load_files where file_name = ?", [f.name]) == [(1, 0)]


def test_validation_results_agree_with_quarantine(ref, home):
    f = b.write_csv(ref / "events_20250630.csv", b.EVENT_HEADER,
                    [b.event("E1", reported="2025-02-30 09:00"), b.event("E2", grid="1"), b.event("E3")])
    ingest([f])
    rows = dict(_q(home, "select expectation, unexpected_count from validation_results "
                         "where suite = 'xiangzhi_events' and not success"))
    assert any("reported_at__bad" in k and v == 1 for k, v in rows.items()), rows
    assert any("_grid_known" in k and v == 1 for k, v in rows.items()), rows


def test_no_personal_data_in_clear(ref, home):
    f = b.write_csv(ref / "disputes_20250630.csv", b.DISPUTE_HEADER, [b.dispute("D1"), b.dispute("D2", village="火星村")])
    ingest([f])
    for db in (home / "warehouse" / "xiangzhi.duckdb", home / "published" / "xiangzhi.duckdb"):
        con = duckdb.connect(str(db), read_only=True)
        con.execute("checkpoint") if False else None
        text = []
        for (t,) in con.execute("select table_name from duckdb_tables()").fetchall():
            text.append(str(con.execute(f'select * from "{t}"').fetchall()))
        con.close()
        blob = "\n".join(text) + db.read_bytes().decode("utf-8", "ignore")
        for secret in b.SECRET_NAMES + b.SECRET_IDS + b.SECRET_PHONES + ("孙某某", "周某某"):
            assert secret not in blob, (db.name, secret)


def test_validation_in_chunks_sums_counts(ref, home, monkeypatch):
    from pipelines.ingest import validate

    monkeypatch.setattr(validate, "VALIDATION_CHUNK_ROWS", 1)  # one GX run per file
    f1 = b.write_csv(ref / "events_20250630.csv", b.EVENT_HEADER, [b.event("E1", grid="1"), b.event("E2")])
    f2 = b.write_csv(ref / "events_20250701.csv", b.EVENT_HEADER, [b.event("E3", grid="2"), b.event("E4", grid="3")])
    ingest([f1, f2])
    rows = _q(home, "select unexpected_count, success from validation_results where suite = 'xiangzhi_events' "
                    "and expectation like '%_grid_known%'")
    assert rows == [(3, False)]


def test_village_and_township_outlines_are_dissolved_from_grids(ref, home):
    import json

    from shapely.geometry import shape

    rows = dict(_q(home, "select village_code, geometry from dim_village"))
    assert shape(json.loads(rows[b.V1])).area == pytest.approx(0.0001, rel=1e-3)  # its one 0.01° grid
    t1 = shape(json.loads(_q(home, "select geometry from dim_township where township_code = ?", [b.T1])[0][0]))
    assert t1.geom_type == "Polygon" and t1.area == pytest.approx(0.0002, rel=1e-3)  # two adjacent grids


def test_county_row_may_name_its_city_as_parent(home, tmp_path):
    f = b.write_csv(tmp_path / "区划.csv", ["区划代码", "名称", "层级", "上级代码"],
                    [[b.COUNTY, "示例县", "县", "360700"], [b.T1, "东山乡", "乡镇", b.COUNTY],
                     [b.T2, "西岭镇", "乡镇", "360798"]])
    ingest([f])
    assert _reasons(home) == {(f.name, 4): ("UNKNOWN_VILLAGE", "UNKNOWN_VILLAGE: 上级代码不在参考数据中: 360798")}


def test_a_suite_that_cannot_run_stops_instead_of_recording_zero():
    import pandas as pd

    from pipelines.expectations import run_suite

    with pytest.raises(RuntimeError, match="xiangzhi_redemptions"):
        run_suite("redemptions", pd.DataFrame({"redemption_id": ["R1"]}))  # columns missing


def test_a_workbooks_sheets_are_staged_apart_in_one_append(ref, home):
    """A ledger kept a sheet a month is staged in one append per file: rows at the same row number of
    different sheets stay different rows (ROW_KEY carries the sheet), a case written again in a later
    sheet is the same case in its later state, a bad row is quarantined under its own sheet, and the
    file's accounting adds up over its sheets."""
    import xlsxwriter

    path = ref / "东山乡矛盾纠纷排查调处台账_2025年.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    sheets = {"6月": [b.dispute("D1"), b.dispute("D2", registered="2025-06-31")],
              "7月": [b.dispute("D1", result="调解成功", concluded="2025-07-02"), b.dispute("D3")]}
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        ws.write_row(0, 0, b.DISPUTE_HEADER)
        for i, r in enumerate(rows, start=1):
            ws.write_row(i, 0, r)
    wb.close()
    ingest([path])
    staged = _q(home, "select _sheet_no, _row, case_id from stg_disputes order by _sheet_no, _row")
    assert staged == [(1, 2, "D1"), (1, 3, "D2"), (2, 2, "D1"), (2, 3, "D3")]
    assert _q(home, "select case_id, result from fct_dispute order by case_id") == [("D1", "调解成功"), ("D3", "调解中")]
    assert _q(home, "select sheet, row_number, reason_code from quarantine") == [("6月", 3, "BAD_DATE")]
    assert _q(home, "select rows_read, rows_loaded, rows_quarantined from load_files where file_name = ?",
              [path.name]) == [(4, 3, 1)]
    _accounting_holds(home)


def _setting(con, setting: str) -> str:
    return con.execute(f"select current_setting('{setting}')").fetchall()[0][0]


def _limit_of(con) -> str:
    return _setting(con, "memory_limit")


def _spy_setting(seen: dict[str, set], step: str, original, setting: str):
    """`original` (a step taking the connection first), noting in seen[step] the setting it runs under."""
    def wrapper(con, *args, **kwargs):
        seen[step].add(_setting(con, setting))
        return original(con, *args, **kwargs)
    return wrapper


def _duckdb_shows(limit: str) -> str:
    """How DuckDB states a memory limit once set (e.g. 1GB → '953.6 MiB')."""
    with duckdb.connect() as con:
        con.execute(f"set memory_limit = '{limit}'")
        return _limit_of(con)


@pytest.mark.parametrize("limit, while_staging", [("1GB", "256MiB"), ("100MB", "100MB")])
def test_files_are_staged_under_a_smaller_memory_limit_and_the_batch_runs_under_the_full_one(
        ref, home, monkeypatch, limit, while_staging):
    """While files are read and staged DuckDB only appends to the scratch file, so it runs under at
    most 256 MiB (what it would cache there sat on top of polars' working set: province batches
    peaked at 2.1-2.5 GiB); the batch's SQL and the publish copy run under XIANGZHI_MEMORY_LIMIT
    (publish had DuckDB's default, 80 % of RAM)."""
    from pipelines import publish as publish_module
    from pipelines.ingest import core, staging

    monkeypatch.setenv("XIANGZHI_MEMORY_LIMIT", limit)
    seen: dict[str, set] = {"stage": set(), "rebuild": set(), "publish": set()}
    monkeypatch.setattr(staging, "stage", _spy_setting(seen, "stage", staging.stage, "memory_limit"))
    monkeypatch.setattr(core, "rebuild", _spy_setting(seen, "rebuild", core.rebuild, "memory_limit"))
    monkeypatch.setattr(publish_module, "published_table_names",
                        _spy_setting(seen, "publish", publish_module.published_table_names, "memory_limit"))
    ingest([b.write_csv(ref / "走访.csv", b.VISIT_HEADER, [b.visit("V1"), b.visit("V2")])])
    assert seen == {"stage": {_duckdb_shows(while_staging)}, "rebuild": {_duckdb_shows(limit)},
                    "publish": {_duckdb_shows(limit)}}
    assert _q(home, "select count(*) from fct_visit") == [(2,)]


def test_the_scratch_file_checkpoints_at_256_mb_and_the_warehouse_as_by_default(ref, home, monkeypatch):
    """While files are staged the connection checkpoints at a WAL of 256 MB, not DuckDB's 16 MiB
    (30 county files: 25 -> 11 s), and the batch's transaction under the default again; the scratch
    file is deleted after the batch, so detaching it does not checkpoint it."""
    from pipelines.ingest import core, staging

    with duckdb.connect() as con:
        default = _setting(con, "checkpoint_threshold")
        con.execute(f"set checkpoint_threshold = '{staging.SCRATCH_CHECKPOINT_THRESHOLD}'")
        while_staging = _setting(con, "checkpoint_threshold")
    assert default != while_staging
    seen: dict[str, set] = {"stage": set(), "rebuild": set(), "drop_scratch": set()}
    monkeypatch.setattr(staging, "stage", _spy_setting(seen, "stage", staging.stage, "checkpoint_threshold"))
    monkeypatch.setattr(core, "rebuild", _spy_setting(seen, "rebuild", core.rebuild, "checkpoint_threshold"))
    monkeypatch.setattr(staging, "drop_scratch",
                        _spy_setting(seen, "drop_scratch", staging.drop_scratch, "checkpoint_on_detach"))
    ingest([b.write_csv(ref / "走访.csv", b.VISIT_HEADER, [b.visit("V1"), b.visit("V2")]),
            b.write_csv(ref / "走访2.csv", b.VISIT_HEADER, [b.visit("V3")])])
    assert seen == {"stage": {while_staging}, "rebuild": {default}, "drop_scratch": {"DISABLED"}}
    assert _q(home, "select count(*) from fct_visit") == [(3,)]
    assert not list((home / "warehouse").glob("staging-*"))


def test_a_file_staged_in_slices_keeps_every_row_once(ref, home, monkeypatch):
    """stage inserts a file STAGE_SLICE_ROWS rows at a time (bounds the Arrow copy): a file of 5 rows
    in slices of 2 is staged whole, each row once, and judged as it would be in one insert."""
    from pipelines.ingest import staging

    monkeypatch.setattr(staging, "STAGE_SLICE_ROWS", 2)
    rows = [b.visit(f"V{i}") for i in range(1, 5)] + [b.visit("V5", at="2025-13-01 10:00")]
    ingest([b.write_csv(ref / "走访.csv", b.VISIT_HEADER, rows)])
    assert _q(home, "select _row, record_id from stg_visits order by _row") == [
        (i + 1, f"V{i}") for i in range(1, 6)]
    assert _q(home, "select record_id from fct_visit order by 1") == [(f"V{i}",) for i in range(1, 5)]
    assert _q(home, "select row_number, reason_code from quarantine") == [(6, "BAD_DATE")]
    _accounting_holds(home)
