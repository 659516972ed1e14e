"""Import profiles (SPEC §3.8): the format and its validation, recognition (generality), the rejection
reason, `profile suggest` (draft → fill only its TODO lines → loads) and `profile check|list`."""

from __future__ import annotations

import csv
import random
import re
from pathlib import Path

import pytest
import yaml

from pipelines import profiles
from pipelines.cli import main
from pipelines.load import ingest
from pipelines.profiles import ProfileError, builtin_profile, caption_key, installed, load_profile
from pipelines.profiles.apply import merge_two_row_header
from pipelines.profiles.recognise import recognise
from pipelines.profiles.suggest import suggest
from pipelines.readers import read_file
from pipelines.sources import SOURCES, header_index

FIX = Path(__file__).parent / "fixtures" / "real_formats"
REAL = {  # shipped profile → (file, kind)
    "jeecg_points": (FIX / "01_jeecg_points" / "居民积分登记记录.xls", "points"),
    "tianque_households": (FIX / "04_tianque_households" / "户籍人口信息登记表.xls", "households"),
    "nbs_division_codes": (FIX / "06_nbs_villages" / "统计用区划代码_云岭县.xlsx", "admin_units"),
    "gsm_minqing_log": (FIX / "08_gsm_minqing_log" / "民情日志.xlsx", "visits"),
    "gsm_event_query": (FIX / "09_gsm_events" / "事件综合查询.xlsx", "events"),
}
REFERENCE = [FIX / "reference" / n for n in ("行政区划.csv", "网格边界.geojson", "户籍台账.csv")]
SHIPPED_DIR = Path(profiles.__file__).with_name("shipped")


@pytest.fixture
def without():
    """Switch shipped profiles off for one test ("the file with its shipped profile removed")."""
    yield profiles.exclude
    profiles.exclude()


# --- captions and the built-in profile ------------------------------------------------------------


@pytest.mark.parametrize("written, canonical", [
    ("姓名*", "姓名"), (" 户号*", "户号"), ("※网格编码", "网格编码"), ("网格　编码", "网格编码"),
    ("涉及金额（元）", "涉及金额"), ("事件编号(必填)", "事件编号"), ("ＡＢＣ编号", "abc编号"),
    ("加（扣）分分值", "加分分值"), ("【注】", "【注】"),
])
def test_caption_normalisation(written, canonical):
    assert caption_key(written) == canonical


def test_builtin_profile_is_the_synonym_table():
    for kind, src in SOURCES.items():
        p = builtin_profile(kind)
        assert p.captions == header_index(src)
        assert p.builtin and p.kind == kind and not p.entry_unknown


def test_two_row_header_reads_as_one():
    top = ["姓名*", "户籍地", None, None, "家庭称号", None, "备注"]
    sub = [None, "省*", "市*", "区县*", "五好家庭", "平安家庭", None]
    assert merge_two_row_header([c or "" for c in top], sub) == [
        "姓名*", "户籍地/省*", "户籍地/市*", "户籍地/区县*", "家庭称号/五好家庭", "家庭称号/平安家庭", "备注"]


# --- the profile file and its mistakes ------------------------------------------------------------

GOOD = """\
name: my_events
kind: events
signature: [单号, 格子, 报告时间]
columns:
  单号: event_id
  格子: grid_code
  报告时间: reported_at
  分类: category
  进度: status
  期限: deadline
"""


def _assert_mistake_named(tmp_path, text: str, line: int, words: str) -> None:
    """The profile `text` is refused with one line naming the file, the line and the mistake."""
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError) as e:
        load_profile(path)
    msg = str(e.value)
    assert msg.startswith(f"{path}, 第{line}行 / line {line}: "), msg
    assert words in msg and "\n" not in msg


@pytest.mark.parametrize("edit, line, words", [
    (("  分类: category", "  分类: kategorie"), 8, "不是网格事件的字段"),
    (("kind: events", "kind: eventz"), 2, "未知的数据类型"),
    (("  期限: deadline\n", ""), 4, "办结时限"),  # a required field neither mapped nor derived
    (("columns:", "derive:\n  source: TODO\ncolumns:"), 5, "还是 TODO"),
    (("columns:", "derive:\n  source: {extract: '(', from: 分类}\ncolumns:"), 5, "正则表达式有误"),
    (("signature: [单号, 格子, 报告时间]", "signature: [单号, 格子"), 4, "YAML语法错误"),
    (("name: my_events", "name: My Events"), 1, "方案名"),
    (("columns:", "colums:\n  x: y\ncolumns:"), 4, "未知的键"),
])
def test_profile_mistakes_name_file_and_line(tmp_path, edit, line, words):
    _assert_mistake_named(tmp_path, GOOD.replace(*edit), line, words)


