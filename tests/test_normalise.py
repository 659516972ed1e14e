"""Normalisation: each quirk of SPEC §3.5 and each parse-level reason (BAD_DATE, BAD_NUMBER, BAD_ENUM)."""

from __future__ import annotations

import json
from datetime import date, datetime

import polars as pl
import pytest

from pipelines import privacy
from pipelines.normalise import normalise, village_key, village_key_expr
from pipelines.readers import read_file
from pipelines.readers.common import build_sheet, cell_names
from pipelines.sources import SOURCES

KEY = b"test-key"


def sheet_of(kind: str, header: list[str], rows: list[list[str | None]], export_time=None):
    """A SheetData as a reader would return it, straight from header and cell texts."""
    names = cell_names(len(header))
    body = pl.DataFrame({c: [r[i] for r in rows] for i, c in enumerate(names)},
                        schema={c: pl.String for c in names})
    return build_sheet(name="表1", source=SOURCES[kind], header=header, body=body,
                       row_numbers=pl.Series(range(2, 2 + len(rows))), title_count=0,
                       export_time=export_time, export_time_from=None)


def norm(kind: str, header: list[str], rows: list[list[str | None]]) -> pl.DataFrame:
    return normalise(SOURCES[kind], sheet_of(kind, header, rows), KEY)


def one_column(kind: str, header: str, values: list[str | None], extra: dict[str, str] | None = None):
    """Normalise one column of values (other required columns filled with harmless text)."""
    extra = extra or {}
    hdr = [header, *extra]
    rows = [[v, *extra.values()] for v in values]
    return norm(kind, hdr, rows)


# --- dates ----------------------------------------------------------------------------------------

DATETIME_CASES = [
    ("2025-06-03", datetime(2025, 6, 3)),
    ("2025/6/3", datetime(2025, 6, 3)),
    ("2025.6.3", datetime(2025, 6, 3)),
    ("2025年6月3日", datetime(2025, 6, 3)),
    ("20250603", datetime(2025, 6, 3)),
    ("45811", datetime(2025, 6, 3)),
    ("2025-06-03 14:05", datetime(2025, 6, 3, 14, 5)),
    ("2025-06-03 14:05:09", datetime(2025, 6, 3, 14, 5, 9)),
    ("2025-06-03T14:05:00", datetime(2025, 6, 3, 14, 5)),
    ("2025/6/3 14:05", datetime(2025, 6, 3, 14, 5)),
    ("2025年6月3日 14:05", datetime(2025, 6, 3, 14, 5)),
    ("2025年6月3日14时05分", datetime(2025, 6, 3, 14, 5)),
    ("20250603 1405", datetime(2025, 6, 3, 14, 5)),
    ("45811.5833", datetime(2025, 6, 3, 13, 59, 57)),
    ("45811.5", datetime(2025, 6, 3, 12, 0)),
    ("２０２５－０６－０３\u3000１４：０５", datetime(2025, 6, 3, 14, 5)),  # full-width digits and space
    (" 2025-06-03\u00a0", datetime(2025, 6, 3)),  # non-breaking space
    ("2025／6／3 14：05", datetime(2025, 6, 3, 14, 5)),  # full-width punctuation
]


@pytest.mark.parametrize(("text", "expected"), DATETIME_CASES)
def test_datetime_formats(text, expected):
    out = one_column("visits", "日期时间", [text])
    assert out["visited_at"].to_list() == [expected]
    assert out["visited_at__bad"].to_list() == [None]


@pytest.mark.parametrize(("text", "expected"), [
    ("2025-06-03", date(2025, 6, 3)),
    ("2025-06-03 14:05", date(2025, 6, 3)),  # a DATE field given a datetime keeps the date
    ("45811", date(2025, 6, 3)),
    ("2025年6月3日", date(2025, 6, 3)),
])
def test_date_field_keeps_the_date(text, expected):
    out = one_column("points", "发生日期", [text])
    assert out["occurred_on"].to_list() == [expected]


@pytest.mark.parametrize("text", ["2025-02-30", "2025年6月31日", "6月3日", "2025-13-01", "昨天",
                                  "2025-06-03 25:00", "12345", "99999"])
def test_bad_date_keeps_the_offending_text(text):
    out = one_column("visits", "日期时间", [text])
    assert out["visited_at"].to_list() == [None]
    assert out["visited_at__bad"].to_list() == [text]


