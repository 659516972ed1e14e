"""Readers: every file shape of SPEC §3.5, rows counted as §3.6 says, row numbers as a user sees them."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from pipelines.readers import read_file, supported
from pipelines.readers.common import export_time_from_name, parse_stated_time

EVENT_HEADER = ["事件编号", "网格编码", "上报人", "上报时间", "事件类别", "来源", "处置层级", "状态",
                "受理时间", "办结时限", "办结时间", "满意度", "录入时间"]
GRID = "360726101001001"


def event_line(n: int, reporter: str = "王五") -> list[str]:
    return [f"E{n:04d}", GRID, reporter, "2025-06-03 14:05", "矛盾纠纷", "群众上报", "网格", "已上报",
            "", "2025-06-10 14:05", "", "", "2025-06-03 15:00"]


def csv_text(lines: list[list[str] | str], eol: str = "\n") -> str:
    out = []
    for line in lines:
        out.append(line if isinstance(line, str) else ",".join(line))
    return eol.join(out) + eol


def check_accounting(result) -> None:
    for s in result.sheets:
        assert s.rows_read == s.rows.height + s.non_data


# --- CSV -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encoding_is_detected_without_being_told(tmp_path, encoding):
    # 䶮 is outside GBK: Python's gbk codec fails on it, gb18030 reads it (FIELD_NOTES).
    text = csv_text([EVENT_HEADER, event_line(1, "刘䶮"), event_line(2, "张三")])
    path = tmp_path / "events.csv"
    path.write_bytes(text.encode(encoding))
    res = read_file(path)
    assert res.error is None
    assert res.encoding == encoding
    assert res.source.kind == "events"
    sheet = res.sheets[0]
    assert sheet.rows["reporter"].to_list() == ["刘䶮", "张三"]
    assert sheet.rows["event_id"].to_list() == ["E0001", "E0002"]
    assert sheet.header == EVENT_HEADER
    assert (sheet.rows_read, sheet.non_data, sheet.rows.height) == (2, 0, 2)
    assert sheet.rows["_row"].to_list() == [2, 3]


def test_csv_title_lines_blank_lines_totals_quotes_and_crlf(tmp_path):
    lines = [
        "XX乡网格事件导出（2025年6月）",
        "导出时间：2025-07-01 08:30",
        EVENT_HEADER,                                             # line 3
        event_line(1),                                            # 4
        "",                                                       # 5 blank
        ",,,,,,,,,,,,",                                           # 6 blank (only separators)
        event_line(2)[:2] + ['"王,五"'] + event_line(2)[3:],      # 7 quoted comma
        event_line(3)[:2] + ['"王\n五"'] + event_line(3)[3:],     # 8-9 quoted line break
        event_line(4),                                            # 10
        "合计,4",                                                  # 11
        " 总 计 ,4",                                               # 12
    ]
    path = tmp_path / "events.csv"
    path.write_bytes(csv_text(lines, eol="\r\n").encode("utf-8"))
    res = read_file(path)
    sheet = res.sheets[0]
    assert sheet.rows["_row"].to_list() == [4, 7, 8, 10]
    assert sheet.rows["reporter"].to_list() == ["王五", "王,五", "王\n五", "王五"]
    # 2 title lines + 8 records below the header (lines 8-9 are one record: a quoted line break)
    assert sheet.rows_read == 10
    assert sheet.non_data == 2 + 2 + 2  # titles, blanks, 合计/总计
    check_accounting(res)
    assert sheet.export_time == datetime(2025, 7, 1, 8, 30)
    assert sheet.rows["grid_code"].to_list() == [GRID] * 4


def test_csv_raw_keeps_every_column_and_missing_fields_are_null(tmp_path):
    header = ["事件编号", "网格编码", "上报时间", "状态", "备注", "事件类别"]
    path = tmp_path / "events.csv"
    path.write_text(csv_text([header, ["E1", GRID, "2025-06-03", "已上报", "夜间", ""]]), encoding="utf-8")
    sheet = read_file(path).sheets[0]
    row = sheet.rows.row(0, named=True)
    assert json.loads(row["_raw"]) == {"事件编号": "E1", "网格编码": GRID, "上报时间": "2025-06-03",
                                      "状态": "已上报", "备注": "夜间", "事件类别": None}
    assert row["satisfaction"] is None and row["category"] is None  # absent / empty
    assert sheet.rows.schema["satisfaction"] == pl.String
    assert sheet.rows.schema["_row"] == pl.Int64


def test_csv_header_with_full_width_and_spaces_is_recognised(tmp_path):
    header = ["事件 编号", "网格编码\u3000", " 上报时间", "状态", "事件类别"]
    path = tmp_path / "e.csv"
    path.write_text(csv_text([header, ["E1", GRID, "2025-06-03", "已上报", "其他"]]), encoding="utf-8")
    res = read_file(path)
    assert res.source.kind == "events"
    assert res.sheets[0].rows["event_id"].to_list() == ["E1"]


def test_csv_foreign_header_is_rejected_with_what_was_expected(tmp_path):
    path = tmp_path / "工资表.csv"
    path.write_text("姓名,工资,部门\n张三,5000,财务\n", encoding="utf-8")
    res = read_file(path)
    assert res.source is None and res.sheets == []
    assert res.error.startswith("表头不符合任何已知数据源")
    assert "header matches no known source" in res.error and "事件编号" in res.error
    assert "\n" not in res.error


def test_docx_is_rejected_naming_the_expected_types(tmp_path):
    path = tmp_path / "说明.docx"
    path.write_bytes(b"PK\x03\x04 not really")
    res = read_file(path)
    assert res.error == (
        "无法识别的文件类型 .docx（应为 CSV、XLSX、XLS、JSON Lines 或 GeoJSON）"
        "/ unsupported file type .docx (expected CSV, XLSX, XLS, JSONL or GeoJSON)"
    )
    assert not supported(path) and supported(tmp_path / "a.XLSX") and supported(tmp_path / "b.jsonl")


def test_empty_file_is_rejected(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert read_file(path).error.startswith("文件为空")
    path.write_bytes(b"\r\n\r\n")
    assert read_file(path).error.startswith("文件为空")


def test_binary_and_mostly_undecodable_files_are_rejected(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes("事件编号,网格编码\n".encode("utf-16"))
    assert "UTF-16" in read_file(path).error
    path.write_bytes(bytes([0x81, 0x20, 0xFF, 0x0A]) * 500)
    res = read_file(path)
    assert res.error.startswith("文件大部分内容无法解码")


def test_a_lone_undecodable_byte_is_counted_not_hidden(tmp_path):
    # 0x80 (the old Windows euro sign) is rejected by gbk, cp936 and gb18030 alike (FIELD_NOTES).
    body = csv_text([EVENT_HEADER, event_line(1, "张三"), event_line(2, "李四")]).encode("gb18030")
    body = body.replace("李四".encode("gb18030"), "李四".encode("gb18030") + b"\x80")
    path = tmp_path / "e.csv"
    path.write_bytes(body)
    res = read_file(path)
    assert res.error is None and res.encoding == "gb18030"
    assert res.sheets[0].rows["reporter"].to_list() == ["张三", "李四\ufffd"]
    assert any(n.startswith("1 处字节无法按 gb18030 解码") for n in res.notes)


def test_tab_separated_export_is_read(tmp_path):
    path = tmp_path / "e.txt"
    path.write_text("\t".join(EVENT_HEADER) + "\n" + "\t".join(event_line(1)) + "\n", encoding="utf-8")
    res = read_file(path)
    assert res.sheets[0].rows["event_id"].to_list() == ["E0001"]


def test_big_gbk_file_decodes_across_chunks(tmp_path, monkeypatch):
    from pipelines.readers import delimited

    monkeypatch.setattr(delimited, "CHUNK_BYTES", 64)  # force many chunk boundaries
    lines = [EVENT_HEADER] + [event_line(i, "刘䶮") for i in range(1, 201)]
    path = tmp_path / "e.csv"
    path.write_bytes(csv_text(lines).encode("gb18030"))
    sheet = read_file(path).sheets[0]
    assert sheet.rows.height == 200 and set(sheet.rows["reporter"]) == {"刘䶮"}
    assert sheet.rows["_row"].to_list() == list(range(2, 202))


# --- export time ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("2025-08-01 10:30", datetime(2025, 8, 1, 10, 30)),
    ("2025年8月1日", datetime(2025, 8, 1, 23, 59, 59)),
    ("2025/8/1 10:30:15", datetime(2025, 8, 1, 10, 30, 15)),
    ("20250801", datetime(2025, 8, 1, 23, 59, 59)),
    ("２０２５年７月", datetime(2025, 7, 31, 23, 59, 59)),
    ("2025-02-30", None),
    ("无", None),
])
def test_stated_export_time(text, expected):
    assert parse_stated_time(text) == expected


@pytest.mark.parametrize(("name", "expected"), [
    ("events_20250801.csv", datetime(2025, 8, 1, 23, 59, 59)),
    ("网格事件_202508.csv", datetime(2025, 8, 31, 23, 59, 59)),
    ("事件-2025-02.xlsx", datetime(2025, 2, 28, 23, 59, 59)),
    ("events.csv", None),
    ("events_20251301.csv", None),
])
def test_export_time_from_file_name(name, expected):
    assert export_time_from_name(Path(name)) == expected


@pytest.mark.parametrize(("title", "name", "expected", "origin"), [
    (["截至2025年6月30日"], "events_20250801.csv", datetime(2025, 6, 30, 23, 59, 59), "title"),
    (["填报日期：2025-07-02 09:00"], "events_202508.csv", datetime(2025, 7, 2, 9, 0), "title"),
    (["XX乡事件台账（2025年6月）"], "events_202508.csv", datetime(2025, 8, 31, 23, 59, 59), "file_name"),
    ([], "events.csv", None, None),
])
def test_export_time_precedence_title_then_file_name_then_none(tmp_path, title, name, expected, origin):
    path = tmp_path / name
    path.write_text(csv_text([*title, EVENT_HEADER, event_line(1)]), encoding="utf-8")
    sheet = read_file(path).sheets[0]
    assert sheet.export_time == expected
    assert sheet.export_time_from == origin


# --- workbooks ------------------------------------------------------------------------------------

DISPUTE_HEADER = ["案件编号", "登记日期", "乡镇", "村", "纠纷类型", "当事人", "当事人数", "涉及金额(元)",
                  "调解组织", "调解员", "调解结果", "办结日期", "是否越级上访", "关联事件编号"]


def write_dispute_workbook(path: Path) -> None:
    """Two monthly sheets like a township keeps by hand, plus a notes sheet and a sheet of another kind.

    Sheet 6月: merged title (row 1), 填报日期 (row 2), blank row 3, header row 4, data rows 5, 6,
    blank row 7, data row 8, 合计 row 9.  Sheet 7月: title row 1, header row 2, data rows 3, 4, no date.
    """
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    dt_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    title_fmt = wb.add_format({"bold": True, "align": "center"})
    ws = wb.add_worksheet("6月")
    ws.merge_range(0, 0, 0, len(DISPUTE_HEADER) - 1, "东山乡矛盾纠纷排查调处台账（2025年6月）", title_fmt)
    ws.write(1, 0, "填报日期：2025年7月1日")
    ws.write_row(3, 0, DISPUTE_HEADER)
    rows = [
        ["D001", datetime(2025, 6, 3), "东山乡", "桃园村", "邻里纠纷", "张三丰", 2, 1200, "村调委会", "李调解",
         "调解成功", datetime(2025, 6, 10, 14, 5), "否", ""],
        ["D002", datetime(2025, 6, 5), "", "李家", "土地承包", "李四、王五", 3, 12.5, "乡调委会", "赵调解",
         "调解中", None, "是", 360726101001001],
        ["D003", 45811, "东山乡", "桃园村", "其他", "王五", 1, None, "", "", "调解中", None, "", ""],
    ]
    for r, values in zip((4, 5, 7), rows, strict=True):
        for c, v in enumerate(values):
            if isinstance(v, datetime):
                ws.write_datetime(r, c, v, dt_fmt if v.hour else date_fmt)
            elif v is not None and v != "":
                ws.write(r, c, v)
    ws.write(8, 0, "合计")
    ws.write(8, 6, 6)
    ws2 = wb.add_worksheet("7月")
    ws2.merge_range(0, 0, 0, 5, "东山乡矛盾纠纷排查调处台账（2025年7月）", title_fmt)
    ws2.write_row(1, 0, DISPUTE_HEADER)
    ws2.write_row(2, 0, ["D004", "2025/7/2", "东山乡", "桃园村", "婚姻家庭", "陈六", "2", "", "村调委会", "", "调解成功",
                         "2025.7.3", "否", ""])
    ws2.write_row(3, 0, ["D005", "2025年7月3日", "东山乡", "桃园村", "宅基地", "周七", "2", "", "村调委会", "",
                         "成功", "20250704", "N", ""])
    ws3 = wb.add_worksheet("说明")
    ws3.write(0, 0, "本表由乡综治中心填报")
    ws4 = wb.add_worksheet("积分")
    ws4.write_row(0, 0, ["记录编号", "户编号", "分值", "发生日期", "录入日期", "审核状态"])
    ws4.write_row(1, 0, ["P1", "H1", "+5", "2025-06-01", "2025-06-01", "已确认"])
    wb.close()


def check_dispute_workbook(res) -> None:
    assert res.error is None
    assert res.source.kind == "disputes"
    assert [s.name for s in res.sheets] == ["6月", "7月"]
    assert res.skipped_sheets == ["说明", "积分"]
    june, july = res.sheets
    assert june.rows["_row"].to_list() == [5, 6, 8]
    # rows 1..9 read, header row 4 excepted: titles 1-3, blank 7 and 合计 9 are non-data.
    assert (june.rows_read, june.non_data) == (8, 5)
    assert june.export_time == datetime(2025, 7, 1, 23, 59, 59)
    assert july.rows["_row"].to_list() == [3, 4]
    assert (july.rows_read, july.non_data) == (3, 1)
    assert july.export_time is None  # no stated time, no date in the file name
    check_accounting(res)
    r = june.rows
    assert r["case_id"].to_list() == ["D001", "D002", "D003"]
    assert r["registered_on"].to_list() == ["2025-06-03", "2025-06-05", "45811"]
    assert r["concluded_on"].to_list() == ["2025-06-10 14:05:00", None, None]
    assert r["party_count"].to_list() == ["2", "3", "1"]
    assert r["amount"].to_list() == ["1200", "12.5", None]
    assert r["related_event_id"].to_list() == [None, "360726101001001", None]
    assert r["township_name"].to_list() == ["东山乡", None, "东山乡"]
    assert json.loads(r["_raw"][1])["当事人"] == "李四、王五"
    assert july.rows["registered_on"].to_list() == ["2025/7/2", "2025年7月3日"]


def test_xlsx_with_merged_title_sheets_blank_and_total_rows(tmp_path):
    path = tmp_path / "纠纷台账.xlsx"
    write_dispute_workbook(path)
    check_dispute_workbook(read_file(path))


@pytest.fixture(scope="module")
def libreoffice_copies(tmp_path_factory):
    """The same workbook saved by LibreOffice as .xls (Excel 97–2003) and as .xlsx."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice not installed")
    d = tmp_path_factory.mktemp("lo")
    src = d / "src" / "纠纷台账.xlsx"
    src.parent.mkdir()
    write_dispute_workbook(src)
    out = {}
    for fmt in ("xls", "xlsx"):
        target = d / fmt
        subprocess.run(
            [soffice, f"-env:UserInstallation=file://{d}/profile", "--headless", "--convert-to", fmt,
             "--outdir", str(target), str(src)],
            check=True, capture_output=True, timeout=120,
        )
        out[fmt] = target / f"纠纷台账.{fmt}"
    return out


