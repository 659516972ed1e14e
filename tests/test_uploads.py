"""Uploads (page 11) without a browser: the real background child (`xiangzhi ingest --status --scope`)
on a generated county whose last month is held back. The scope rule, one ingest at a time, a failed
ingest leaving everything as before, and the quarantine workbook against the quarantine table."""

from __future__ import annotations

import csv
import io
import json
import shutil
import time
import unicodedata
from pathlib import Path

import duckdb
import openpyxl
import pytest

from pipelines import uploads

EVENTS = "青岚县网格事件（2025年06月）_202506.csv"


@pytest.fixture
def uhome(upload_base, tmp_path, monkeypatch):
    h = tmp_path / "home"
    shutil.copytree(upload_base["home"], h)
    monkeypatch.setenv("XIANGZHI_HOME", str(h))
    monkeypatch.setenv("XIANGZHI_SECRET", "test-secret-key")
    return {**upload_base, "home": h}


def wait(uid: str, limit: float = 600) -> dict:
    """Poll the status file until the child ends (the limit only stops a hung test, it times nothing)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        s = uploads.status(uid) or {}
        if s.get("state") in ("done", "failed"):
            while uploads.running() is not None and time.monotonic() < end:  # child cleaning up
                time.sleep(0.1)
            return s
        time.sleep(0.2)
    raise AssertionError(f"upload {uid} did not finish: {uploads.status(uid)}")


def split_events(june: Path, township: str) -> tuple[bytes, bytes, int, int]:
    """The June events CSV as (own township's rows only, all rows), and the row counts."""
    text = (june / EVENTS).read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    hi = next(i for i, r in enumerate(rows) if "事件编号" in r)
    gi = rows[hi].index(next(h for h in rows[hi] if h.startswith("网格")))
    def code(r):  # as normalisation reads it: full-width digits and stray spaces are fine
        return "".join(unicodedata.normalize("NFKC", r[gi]).split()) if len(r) > gi else ""

    own = [r for r in rows[hi + 1:] if code(r).startswith(township)]
    other = [r for r in rows[hi + 1:] if code(r)[:6].isdigit() and not code(r).startswith(township)]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows[: hi + 1] + own)
    return buf.getvalue().encode("utf-8"), (june / EVENTS).read_bytes(), len(own), len(other)


def published(home: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(home / "published" / "xiangzhi.duckdb"), read_only=True)


def test_township_clerk_file_with_other_township_rows_is_refused_whole(uhome):
    town = uhome["townships"][0]
    own, mixed, n_own, n_other = split_events(uhome["june"], town)
    assert n_own > 0 and n_other > 0
    uid = uploads.start([("本镇事件.csv", own), ("全县事件.csv", mixed)], "clerk", town)
    s = wait(uid)
    assert s["state"] == "done", s
    [loaded] = s["files"]
    assert (loaded["file_name"], loaded["status"], loaded["rows_read"]) == ("本镇事件.csv", "loaded", n_own)
    [refused] = s["refused"]
    assert refused["file_name"] == "全县事件.csv"
    assert f"有{n_other}行不属于本账号的范围（{town}）" in refused["reason"]
    assert "整个文件未导入" in refused["reason"] and "the whole file was not loaded" in refused["reason"]
    assert "网格编码 3607" in refused["reason"]  # the first rows at fault are named
    with published(uhome["home"]) as con:
        files = {r[0] for r in con.execute("select file_name from load_files").fetchall()}
        events = con.execute("select count(*), count(*) filter (where not starts_with(grid_code, ?)) "
                             "from fct_event where file_name = '本镇事件.csv'", [town]).fetchone()
    assert "本镇事件.csv" in files and "全县事件.csv" not in files
    assert events[0] == loaded["rows_loaded"] and events[1] == 0
    # the refused file left the inbox (a later `xiangzhi ingest` of the inbox will not load it)
    inbox = uhome["home"] / "inbox" / f"upload-{uid}"
    assert sorted(p.name for p in inbox.iterdir()) == ["本镇事件.csv"]
    assert (uploads.uploads_dir() / uid / "refused" / "全县事件.csv").exists()
    # the same file from the county's clerk loads: nothing of it was marked as seen
    uid2 = uploads.start([("全县事件.csv", mixed)], "county_clerk", uhome["county"])
    s2 = wait(uid2)
    assert [(f["file_name"], f["status"]) for f in s2["files"]] == [("全县事件.csv", "loaded")] and not s2["refused"]