@pytest.mark.parametrize("text", [None, "", "  ", "\u3000", "\u200b"])
def test_empty_values_are_null_and_not_bad(text):
    # (网格编码 filled: a row whose cells are all empty is a blank row, not data)
    out = norm("events", ["事件编号", "上报时间", "满意度", "办结时限", "网格编码"], [[text, text, text, text, "1"]])
    row = out.row(0, named=True)
    for f in ("event_id", "reported_at", "satisfaction", "deadline"):
        assert row[f] is None and row[f + "__bad"] is None


def test_date_parsing_is_the_same_on_many_rows():
    texts = [t for t, _ in DATETIME_CASES] * 50
    out = one_column("visits", "日期时间", texts)
    assert out["visited_at"].to_list() == [e for _, e in DATETIME_CASES] * 50
    assert out["visited_at__bad"].null_count() == len(texts)


# --- numbers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("5", 5.0), ("5.0", 5.0), ("+5", 5.0), ("-2", -2.0), ("5分", 5.0), ("－2分", -2.0), ("−3", -3.0),
    ("1,234", 1234.0), ("１，２３４", 1234.0), ("１２．５", 12.5), ("¥1,200", 1200.0), ("￥1,200", 1200.0), ("1200元", 1200.0), ("１０", 10.0), (" 5 ", 5.0), ("0.5", 0.5),
])
def test_points_values(text, expected):
    out = one_column("points", "分值", [text])
    assert out["points"].to_list() == [expected]
    assert out["points__bad"].to_list() == [None]


@pytest.mark.parametrize("text", ["待定", "5分左右", "五", "abc", "1,23", "5-2", "--5"])
def test_bad_number_keeps_the_offending_text(text):
    out = one_column("points", "分值", [text])
    assert out["points"].to_list() == [None]
    assert out["points__bad"].to_list() == [text]


def test_integer_fields_take_integral_numbers_only():
    out = one_column("households", "家庭人口", ["4", "4.0", "4人", "4.5", "四"],
                     {"户编号": "H1", "网格编码": "1", "户主姓名": "张三"})
    assert out["members"].to_list() == [4, 4, 4, None, None]
    assert out["members__bad"].to_list() == [None, None, None, "4.5", "四"]
    assert out.schema["members"] == pl.Int64


def test_header_with_full_width_brackets_is_recognised():
    out = one_column("disputes", "涉及金额（元）", ["1200"])
    assert out["amount"].to_list() == [1200.0]


def test_amount_is_a_float():
    out = one_column("disputes", "涉及金额(元)", ["1,200.50", "¥300", "3万"])
    assert out["amount"].to_list() == [1200.5, 300.0, None]
    assert out["amount__bad"].to_list() == [None, None, "3万"]


# --- enums and booleans ---------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("已办结", "已办结"), ("办结", "已办结"), ("完成", "已办结"), (" 已 办 结 ", "已办结"), ("受理", "已受理"),
    ("已回访", "已回访"),
])
def test_event_status_synonyms(text, expected):
    out = one_column("events", "状态", [text])
    assert out["status"].to_list() == [expected]


@pytest.mark.parametrize(("header", "field", "text", "expected"), [
    ("调解结果", "result", "成功", "调解成功"),
    ("调解结果", "result", "调解成功", "调解成功"),
    ("纠纷类型", "dispute_type", "宅基地纠纷", "宅基地"),
    ("调解组织", "mediation_org", "村人民调解委员会", "村调委会"),
])
def test_dispute_enum_synonyms(header, field, text, expected):
    assert one_column("disputes", header, [text])[field].to_list() == [expected]


def test_enum_matching_ignores_case_and_width():
    out = one_column("visits", "类型", ["Visit", "ＰＡＴＲＯＬ", "宣讲"])
    assert out["visit_type"].to_list() == ["走访", "巡查", "宣讲"]


def test_bad_enum_keeps_the_offending_text():
    out = one_column("events", "状态", ["已作废", "办结"])
    assert out["status"].to_list() == [None, "已办结"]
    assert out["status__bad"].to_list() == ["已作废", None]


@pytest.mark.parametrize(("text", "expected"), [
    ("是", True), ("否", False), ("Y", True), ("n", False), ("√", True), ("×", False), ("1", True),
    ("0", False), ("TRUE", True),
])
def test_bool_synonyms(text, expected):
    out = one_column("disputes", "是否越级上访", [text])
    assert out["is_petition"].to_list() == [expected]
    assert out["is_petition__bad"].to_list() == [None]