@pytest.mark.parametrize("fmt", ["xls", "xlsx"])
def test_workbook_saved_by_libreoffice(libreoffice_copies, fmt):
    check_dispute_workbook(read_file(libreoffice_copies[fmt]))


def test_xlsx_leading_empty_rows_keep_sheet_row_numbers(tmp_path):
    import xlsxwriter

    path = tmp_path / "e.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("事件")
    ws.write_row(2, 1, EVENT_HEADER)  # header on row 3, from column B
    ws.write_row(3, 1, event_line(1))
    ws.write_row(5, 1, event_line(2))
    wb.close()
    sheet = read_file(path).sheets[0]
    assert sheet.rows["_row"].to_list() == [4, 6]
    # rows 3..6 counted from the first non-empty one: rows 4, 5, 6 below the header
    assert (sheet.rows_read, sheet.non_data) == (3, 1)
    assert sheet.rows["grid_code"].to_list() == [GRID, GRID]


def test_corrupt_workbook_is_rejected(tmp_path):
    path = tmp_path / "坏.xlsx"
    path.write_bytes(b"this is not a zip file at all")
    res = read_file(path)
    assert res.error.startswith("工作簿损坏或不是有效的 Excel 文件")
    assert "\n" not in res.error
    path2 = tmp_path / "坏2.xlsx"
    with zipfile.ZipFile(path2, "w") as z:
        z.writestr("hello.txt", "nope")
    assert read_file(path2).error.startswith("工作簿损坏")