def test_quarantine_workbook_matches_the_quarantine_table(uhome):
    june = sorted(uhome["june"].iterdir())
    uid = uploads.start([(p.name, p.read_bytes()) for p in june], "clerk", uhome["county"])
    s = wait(uid)
    assert s["state"] == "done" and s["phase"] == "quarantine" and s["fraction"] == 1.0, s
    assert sorted(f["file_name"] for f in s["files"]) == sorted(p.name for p in june)
    for f in s["files"]:  # SPEC §3.6: every row read ends in exactly one place
        assert f["rows_read"] == f["rows_loaded"] + f["rows_quarantined"] + f["rows_duplicate"] + f["rows_non_data"]
    with published(uhome["home"]) as con:
        table = con.execute("select file_name, coalesce(sheet, ''), row_number, reason_code, reason_detail "
                            "from quarantine where batch_id = ?", [s["batch_id"]]).fetchall()
    assert len(table) == s["quarantine_rows"] == sum(f["rows_quarantined"] for f in s["files"]) > 0
    wb = openpyxl.load_workbook(uploads.quarantine_file(uid))
    rows, marked = [], 0
    for ws in wb:
        head = [c.value for c in ws[1]]
        assert head[:7] == list(uploads.XLSX_HEADERS)
        for r in ws.iter_rows(min_row=2):
            v = [c.value for c in r]
            rows.append((v[0], v[1] or "", v[2], v[4], v[5]))
            assert v[6], f"no faulty field named for {v[:6]}"
            for name in v[6].split(uploads.FAULTY_FIELD_SEP):
                cell = r[head.index(name)]
                assert cell.fill.fgColor.rgb.endswith("FFC7CE"), (name, v[:6])  # the faulty cell is marked
                marked += 1
    assert sorted(rows) == sorted(table)
    assert marked >= len(rows)


def test_one_ingest_at_a_time(uhome, monkeypatch):
    monkeypatch.setenv("XIANGZHI_PAUSE_BEFORE_COMMIT", "8")  # the child holds its batch open
    town = uhome["townships"][0]
    own, _mixed, _n, _m = split_events(uhome["june"], town)
    uid = uploads.start([("本镇事件.csv", own)], "clerk", town)
    with pytest.raises(uploads.Busy, match="已有数据正在导入"):
        uploads.start([("别的.csv", own)], "clerk2", uhome["county"])
    assert uploads.running()["upload_id"] == uid
    assert wait(uid)["state"] == "done"
    assert uploads.running() is None


def test_failed_ingest_leaves_everything_as_before(uhome):
    town = uhome["townships"][0]
    own, _mixed, _n, _m = split_events(uhome["june"], town)
    pub = uhome["home"] / "published" / "xiangzhi.duckdb"
    before = (pub.stat().st_ino, pub.stat().st_mtime_ns)
    # the CLI's ingest (or an analyst) holds the working warehouse: the child cannot open it
    hold = duckdb.connect(str(uhome["home"] / "warehouse" / "xiangzhi.duckdb"))
    try:
        uid = uploads.start([("本镇事件.csv", own)], "clerk", town)
        s = wait(uid)
    finally:
        hold.close()
    assert s["state"] == "failed"
    assert "数据仓库正被另一个进程使用" in s["message"] and "in use by another process" in s["message"]
    assert not (uhome["home"] / "inbox" / f"upload-{uid}").exists()  # the inbox is as before
    assert (pub.stat().st_ino, pub.stat().st_mtime_ns) == before
    assert uploads.running() is None


@pytest.mark.parametrize("kind, detail, keys, expected", [
    ("events", "UNKNOWN_GRID: 网格编码不在参考数据中: 360739101205974", ["事件编号", "网格代码", "上报时间"], ["网格代码"]),
    ("disputes", "BAD_DATE: 登记日期无法识别: 2025/1/32 0:00", ["案件编号", "登记日期", "办结日期"], ["登记日期"]),
    ("points", "MISSING_REQUIRED: 审核状态为空 / review_status is empty", ["记录编号", "审核状态"], ["审核状态"]),
    ("visits", "ID_CONFLICT: 网格员: 卢水小伟 ≠ 已载入 卢水小（已载入于 青岚县网格走访巡查记录.csv）",
     ["记录编号", "网格编号", "巡查人", "户编号"], ["巡查人"]),
])
def test_faulty_field_is_the_files_own_header(kind, detail, keys, expected):
    assert uploads.faulty_fields(detail, keys, kind) == expected


def test_upload_refuses_unsupported_types_and_nothing(uhome):
    with pytest.raises(uploads.UserError, match="不支持的文件类型"):
        uploads.start([("a.pdf", b"%PDF")], "clerk", uhome["county"])
    with pytest.raises(uploads.UserError, match="没有选择文件"):
        uploads.start([], "clerk", uhome["county"])
    assert uploads.running() is None and not (uhome["home"] / "uploads" / "running.json").exists()
    assert json.dumps(uploads.recent(uhome["county"])) == "[]"