def test_bad_bool():
    out = one_column("disputes", "是否越级上访", ["可能"])
    assert out["is_petition"].to_list() == [None]
    assert out["is_petition__bad"].to_list() == ["可能"]


def test_key_type_empty_and_ordinary_mean_no_key_type():
    out = one_column("households", "重点户类型", [None, "普通户", "一般户", "低保户", "空巢老人", "富裕户"],
                     {"户编号": "H1", "网格编码": "1", "户主姓名": "张三"})
    assert out["key_type"].to_list() == [None, None, None, "低保五保户", "空巢老人户", None]
    assert out["key_type__bad"].to_list() == [None, None, None, None, None, "富裕户"]


# --- codes and text -------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("360726101001001", "360726101001001"),
    ("３６０７２６１０１００１００１", "360726101001001"),
    (" 360726 101001001\u00a0", "360726101001001"),
    ("360726101001001.0", "360726101001001"),
    ("3.60726101001001E+14", "360726101001001"),
    ("3.60726101001E+11", "360726101001"),
    ("3.6072610100100123E+17", "3.6072610100100123E+17"),  # not exact in a float: left as found
    ("G-01", "G-01"),
])
def test_codes_are_compacted_and_excel_damage_undone(text, expected):
    out = one_column("events", "网格编码", [text])
    assert out["grid_code"].to_list() == [expected]
    assert out["grid_code__bad"].to_list() == [None]


def test_names_are_trimmed_not_compacted():
    out = one_column("events", "上报人", ["  王\u00a0五 ", "\u200b李四\u3000"], {"来源": "网格员巡查"})
    assert out["reporter"].to_list() == ["王 五", "李四"]


def test_a_reporter_who_is_not_a_grid_worker_is_masked_in_column_and_raw():
    # SPEC §3.7: grid workers' names are public; whoever else reported (a citizen, a caller) is masked,
    # and when the source is not given nobody can say which: masked too.
    out = norm("events", ["上报人", "来源"], [["王大锤", "网格员巡查"], ["李小红", "群众上报"], ["赵四", ""],
                                            ["", "12345热线"]])
    assert out["reporter"].to_list() == ["王大锤", "李**", "赵*", None]
    raws = [json.loads(r)["上报人"] for r in out["_raw"].to_list()]
    assert raws == ["王大锤", "李**", "赵*", ""]


# --- privacy --------------------------------------------------------------------------------------


def test_personal_fields_are_hashed_and_masked_in_columns_and_raw():
    header = ["户编号", "网格编码", "户主姓名", "身份证号", "联系电话", "家庭人口", "重点户类型"]
    rows = [
        ["H1", "360726101001001", "张三丰", "36072619800101123x", "138 0013 8000", "3", "低保户"],
        ["H2", "360726101001001", " 李四 ", "360726198502023456", "13912345678.0", "2", ""],
        ["H3", "360726101001001", "王五", None, "+86 139-1234-5678", "1", ""],
    ]
    out = norm("households", header, rows)
    assert out["head_name"].to_list() == ["张**", "李*", "王*"]
    assert out["id_number"].to_list() == [privacy.keyed_hash("36072619800101123X", KEY),
                                          privacy.keyed_hash("360726198502023456", KEY), None]
    assert out["phone"].to_list() == [privacy.keyed_hash("13800138000", KEY),
                                      privacy.keyed_hash("13912345678", KEY),
                                      privacy.keyed_hash("13912345678", KEY)]
    raw0 = json.loads(out["_raw"][0])
    assert raw0["户主姓名"] == "张**" and raw0["身份证号"] == out["id_number"][0]
    assert raw0["联系电话"] == out["phone"][0] and raw0["户编号"] == "H1"
    text = out.write_csv()
    for secret in ("张三丰", "李四", "王五", "36072619800101123", "360726198502023456", "13800138000", "0013",
                   "13912345678", "1234-5678"):
        assert secret not in text


def test_dispute_parties_are_masked_one_by_one():
    out = one_column("disputes", "当事人", ["张三、李四光", None], {"案件编号": "D1"})
    assert out["parties"].to_list() == ["张*、李**", None]
    assert json.loads(out["_raw"][0])["当事人"] == "张*、李**"


def test_unparsable_jsonl_line_of_a_personal_source_is_withheld(tmp_path):
    path = tmp_path / "hh.jsonl"
    path.write_text('{"户编号": "H1", "网格编码": "1", "户主姓名": "张三丰"}\n{"户编号": "H2", "户主姓名": "王大锤"\n',
                    encoding="utf-8")
    res = read_file(path)
    out = normalise(res.source, res.sheets[0], KEY)
    assert out["_row"].to_list() == [1, 2]
    assert "王大锤" not in out.write_csv() and "张三丰" not in out.write_csv()
    assert set(json.loads(out["_raw"][1])) == {"_line"}