def test_workbook_without_any_known_header_is_rejected_naming_its_sheets(tmp_path):
    import xlsxwriter

    path = tmp_path / "x.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("工资").write_row(0, 0, ["姓名", "工资"])
    wb.add_worksheet("空表")
    wb.close()
    res = read_file(path)
    assert res.error.startswith("表头不符合任何已知数据源（工作表：工资、空表）")


# --- JSON Lines and GeoJSON -----------------------------------------------------------------------


def test_jsonl_bad_line_becomes_a_data_row_and_blank_lines_are_non_data(tmp_path):
    visit = {"记录编号": "V1", "网格编码": GRID, "网格员": "赵六", "户编号": "H1", "类型": "走访",
             "日期时间": "2025-06-03 09:00", "录入时间": "2025-06-03 18:00"}
    lines = [
        json.dumps(visit, ensure_ascii=False),
        "",
        json.dumps({**visit, "记录编号": "V2", "户编号": None, "类型": "巡查", "网格员数": 3}, ensure_ascii=False),
        '{"记录编号": "V3", "网格编码": ',  # truncated
        json.dumps({**visit, "记录编号": 4}, ensure_ascii=False),
    ]
    path = tmp_path / "visits_20250630.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = read_file(path)
    assert res.source.kind == "visits"
    sheet = res.sheets[0]
    assert sheet.rows["_row"].to_list() == [1, 3, 4, 5]
    assert (sheet.rows_read, sheet.non_data) == (5, 1)
    assert sheet.rows["record_id"].to_list() == ["V1", "V2", None, "4"]
    bad = sheet.rows.filter(pl.col("_row") == 4).row(0, named=True)
    assert json.loads(bad["_raw"]) == {"_line": '{"记录编号": "V3", "网格编码": '}
    assert all(bad[f] is None for f in ("record_id", "grid_code", "visit_type", "visited_at"))
    assert "网格员数" in json.loads(sheet.rows["_raw"][1])  # unrecognised keys kept in _raw
    assert sheet.export_time == datetime(2025, 6, 30, 23, 59, 59)
    assert any("不是有效的 JSON" in n for n in res.notes)