def test_a_good_profile_loads_and_entry_time_absent_is_unknown(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(GOOD, encoding="utf-8")
    p = load_profile(path)
    assert p.kind == "events" and p.captions[caption_key("格子")] == "grid_code"
    assert p.entry_unknown  # no 录入时间 column: entry time unknown, not a missing required field


def test_a_hashed_id_may_not_digest_personal_data(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(GOOD.replace("  单号: event_id\n", "") + "derive:\n  event_id: {hash: [诉求人姓名, 报告时间]}\n",
                    encoding="utf-8")
    with pytest.raises(ProfileError, match="个人信息"):
        load_profile(path)


LOG = """\
name: my_log
kind: visits
signature: [辖区, 日期]
columns:
  辖区: grid_name
  日期: visited_at
rows:
  split: {column: 户主们, into: head_name, label: '[0-9]+号'}
derive:
  record_id: {hash: [辖区, 日期, _part]}
  visit_type: {cases: {".": 走访}, from: 户主们, default: 巡查}
"""


@pytest.mark.parametrize("edit, line, words", [
    (("into: head_name", "into: household"), 8, "不是走访巡查记录的字段"),
    (("into: head_name", "into: record_id"), 8, "不能拆分出记录编号"),
    (("label: '[0-9]+号'", "label: '[0-9+号'"), 8, "正则表达式有误"),
    (("label: '[0-9]+号'", "separator: '\\s*'"), 8, "不能匹配空文字"),
    (("label: '[0-9]+号'", "labels: x"), 8, "split 下未知的键"),
    (("{column: 户主们, ", "{"), 8, "split 需要 column"),
    (("column: 户主们", "column: 日期"), 8, "已在 columns 中对应 visited_at"),
    (("rows:\n", "rows:\n  group: {by: head_name}\n"), 8, "group 和 split 不能同时使用"),
    (("rows:\n  split: {column: 户主们, into: head_name, label: '[0-9]+号'}\n", ""), 8, "_part 只能与 rows.split"),
])
def test_split_mistakes_name_file_and_line(tmp_path, edit, line, words):
    assert edit[0] in LOG
    _assert_mistake_named(tmp_path, LOG.replace(*edit), line, words)


def test_split_profile_loads_and_a_split_cell_becomes_one_row_per_part(tmp_path):
    import polars as pl

    from pipelines.profiles.apply import apply

    path = tmp_path / "p.yaml"
    path.write_text(LOG, encoding="utf-8")
    p = load_profile(path)
    assert p.split == {"column": "户主们", "into": "head_name", "separator": profiles.SPLIT_SEPARATOR,
                       "label": "[0-9]+号"}
    assert p.captions["户主们"] == "head_name" and "head_name" in p.fields
    header = ["辖区", "日期", "户主们"]
    cells = [("一网格", "2025-06-01", "12号 张三、 李四，12号王五; １３号赵六"), ("一网格", "2025-06-02", "  "),
             ("一网格", "2025-06-03", None), ("一网格", "2025-06-04", "13号")]
    data = pl.DataFrame({f"c{i}": [r[i] for r in cells] for i in range(3)}).with_columns(
        pl.Series("_row", [2, 3, 4, 5]), pl.lit("{}").alias("_raw"))
    out = apply(p, header, data, [])
    got = out.select("_row", "_part", "head_name", "visit_type").rows()
    assert got == [(2, 1, "张三", "走访"), (2, 2, "李四", "走访"), (2, 3, "王五", "走访"), (2, 4, "赵六", "走访"),
                   (3, 0, None, "巡查"), (4, 0, None, "巡查"), (5, 1, None, "走访")]
    ids = out["record_id"].to_list()
    assert len(set(ids)) == len(ids)  # 12号 twice in one row: two ids (12号#1, 12号#2)
    # the same cells again (a re-export) give the same ids; another order of the parts keeps each
    # household's id where its house number says which it is
    assert apply(p, header, data, [])["record_id"].to_list() == ids
    swapped = data.with_columns(pl.Series("c2", ["１３号赵六、12号 张三、 李四，12号王五", "  ", None, "13号"]))
    again = dict(zip(apply(p, header, swapped, [])["head_name"].to_list()[:4],
                     apply(p, header, swapped, [])["record_id"].to_list()[:4], strict=True))
    assert again["赵六"] == ids[3] and again["张三"] == ids[0] and again["王五"] == ids[2]


def test_every_shipped_profile_is_valid_and_names_are_unique():
    names = [p.name for p in installed(include_user=False)]
    assert len(names) == len(set(names))
    assert set(REAL) <= set(names)


# --- recognition: the five are examples, not the field ----------------------------------------------


def _variants(p, rng: random.Random):
    """Captions of a profile permuted, reduced to a subset holding the signature, and (for built-in
    profiles) with each caption replaced by another synonym of its field."""
    by_field: dict[str, list[str]] = {}
    for cap, f in p.captions.items():
        by_field.setdefault(f, []).append(cap)
    sig = [g[0] for g in p.signature]
    others = [caps[0] for f, caps in by_field.items() if not any(c in sig for c in caps)]
    full = sig + others
    yield "permutation", rng.sample(full, len(full))
    yield "subset", rng.sample(sig + others[: len(others) // 2], len(sig) + len(others) // 2)
    if p.builtin:
        syn = [rng.choice(by_field[p.captions[c]]) for c in full]
        yield "synonyms", rng.sample(syn, len(syn))
        # as a clerk's template writes them: required markers and bracketed notes
        yield "markers", [c + "*" if i % 2 else c + "（必填）" for i, c in enumerate(full)]


@pytest.mark.parametrize("name", [p.name for p in installed(include_user=False)])
def test_recognition_picks_the_right_kind_for_permuted_subset_and_synonym_captions(name):
    p = next(x for x in installed(include_user=False) if x.name == name)
    rng = random.Random(name)
    for how, caps in _variants(p, rng):
        got = recognise(caps)
        assert got is not None and got.kind == p.kind, (how, caps, got and got.name)


def test_recognition_through_a_csv_file_with_shuffled_captions(tmp_path):
    path = tmp_path / "导出.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["满意度", "受理时间", "事件状态", "所属辖区", "办理时限", "受理编号"])
        w.writerow(["满意", "2025-07-13 08:41", "办结", "云岭县清河镇王家村第二网格", "2025-07-18", "SL1"])
    res = read_file(path)
    assert (res.source.kind, res.profile) == ("events", "gsm_event_query")
    assert res.sheets[0].rows["status"].to_list() == ["已办结"]  # the profile's value map


def test_a_header_fitting_two_kinds_equally_is_not_recognised():
    # 户编号 + 分值 + 记录编号 is points; adding 兑换编号 + 消耗积分 fits redemptions as well
    assert recognise(["记录编号", "户编号", "分值"]).kind == "points"
    assert recognise(["记录编号", "户编号", "分值", "兑换编号", "消耗积分"]) is None


# --- the rejection reason ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(REAL))
def test_rejection_names_the_closest_kind_and_the_command(without, name):
    path, kind = REAL[name]
    without(name)
    res = read_file(path)
    assert res.source is None
    msg = res.error
    zh, en = msg.split(" / header row ")
    src = SOURCES[kind]
    assert f"最接近{src.label_zh}（{kind}" in zh  # the first named kind is the right one
    assert f'xiangzhi profile suggest "{path.name}"' in zh and "缺少识别表头" in zh and "相符表头" in zh
    assert f"closest kind {kind}" in en and "missing signature captions" in en
    assert "\n" not in msg


# --- suggest: draft → fill only the TODO lines → the file loads ------------------------------------


def _fill(draft: str, shipped: dict) -> str:
    """Replace each TODO line by what the shipped profile says (or delete it): nothing else changes."""
    out, section, vfield = [], None, None
    by_field = {v: k for k, v in (shipped.get("columns") or {}).items()}
    for line in draft.splitlines():
        if re.match(r"^\w", line):
            section = line.split(":")[0]
        m = re.match(r"^  (\S+):\s*(#.*)?$", line)
        if section == "values" and m:
            vfield = m.group(1)
        if ": TODO" not in line:
            out.append(line)
            continue
        key = line.split(":")[0].strip().strip("'")
        indent = line[: len(line) - len(line.lstrip())]
        if section == "derive":
            d = (shipped.get("derive") or {}).get(key)
            if d is None and key in by_field:
                d = {"copy": by_field[key]}
            if d is not None:
                out.append(f"{indent}{key}: " + yaml.safe_dump(d, allow_unicode=True, default_flow_style=True).strip())
        elif section == "values":
            v = ((shipped.get("values") or {}).get(vfield) or {}).get(key)
            if v is not None:
                out.append(f"{indent}{key}: {v}")
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("name", list(REAL))
def test_suggest_drafts_a_profile_that_loads_once_its_todo_lines_are_filled(home, without, name):
    path, kind = REAL[name]
    ingest(REFERENCE)
    expected = {"jeecg_points": 48, "tianque_households": 52, "nbs_division_codes": 5,
                "gsm_minqing_log": 40, "gsm_event_query": 40}[name]
    without(name)
    draft = suggest(path)
    assert f"kind: {kind}" in draft
    assert ": TODO" in draft or name == "nbs_division_codes"
    shipped = yaml.safe_load((SHIPPED_DIR / f"{name}.yaml").read_text(encoding="utf-8"))
    filled = _fill(draft, shipped)
    assert len(filled.splitlines()) <= len(draft.splitlines())
    (home / "profiles").mkdir(parents=True)
    (home / "profiles" / "draft.yaml").write_text(filled, encoding="utf-8")
    report = ingest([path])
    f = next(x for x in report.files if x.file_name == path.name)
    assert (f.status, f.source_kind) == ("loaded", kind), f.reason
    assert (f.rows_loaded, f.rows_quarantined) == (expected, 0), f.by_reason


def test_suggest_proposes_split_where_a_cell_names_several_households(without):
    without("gsm_minqing_log", "jeecg_points")
    draft = suggest(REAL["gsm_minqing_log"][0])
    assert "  split: {column: 门牌和户主, into: head_name, label: '[0-9]+号'}" in draft
    assert "加上 _part" in draft  # the record id's TODO says how the households get ids of their own
    assert "split:" not in suggest(REAL["jeecg_points"][0])  # one 户主 per row: nothing to split


def test_suggest_drafts_value_maps_and_the_sign_column(without):
    without("gsm_event_query", "jeecg_points")
    events = suggest(REAL["gsm_event_query"][0])
    assert "    办结: 已办结" in events and "    部门签收: TODO" in events  # canonical where a synonym matches
    assert "  reported_at: TODO" in events and "上报时间" in events  # required, unmapped: says what is needed
    points = suggest(REAL["jeecg_points"][0])
    assert "  points: {sign: 评分类别, negative: [扣分]}" in points


# --- the command line ---------------------------------------------------------------------------------


def test_cli_profile_list_suggest_check(home, capsys, tmp_path):
    assert main(["profile", "list"]) == 0
    out = capsys.readouterr().out
    assert all(n in out for n in REAL) and "builtin_events" in out
    draft = tmp_path / "draft.yaml"
    assert main(["profile", "suggest", str(REAL["gsm_minqing_log"][0]), "--out", str(draft)]) == 0
    assert "TODO" in capsys.readouterr().out and draft.exists()
    assert main(["profile", "check", str(draft)]) == 2  # still has TODO lines: one line naming file and line
    err = capsys.readouterr().err
    assert f"{draft}, 第" in err and "TODO" in err
    ingest(REFERENCE)
    mine = tmp_path / "mine.yaml"
    mine.write_text(_fill(draft.read_text(encoding="utf-8"),
                          yaml.safe_load((SHIPPED_DIR / "gsm_minqing_log.yaml").read_text(encoding="utf-8")))
                    .replace("name: draft_visits", "name: mine_visits"), encoding="utf-8")
    assert main(["profile", "check", str(mine), str(REAL["gsm_minqing_log"][0])]) == 0
    out = capsys.readouterr().out
    assert "载入 loaded 40，隔离 quarantined 0" in out and "方案 profile mine_visits" in out
    assert re.search(r"visited_at\s+100%\s+100%", out)
    # check used a scratch home: nothing of the sample reached this home's warehouse
    import duckdb

    con = duckdb.connect(str(home / "warehouse" / "xiangzhi.duckdb"), read_only=True)
    try:
        assert con.execute("select count(*) from stg_visits").fetchone() == (0,)
    finally:
        con.close()


def test_an_office_profile_in_the_home_is_used(home, without):
    without("jeecg_points")
    (home / "profiles").mkdir(parents=True)
    text = (SHIPPED_DIR / "jeecg_points.yaml").read_text(encoding="utf-8").replace("name: jeecg_points",
                                                                                  "name: our_points")
    (home / "profiles" / "our_points.yaml").write_text(text, encoding="utf-8")
    res = read_file(REAL["jeecg_points"][0])
    assert res.profile == "our_points" and res.source.kind == "points"


# --- derivations and row shapes, on a file of a format nobody shipped --------------------------------


def test_derivations_fill_down_and_title_on_an_unseen_format(home, tmp_path):
    """A dispute-like events sheet: title line with the township, merged 单号 cells filled down,
    a deadline derived per category, a level-free code split by pattern."""
    (home / "profiles").mkdir(parents=True)
    (home / "profiles" / "x.yaml").write_text("""\
name: county_hotline
kind: events
signature: [工单号, 网格, 来电时间, 诉求类别]
columns:
  工单号: event_id
  网格: grid_code
  来电时间: reported_at
  诉求类别: category
  办理情况: status
derive:
  deadline: {deadline: 来电时间, by: 诉求类别, days: {矛盾纠纷: 3, 安全隐患: 1}, default: 7}
  source: {const: 12345热线}
  reporter: {extract: '^(.+?)（', from: 接线员}
  handling_level: {cases: {'乡|镇': 乡镇, '村': 村}, from: 办理单位}
  township_name: {title: 所属乡镇}
values:
  status: {已处理: 已办结, 处理中: 处置中}
rows:
  fill_down: [event_id]
""", encoding="utf-8")
    path = tmp_path / "热线工单.csv"
    path.write_text(
        "县12345热线工单,,,,,,\n所属乡镇：清河镇,,,,,,\n"
        "工单号,网格,来电时间,诉求类别,办理情况,接线员,办理单位\n"
        "GD1,530999101201001,2025-06-03 09:00,矛盾纠纷,已处理,王芳（工号3）,清河镇综治中心\n"
        ",530999101201001,2025-06-04 10:00,安全隐患,处理中,王芳（工号3）,王家村委会\n"
        "GD2,530999101201002,2025-06-05,其他,处理中,李明（工号5）,县应急局\n",
        encoding="utf-8")
    res = read_file(path)
    assert res.profile == "county_hotline" and res.source.kind == "events"
    rows = res.sheets[0].rows
    assert rows["event_id"].to_list() == ["GD1", "GD1", "GD2"]  # filled down
    assert rows["deadline"].to_list() == ["2025-06-06", "2025-06-05", "2025-06-12"]  # 3 / 1 / default 7 days
    assert rows["status"].to_list() == ["已办结", "处置中", "处置中"]
    assert rows["source"].to_list() == ["12345热线"] * 3
    assert rows["reporter"].to_list() == ["王芳", "王芳", "李明"]
    assert rows["handling_level"].to_list() == ["乡镇", "村", None]
    assert rows["township_name"].to_list() == ["清河镇"] * 3
    assert res.sheets[0].non_data == 2 and res.rows_read == 5


# --- absent ≠ empty: a field a file does not carry keeps the latest carrying export's value ------------


def test_a_later_export_without_a_column_keeps_the_value_empty_cells_still_clear_it(home, tmp_path):
    import duckdb

    from tests import builders as b

    ingest(b.write_reference(tmp_path / "ref"))
    full = b.EVENT_HEADER
    lacking = [h for h in full if h not in ("上报人", "来源", "处置层级", "满意度")]

    def ev(eid, status, level, satisfaction, header):
        row = dict(zip(full, b.event(eid, status=status, accepted="2025-06-02 10:00", closed="2025-06-05 10:00",
                                     satisfaction=satisfaction, level=level), strict=True))
        return [row[h] for h in header]

    # loaded newest first: the export time orders them, not the load order
    f30 = b.write_csv(tmp_path / "事件_20250630.csv", full, [ev("E2", "已回访", "乡镇", "", full)])
    f20 = b.write_csv(tmp_path / "事件_20250620.csv", lacking, [ev("E1", "已回访", None, None, lacking),
                                                                 ev("E2", "已回访", None, None, lacking)])
    f10 = b.write_csv(tmp_path / "事件_20250610.csv", full, [ev("E1", "已办结", "村", "满意", full),
                                                             ev("E2", "已办结", "村", "满意", full)])
    # a dispute ledger without 调解员 / 调解组织 after one with them
    d_full = b.DISPUTE_HEADER
    d_lacking = [h for h in d_full if h not in ("调解员", "调解组织")]
    d1 = dict(zip(d_full, b.dispute("D1"), strict=True))
    g10 = b.write_csv(tmp_path / "纠纷_20250610.csv", d_full, [list(d1.values())])
    g20 = b.write_csv(tmp_path / "纠纷_20250620.csv", d_lacking,
                      [[{**d1, "调解结果": "调解成功", "办结日期": "2025-06-15"}[h] for h in d_lacking]])
    ingest([f30, g20])
    ingest([f20])
    ingest([f10, g10])
    con = duckdb.connect(str(home / "published" / "xiangzhi.duckdb"), read_only=True)
    try:
        events = {r[0]: r[1:] for r in con.execute(
            "select event_id, status, handling_level, satisfaction, source, reporter from fct_event").fetchall()}
        dispute = con.execute("select result, concluded_on::varchar, mediator, mediation_org from fct_dispute").fetchall()
    finally:
        con.close()
    # E1: state from 06-20, which has no 处置层级/满意度/来源/上报人 columns: those from 06-10
    assert events["E1"] == ("已回访", "村", "满意", "网格员巡查", "钱上报")
    # E2: 06-30 has the columns, 满意度 present but empty: empty it is
    assert events["E2"] == ("已回访", "乡镇", None, "网格员巡查", "钱上报")
    assert dispute == [("调解成功", "2025-06-15", "吴调解", "村调委会")]


# --- a household given by its head's name, resolved within the village (issue #11 item 1) -----------


def test_household_named_by_its_head_resolves_within_the_village_ambiguous_never_guessed(home, tmp_path):
    import duckdb

    from pipelines import privacy
    from tests import builders as b

    ingest(b.write_reference(tmp_path / "ref"))
    # a second 张三丰 in 桃园村 (V1): his name no longer says which household
    more = b.write_csv(tmp_path / "户籍_补录.csv", ["户编号", "网格编码", "户主姓名", "家庭人口"],
                       [["H0004", b.G1, b.SECRET_NAMES[0], 2]])
    ingest([more])
    header = ["记录编号", "网格编码", "网格员", "户主姓名", "类型", "日期时间", "录入时间"]
    rows = [["V1", b.G2, "赵网格", b.SECRET_NAMES[1], "走访", "2025-06-03 10:00", "2025-06-03 18:00"],
            ["V2", b.G1, "赵网格", b.SECRET_NAMES[0], "走访", "2025-06-03 11:00", "2025-06-03 18:00"],
            ["V3", b.G1, "赵网格", b.SECRET_NAMES[1], "走访", "2025-06-03 12:00", "2025-06-03 18:00"],
            ["V4", b.G3, "赵网格", " 王　五 ", "走访", "2025-06-03 13:00", "2025-06-03 18:00"]]
    f = b.write_csv(tmp_path / "走访_户主_20250630.csv", header, rows)
    ingest([f])
    con = duckdb.connect(str(home / "published" / "xiangzhi.duckdb"), read_only=True)
    try:
        visits = dict(con.execute("select v.record_id, h.grid_code from fct_visit as v "
                                  "join dim_household as h using (household_key)").fetchall())
        quarantined = dict(con.execute("select row_number, reason_code || ' ' || reason_detail from quarantine "
                                       "where file_name = ?", [f.name]).fetchall())
        loaded = con.execute("select rows_loaded, rows_quarantined from load_files where file_name = ?",
                             [f.name]).fetchone()
    finally:
        con.close()
    assert visits == {"V1": b.G2, "V4": b.G3}  # the one 李四光 of 李家村; 王五 whatever the spaces
    assert loaded == (2, 2)
    masked = privacy.mask_name(b.SECRET_NAMES[0])
    assert quarantined[3].startswith("UNKNOWN_HOUSEHOLD") and f"{masked}（户主姓名在本村对应 2 户" in quarantined[3]
    assert quarantined[4].startswith("UNKNOWN_HOUSEHOLD") and "未找到" in quarantined[4]  # not in 桃园村
    for db in (home / "warehouse" / "xiangzhi.duckdb", home / "published" / "xiangzhi.duckdb"):
        con = duckdb.connect(str(db), read_only=True)
        try:
            text = "\n".join(str(con.execute(f'select * from "{t}"').fetchall())
                             for (t,) in con.execute("select table_name from duckdb_tables()").fetchall())
        finally:
            con.close()
        assert not [n for n in b.SECRET_NAMES if n in text], db