# --- geometry -------------------------------------------------------------------------------------


def test_wkt_geometry_becomes_geojson_and_invalid_is_bad():
    wkt = "POLYGON ((115.1 27.2, 115.2 27.2, 115.2 27.3, 115.1 27.2))"
    out = one_column("grids", "WKT", [wkt, "POLYGON ((1 1, 2", None],
                     {"网格编码": "360726101001001", "所属村代码": "360726101001"})
    geo = json.loads(out["geometry"][0])
    assert geo["type"] == "Polygon" and geo["coordinates"][0][0] == [115.1, 27.2]
    assert out["geometry"][1] is None and out["geometry__bad"][1] == "POLYGON ((1 1, 2"
    assert out["geometry"][2] is None and out["geometry__bad"][2] is None


# --- the frame ------------------------------------------------------------------------------------


def test_output_columns_and_types():
    out = norm("events", ["事件编号", "上报时间"], [["E1", "2025-06-03"]])
    src = SOURCES["events"]
    expected = ["_sheet", "_row", "_export_time", "_raw"]
    for f in src.fields:
        expected += [f.name, f.name + "__bad"]
    expected += ["_carried"]  # the fields the sheet carried: the two columns it has
    assert out.columns == expected
    assert out["_carried"].to_list() == ["|event_id|reported_at|"]
    assert out.schema["_row"] == pl.Int64
    assert out.schema["_export_time"] == pl.Datetime("us")
    assert out.schema["reported_at"] == pl.Datetime("us")
    assert out.schema["status"] == pl.String
    assert out["_sheet"].to_list() == ["表1"] and out["_row"].to_list() == [2]


def test_sheet_export_time_and_row_numbers_are_carried(tmp_path):
    path = tmp_path / "events_20250801.csv"
    path.write_text("事件编号,网格编码,上报时间,状态,事件类别\n\nE1,1,2025-06-03,办结,其他\n", encoding="utf-8")
    res = read_file(path)
    out = normalise(res.source, res.sheets[0], KEY)
    assert out["_export_time"].to_list() == [datetime(2025, 8, 1, 23, 59, 59)]
    assert out["_row"].to_list() == [3]
    assert out["status"].to_list() == ["已办结"]


# --- names ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), [
    ("桃园村", "桃园"), ("桃园", "桃园"), ("桃园村委会", "桃园"), ("桃园村村民委员会", "桃园"),
    (" 桃 园\u3000村 ", "桃园"), ("城东社区", "城东"), ("城东社区居委会", "城东"), ("ＡＢ村", "AB"),
    ("东山乡", "东山"), ("西岭镇人民政府", "西岭"), ("城关街道办事处", "城关"), ("村", "村"), (None, None),
])
def test_village_key(name, expected):
    assert village_key(name) == expected
    assert pl.select(village_key_expr(pl.lit(name, dtype=pl.String))).item() == expected


def test_deadline_given_as_a_date_means_the_end_of_that_day():
    from datetime import datetime

    from pipelines.normalise import typed_field
    from pipelines.sources import SOURCES

    raw = pl.Series(["2025-06-09", "2025-06-09 12:00", "2025年6月9日", "45817", "45817.5", None])
    value, bad = typed_field(SOURCES["events"].field("deadline"), raw, b"k")
    assert value.to_list() == [datetime(2025, 6, 9, 23, 59, 59), datetime(2025, 6, 9, 12, 0),
                               datetime(2025, 6, 9, 23, 59, 59), datetime(2025, 6, 9, 23, 59, 59),
                               datetime(2025, 6, 9, 12, 0), None]
    assert bad.null_count() == 6
    # an occurrence time stays at 00:00 (SPEC §3.6)
    reported, _ = typed_field(SOURCES["events"].field("reported_at"), pl.Series(["2025-06-09"]), b"k")
    assert reported.to_list() == [datetime(2025, 6, 9)]