def test_geojson_features_are_rows_with_geometry_text(tmp_path):
    square = {"type": "Polygon", "coordinates": [[[115.1, 27.2], [115.2, 27.2], [115.2, 27.3], [115.1, 27.2]]]}
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"网格编码": GRID, "网格名称": "一网格", "所属村代码": "360726101001",
                                           "户数": 120}, "geometry": square},
        {"type": "Feature", "properties": {}, "geometry": None},
        {"type": "Feature", "properties": {"网格编码": "360726101001002", "所属村代码": "360726101001"},
         "geometry": None},
    ]}
    path = tmp_path / "grids.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    res = read_file(path)
    assert res.source.kind == "grids"
    sheet = res.sheets[0]
    assert sheet.rows["_row"].to_list() == [1, 3]
    assert (sheet.rows_read, sheet.non_data) == (3, 1)
    assert json.loads(sheet.rows["geometry"][0]) == square
    assert sheet.rows["households"].to_list() == ["120", None]


def test_geojson_that_is_not_a_feature_collection_is_rejected(tmp_path):
    path = tmp_path / "g.geojson"
    path.write_text('{"type": "Point", "coordinates": [1, 2]}', encoding="utf-8")
    assert "FeatureCollection" in read_file(path).error


def test_utf8_file_with_one_corrupt_byte_stays_utf8(tmp_path):
    body = csv_text([EVENT_HEADER] + [event_line(i, "张三丰") for i in range(1, 50)]).encode("utf-8")
    body = body.replace("张三丰".encode(), "张三丰".encode()[:-1], 1)  # a truncated last character
    path = tmp_path / "e.csv"
    path.write_bytes(body)
    res = read_file(path)
    assert res.encoding == "utf-8"
    assert res.sheets[0].rows["reporter"].to_list()[1:] == ["张三丰"] * 48
    assert res.sheets[0].rows["reporter"][0].startswith("张三")
    assert any("无法按 utf-8 解码" in n for n in res.notes)


def test_corrupt_byte_past_the_first_64kb_is_still_found(tmp_path):
    lines = [EVENT_HEADER] + [event_line(i, "张三丰") for i in range(1, 1201)]
    body = csv_text(lines).encode("utf-8")
    assert len(body) > 100_000
    body = body[:-20] + b"\xff" + body[-20:]  # in the last line
    path = tmp_path / "e.csv"
    path.write_bytes(body)
    res = read_file(path)
    assert res.error is None and res.encoding == "utf-8"
    assert res.sheets[0].rows.height == 1200
    assert any(n.startswith("1 处字节无法按 utf-8 解码") for n in res.notes)
