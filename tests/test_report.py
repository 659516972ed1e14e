"""The monthly meeting pack (SPEC §8, issue #7) on the session's demo county: the PDF opens, has a
sensible page count, embeds its CJK font, shows every village of the league table with the published
figures, renders to a non-blank page with real glyphs and a drawn chart; the XLSX holds the published
values with real number formats; a township pack shows only its township; bad requests fail with a
clear Chinese + English message; the dashboard page previews the same figures.

Expected values are read straight from the published DuckDB file here, not through the code under test.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import duckdb
import numpy as np
import openpyxl
import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from pipelines import cli
from pipelines.errors import UserError
from pipelines.report import build_pack, render_pack
from pipelines.report.text import text_width


def _published(home: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(home / "published" / "xiangzhi.duckdb"), read_only=True)


@pytest.fixture(scope="module")
def facts(demo_home):
    with _published(demo_home) as con:
        periods = [r[0] for r in con.execute("select distinct period from village_scores order by 1").fetchall()]
        county = con.execute("select county_code, name from dim_county").fetchone()
        towns = con.execute("select township_code, name from dim_township order by 1").fetchall()
    return {"period": periods[-1], "first": periods[0], "county": county, "towns": towns}


@pytest.fixture(scope="module")
def county_pack(demo_home, facts, tmp_path_factory):
    out = tmp_path_factory.mktemp("pack_county")
    pdf, xlsx = build_pack(facts["period"], None, out)
    return {"pdf": pdf, "xlsx": xlsx, "text": _pdf_text(pdf)}


@pytest.fixture(scope="module")
def township_pack(demo_home, facts, tmp_path_factory):
    out = tmp_path_factory.mktemp("pack_town")
    code = facts["towns"][0][0]
    pdf, xlsx = build_pack(facts["period"], code, out)
    return {"pdf": pdf, "xlsx": xlsx, "text": _pdf_text(pdf), "code": code}


def _pdf_text(path: Path) -> str:
    # pdfium extracts fpdf2's CID text cleanly (pypdf interleaves NULs with CJK characters)
    doc = pdfium.PdfDocument(str(path))
    try:
        return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()


def _league(home: Path, period: str, prefix: str = "") -> list[tuple]:
    with _published(home) as con:
        return con.execute(
            # a village name that repeats in the county is shown as "村名（乡镇）" (#14 defect 3)
            """with lab as (select v.village_code, case when count(*) over (partition by v.name) > 1
                                   then v.name || '（' || t.name || '）' else v.name end as name
                           from dim_village v join dim_township t using (township_code))
               select s.rank, s.rank_change, s.prev_rank, s.village_code, v.name, t.name, s.score, p.score,
                      s.board, s.veto
               from village_scores s join lab v using (village_code)
               join dim_township t on t.township_code = s.township_code
               left join village_scores p on p.village_code = s.village_code
                 and p.period = strftime(strptime(s.period || '-01', '%Y-%m-%d') - interval 1 month, '%Y-%m')
               where s.period = $2 and starts_with(s.village_code, $1)
               order by s.rank, s.village_code""",
            [prefix, period],
        ).fetchall()


def _change(change, prev) -> str:
    if prev is None:
        return "新"
    return "—" if change == 0 else (f"↑{change}" if change > 0 else f"↓{-change}")


# ---------------------------------------------------------------------------------------------
# PDF


def test_pdf_opens_with_expected_pages_and_embedded_cjk_font(county_pack, township_pack):
    reader = PdfReader(str(county_pack["pdf"]))
    # cover, league + movers, four group tables (2–3 pages for 20 villages), charts, data quality,
    # then one grid workers' 张榜公示 page per village with assessed workers (SPEC §8)
    sheets = sum(1 for p in county_pack["text"].split("网格员月度考评结果公示")[1:])
    assert sheets > 0
    assert 7 + sheets <= len(reader.pages) <= 14 + sheets, len(reader.pages)
    assert 4 <= len(PdfReader(str(township_pack["pdf"])).pages) < len(reader.pages)
    embedded = []
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            for desc in font.get("/DescendantFonts", []):
                fd = desc.get_object()["/FontDescriptor"].get_object()
                embedded.append((str(fd["/FontName"]), any(k in fd for k in ("/FontFile", "/FontFile2", "/FontFile3"))))
    assert embedded and all(ok for _, ok in embedded), embedded
    assert any("NotoSansCJK" in name or "WenQuanYi" in name for name, _ in embedded), embedded
    text = county_pack["text"]
    assert re.search(r"第 1 页 / 共 \d+ 页", text) and f"共 {len(reader.pages)} 页" in text
    assert "生成时间" in text and "数据快照：批次 " in text


def test_pdf_league_table_matches_published_scores(county_pack, facts, demo_home):
    lines = set(county_pack["text"].splitlines())
    rows = _league(demo_home, facts["period"])
    assert len(rows) >= 10
    for rank, change, prev_rank, _code, name, town, score, prev_score, board, veto in rows:
        expected = f"{rank} {_change(change, prev_rank)} {name} {town} {score:.1f} " + (
            "—" if prev_score is None else f"{prev_score:.1f}")
        if board:
            expected += " " + {"red": "红榜", "black": "黑榜"}[board]
        if veto:
            expected += " 是"
        assert expected in lines, expected
    # cover summary counts the boards as published
    red = sum(r[8] == "red" for r in rows)
    black = sum(r[8] == "black" for r in rows)
    vetoes = sum(bool(r[9]) for r in rows)
    assert f"参评村（社区）{len(rows)} 个：红榜 {red} 个，黑榜 {black} 个（其中一票否决 {vetoes} 个）" in county_pack["text"]


def test_pdf_cover_headline_figures_match_published(county_pack, facts, demo_home):
    with _published(demo_home) as con:
        v = dict(con.execute(
            "select indicator_id, value from indicator_values where unit_code = ? and period = ?",
            [facts["county"][0], facts["period"]],
        ).fetchall())
    lines = county_pack["text"].splitlines()
    line = next(x for x in lines if x.startswith("重点户月走访率 "))
    assert line.split()[1] == f"{v['key_visit_rate'] * 100:.1f}%"
    line = next(x for x in lines if x.startswith("办结中位时长 "))
    assert line.split()[1] == f"{v['median_handle_hours']:.1f}"
    assert next(x for x in lines if x.startswith("越级上访数 ")).split()[1] == f"{v['petitions']:.0f}"


def _ink(img, box) -> float:
    """Share of dark pixels in a box of a rendered page (grayscale < 160)."""
    g = img.convert("L").crop(box)
    hist = g.histogram()
    return sum(hist[:160]) / max(1, g.width * g.height)


def test_pdf_renders_glyphs_and_charts(county_pack, demo_home, facts):
    from PIL import Image, ImageDraw, ImageFont

    from pipelines.report.fonts import cjk_fonts

    doc = pdfium.PdfDocument(str(county_pack["pdf"]))
    try:
        scale = 2.0  # 144 dpi: 1 mm = 5.67 px
        mm = 72 / 25.4 * scale
        cover = doc[0].render(scale=scale).to_pil()
        w, _h = cover.size
        title_box = (int(15 * mm), int(20 * mm), w - int(15 * mm), int(46 * mm))
        margin_box = (int(15 * mm), int(250 * mm), w - int(15 * mm), int(276 * mm))  # empty lower cover
        title_ink = _ink(cover, title_box)
        assert title_ink > 0.04, title_ink  # not blank
        assert _ink(cover, margin_box) < title_ink / 10
        # The same title drawn by PIL with the same bold CJK face: boxes or a fallback font differ a lot.
        f = cjk_fonts().bold
        font = ImageFont.truetype(str(f.path), size=round(22 / 72 * 72 * scale), index=f.index)
        ref = Image.new("L", (title_box[2] - title_box[0], title_box[3] - title_box[1]), 255)
        draw = ImageDraw.Draw(ref)
        draw.text((0, 0), facts["county"][1], font=font, fill=0)
        y, m = int(facts["period"][:4]), int(facts["period"][5:])
        draw.text((0, int(11 * mm)), f"{y}年{m}月月度考评通报", font=font, fill=0)
        ref_ink = _ink(ref, (0, 0, ref.width, ref.height))
        assert 0.6 < title_ink / ref_ink < 1.6, (title_ink, ref_ink)

        # the charts page: both charts drawn (coloured pixels of the palette's blue)
        charts_page = next(i for i in range(len(doc)) if "矛盾纠纷登记数" in doc[i].get_textpage().get_text_range()
                           or "趋势图" in doc[i].get_textpage().get_text_range())
        px = np.asarray(doc[charts_page].render(scale=1.0).to_pil().convert("RGB")).astype(int)
        blue = int(((px[..., 2] > 150) & (px[..., 0] < 60) & (px[..., 1] < 140)).sum())
        assert blue > 2000, blue
    finally:
        doc.close()


# ---------------------------------------------------------------------------------------------
# XLSX


def test_xlsx_league_sheet_equals_published(county_pack, facts, demo_home):
    wb = openpyxl.load_workbook(county_pack["xlsx"])
    ws = wb["排名"]
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    assert header[:7] == ["排名", "名次变化", "上月排名", "村代码", "村（社区）", "乡镇", "综合得分"]
    got = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    rows = _league(demo_home, facts["period"])
    assert len(got) == len(rows)
    for g, (rank, change, prev_rank, code, name, town, score, prev_score, board, veto) in zip(got, rows, strict=True):
        assert g[0] == rank and g[1] == change and g[2] == prev_rank
        assert g[3:6] == [code, name, town]
        assert g[6] == pytest.approx(score, rel=1e-12)
        assert (g[7] is None) if prev_score is None else g[7] == pytest.approx(prev_score, rel=1e-12)
        assert (g[9] or None) == {"red": "红榜", "black": "黑榜"}.get(board)
        assert (g[10] == "是") == bool(veto)
    assert ws.cell(2, 7).number_format == "0.0"
    # a CJK character counts as two: the village column fits the longest name
    widest = max(text_width(r[4]) for r in rows)
    assert ws.column_dimensions["E"].width >= widest


def test_xlsx_group_sheets_equal_published_indicator_values(county_pack, facts, demo_home):
    from pipelines.catalogue import load_catalogue

    cat = load_catalogue()
    with _published(demo_home) as con:
        values = {(u, i): v for u, i, v in con.execute(
            "select unit_code, indicator_id, value from indicator_values where period = ?", [facts["period"]]
        ).fetchall()}
        villages = {r[0] for r in con.execute("select village_code from dim_village").fetchall()}
    wb = openpyxl.load_workbook(county_pack["xlsx"])
    checked = 0
    for g in cat.groups:
        inds = cat.in_group(g.id)
        ws = wb[g.name_zh]
        assert ws.freeze_panes == "A3"  # names and targets stay in view
        header = [c.value for c in ws[1]]
        assert header[4:] == [i.name_zh for i in inds]
        targets = [c.value for c in ws[2]][4:]
        for ind, t in zip(inds, targets, strict=True):
            if ind.target is not None and ind.direction != "none":
                assert t == pytest.approx(ind.target)
        codes = set()
        for row in ws.iter_rows(min_row=3):
            code = row[1].value
            codes.add(code)
            for ind, cell in zip(inds, row[4:], strict=True):
                want = values[(code, ind.id)]
                if want is None or (isinstance(want, float) and math.isnan(want)):
                    assert cell.value is None, (code, ind.id)
                else:
                    assert cell.value == pytest.approx(want, rel=1e-12, abs=1e-12), (code, ind.id)
                    if ind.unit == "比率":
                        assert cell.number_format == "0.0%"
                checked += 1
        assert villages | {facts["county"][0]} | {t for t, _ in facts["towns"]} == codes
    assert checked > 100


def test_xlsx_headline_and_quality_sheets(county_pack, facts, demo_home):
    wb = openpyxl.load_workbook(county_pack["xlsx"])
    assert {"说明", "主要指标", "排名", "名次进退", "得分趋势", "纠纷类型", "上报情况", "数据文件", "隔离原因"} <= set(
        wb.sheetnames)
    with _published(demo_home) as con:
        v = dict(con.execute("select indicator_id, value from indicator_values where unit_code = ? and period = ?",
                             [facts["county"][0], facts["period"]]).fetchall())
        by_reason = con.execute("select count(*) from quarantine").fetchone()[0]
    ws = wb["主要指标"]
    got = {r[0].value: r[3].value for r in ws.iter_rows(min_row=2)}
    assert set(got) == set(v)
    for k, want in v.items():
        assert (got[k] is None) if want is None else got[k] == pytest.approx(want, rel=1e-12)
    q = wb["隔离原因"]
    month_rows = sum(r[3].value for r in q.iter_rows(min_row=2))
    assert 0 < month_rows <= by_reason
    files = wb["数据文件"]
    assert sum(r[4].value for r in files.iter_rows(min_row=2)) == month_rows  # quarantined per file adds up


# ---------------------------------------------------------------------------------------------
# Township scope


def test_township_pack_shows_only_its_township(township_pack, facts, demo_home):
    code = township_pack["code"]
    own = _league(demo_home, facts["period"], code)
    others = [r for r in _league(demo_home, facts["period"]) if not r[3].startswith(code)]
    assert own and others
    text = township_pack["text"]
    lines = set(text.splitlines())
    for rank, change, prev_rank, _c, name, _t, score, _ps, _b, _v in own:
        assert any(x.startswith(f"{rank} {_change(change, prev_rank)} {name} {score:.1f}") for x in lines), name
    other_town = next(n for c, n in facts["towns"] if c != code)
    assert other_town not in text
    own_names = {r[4] for r in own}
    for r in others:
        if r[4] not in own_names:  # village names repeat across townships
            assert r[4] not in text, r[4]
    wb = openpyxl.load_workbook(township_pack["xlsx"])
    assert "数据文件" not in wb.sheetnames  # load bookkeeping is county-wide: not in a township pack
    assert [r[3].value for r in wb["排名"].iter_rows(min_row=2)] == [r[3] for r in own]
    for name in ("网格工作", "事件处置", "矛盾纠纷", "积分治理"):
        assert all(str(r[1].value).startswith(code) for r in wb[name].iter_rows(min_row=3))
    with _published(demo_home) as con:
        rate = con.execute("select value from indicator_values where unit_code = ? and period = ? "
                           "and indicator_id = 'key_visit_rate'", [code, facts["period"]]).fetchone()[0]
    assert {r[0].value: r[3].value for r in wb["主要指标"].iter_rows(min_row=2)}["key_visit_rate"] == pytest.approx(rate)


def test_township_account_cannot_get_another_townships_pack(demo_home, facts):
    from pipelines import warehouse as wh

    own, other = facts["towns"][0][0], facts["towns"][1][0]
    with pytest.raises(UserError, match="权限范围"):
        render_pack(wh.Scope("township", own), facts["period"], other)


def test_first_month_pack_has_no_comparison(demo_home, facts):
    from pipelines import warehouse as wh

    pack = render_pack(wh.Scope("county", facts["county"][0]), facts["first"], facts["towns"][0][0])
    assert pack.pdf.startswith(b"%PDF") and pack.xlsx.startswith(b"PK")
    assert not pack.data.has_prev and pack.data.risers.empty
    assert facts["first"] in pack.pdf_name


# ---------------------------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize(("period", "township", "message"), [
    ("2025-13", None, "月份格式应为 YYYY-MM"),
    ("202506", None, "period must be YYYY-MM"),
    ("1999-01", None, "没有 1999年1月 的数据"),
    (None, "999999999", "乡镇代码 999999999 不存在"),
    (None, "12345", "乡镇代码应为 9 位数字"),
])
def test_bad_requests_raise_user_error(demo_home, facts, tmp_path, period, township, message):
    with pytest.raises(UserError) as e:
        build_pack(period or facts["period"], township, tmp_path)
    assert message in str(e.value)
    assert re.search(r"[A-Za-z]{4,}", str(e.value))  # the English half
    assert not any(tmp_path.iterdir())


def test_no_published_data_is_a_clear_cli_error(home, capsys):
    rc = cli.main(["report", "--period", "2025-06"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "尚无已发布的数据" in err and "xiangzhi ingest" in err and "Traceback" not in err


def test_cli_writes_both_files(demo_home, facts, tmp_path, capsys):
    assert cli.main(["report", "--period", facts["period"], "--township", facts["towns"][1][0],
                     "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out.split()
    assert sorted(Path(p).suffix for p in printed) == [".pdf", ".xlsx"]
    assert all(Path(p).stat().st_size > 5000 for p in printed)


# ---------------------------------------------------------------------------------------------
# Dashboard page 7


APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


@pytest.mark.parametrize("role", ["county", "township"])
def test_dashboard_pack_page_previews_published_figures(demo_home, facts, role):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["username"] = role
    at.run()
    at.switch_page("views/monthly_pack.py").run()
    assert not at.exception, at.exception
    prefix = facts["county"][0] if role == "county" else facts["towns"][0][0]
    rows = _league(demo_home, at.session_state["period"], prefix)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["参评村（社区）"] == str(len(rows))
    assert metrics["黑榜"] == str(sum(r[8] == "black" for r in rows))
    league = next(df.value for df in at.dataframe if "综合得分" in df.value.columns)
    assert list(league["村（社区）"]) == [r[4] for r in rows]
    assert list(league["综合得分"].round(6)) == [round(r[6], 6) for r in rows]
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["下载 PDF（打印版）", "下载 XLSX（数据表）"]


# ---------------------------------------------------------------------------------------------
# A rejected file (#19 item 13): the demo inbox holds a stray note, rejected with no data kind


def test_county_pack_lists_a_rejected_file(county_pack, demo_home):
    from pipelines.demo import STRAY_NOTE

    with _published(demo_home) as con:
        rejected = con.execute("select file_name, source_kind from load_files where status = 'rejected'").fetchall()
    assert (STRAY_NOTE, None) in rejected  # the case that reached fpdf as NaN
    text = county_pack["text"]
    assert STRAY_NOTE in text.replace("\r", "").replace("\n", "") or "会议记录" in text
    assert not re.search(r"(?<![A-Za-z])(nan|None|NaN)(?![A-Za-z])", text)
    files = openpyxl.load_workbook(county_pack["xlsx"])["数据文件"]
    row = next(r for r in files.iter_rows(min_row=2, values_only=True) if r[0] == STRAY_NOTE)
    assert row[1] == "—" and row[7] == "拒收" and row[8] not in (None, "", "—")


def test_pack_of_an_incomplete_month_says_so(demo_home, facts, tmp_path, monkeypatch):
    # a copy of the demo whose last month has 1.1 % of grids reporting (a partly loaded month)
    import shutil

    home = tmp_path / "home"
    shutil.copytree(demo_home, home)
    with duckdb.connect(str(home / "published" / "xiangzhi.duckdb")) as con:
        con.execute("update indicator_values set value = 0.011 where indicator_id = 'grid_active_rate' "
                    "and period = ?", [facts["period"]])
    monkeypatch.setenv("XIANGZHI_HOME", str(home))
    pdf, xlsx = build_pack(facts["period"], None, tmp_path / "out")
    text = _pdf_text(pdf).replace("\r", "").replace("\n", "")
    assert "数据不完整，仅 1.1% 的网格已上报" in text
    notes = {r[0].value: r[1].value for r in openpyxl.load_workbook(xlsx)["说明"].iter_rows(min_row=2)}
    assert "1.1%" in notes["数据完整性"]
    # the demo's own last month is complete: no such warning
    monkeypatch.setenv("XIANGZHI_HOME", str(demo_home))
    pdf, _ = build_pack(facts["period"], None, tmp_path / "out2")
    assert "数据不完整" not in _pdf_text(pdf)