def test_personal_columns_equal_the_one_value_reference_on_awkward_text():
    """_personal_series cleans most values with polars and the rest with Python; whichever path a
    value takes, its hash or mask must be exactly personal_value's (hashes already in a warehouse
    must keep matching): full-width forms, tabs, zero-width and control characters, +86 and Excel's
    .0, names split by 、/，, separators alone, rare CJK, repeated and null values."""
    import random

    from pipelines.normalise import _personal_series, personal_value

    src = SOURCES["households"]
    pieces = ["张三", "欧阳 娜娜", "阿依古丽·买买提", "王五、赵六", "李四，钱七", "a/b", "/", "、", " ", "\t张\t三 ",
              "张\u200b三", "\u3000张三\u3000", "ＡＢ", "x", "𠀋𠀌", "⺠", "\ufa11", "e\u0301", "\x1c张三\x1f", "ß",
              "36072619800101123x", "３６０７２６１９８００１０１１２３Ｘ", " 360726 1980 0101 123X ",
              "13800138000", "+86 138-0013-8000", "8613800138000", "13800138000.0", "138 0013 8000.00",
              "0797-8123456", "１３８００１３８０００", "86", "", "电话：138", "12.5", "\n"]
    rng = random.Random(11)
    values = pieces + ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 3))) for _ in range(400)]
    values += [None, values[0], values[25]]
    for name in ("head_name", "id_number", "phone"):
        f = src.field(name)
        got = _personal_series(f, pl.Series("v", values, dtype=pl.String), KEY).to_list()
        want = [personal_value(f, v, KEY) for v in values]
        assert got == want, name
    assert want[values.index("+86 138-0013-8000")] == privacy.keyed_hash("13800138000", KEY)
    from pipelines.normalise import _head_keys

    heads = _head_keys(pl.Series("head_name", values, dtype=pl.String), KEY).to_list()
    assert heads == [privacy.name_key(v, KEY) for v in values]
    assert heads[values.index("\u3000张三\u3000")] == heads[values.index("\t张\t三 ")] == privacy.keyed_hash("张三", KEY)


def test_a_workbooks_sheets_typed_together_equal_each_sheet_alone(tmp_path):
    """The loader types all sheets of a file in one pass (normalise_sheets): every sheet's frame must be
    what normalise gives for it alone, though the sheets order their columns differently, one lacks
    the parties and the result, and names, bad dates and amounts differ from sheet to sheet."""
    import xlsxwriter

    from pipelines.normalise import normalise_sheets

    header = ["案件编号", "登记日期", "乡镇", "村", "纠纷类型", "当事人", "当事人数", "涉及金额(元)",
              "调解组织", "调解员", "调解结果", "办结日期", "是否越级上访", "关联事件编号"]
    path = tmp_path / "东山乡矛盾纠纷排查调处台账_2025年.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    sheets = {
        "6月": (header, [["D1", "2025-06-03", "东山乡", "桃园村", "邻里纠纷", "张三丰、李四", 2, 1200, "村调委会",
                          "吴调解", "调解成功", "2025-06-10", "否", ""],
                         ["D2", "2025-13-40", "东山乡", "桃园村", "土地承包", "王五", "两", "1,200元", "村调委会",
                          "吴调解", "调解中", "", "是", "E1"]]),
        "7月": (header[::-1], [r[::-1] for r in [["D3", "2025/7/1", "东山乡", "李家村", "其他", "赵 六", 1, "",
                                                   "乡调委会", "钱调解", "调解不成", "2025-07-09", "", ""]]]),
        "8月": ([h for h in header if h not in ("当事人", "调解结果")],
                [["D4", "2025年8月2日", "东山乡", "桃园村", "婚姻家庭", 3, 80, "村调委会", "吴调解", "", "否", ""]]),
    }
    for name, (cols, rows) in sheets.items():
        ws = wb.add_worksheet(name)
        ws.write_row(0, 0, cols)
        for i, r in enumerate(rows, start=1):
            ws.write_row(i, 0, r)
    wb.close()
    res = read_file(path)
    assert [s.rows.height for s in res.sheets] == [2, 1, 1]
    together = normalise_sheets(res.source, res.sheets, KEY)
    alone = [normalise(res.source, s, KEY) for s in res.sheets]
    for a, b in zip(together, alone, strict=True):
        assert a.schema == b.schema and a.equals(b)
    assert [f["_sheet"].to_list() for f in together] == [["6月", "6月"], ["7月"], ["8月"]]
    assert together[0]["parties"].to_list() == ["张**、李*", "王*"]
    assert together[0]["registered_on__bad"].to_list() == [None, "2025-13-40"]
    assert together[1]["parties"].to_list() == ["赵*、六*"] and together[2]["parties"].to_list() == [None]
