"""Every table of pages 1, 4, 5, 6 and 8 offers its XLSX and CSV download (#15 item 5, SPEC §7),
through AppTest on the generated demo county, in both languages: the XLSX opens with openpyxl,
headed in the user's language, with numbers in number cells (not text)."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pandas as pd
import pytest

from dashboard import export
from dashboard.i18n import t
from tests.test_dashboard_apptest import app

CJK = re.compile(r"[\u4e00-\u9fff]")
# page → the role it is opened as
PAGES = {
    "overview": "county",
    "rankings": "county",
    "points": "county",
    "quality": "county",
    "workers": "county",
}


@pytest.fixture
def demo(demo_home, monkeypatch):
    monkeypatch.setenv("XIANGZHI_HOME", str(demo_home))
    return demo_home


@pytest.fixture
def made(monkeypatch):
    """Every frame the pages turn into an XLSX in the run: [(file name, frame, bytes)]."""
    out: list[tuple[str, pd.DataFrame, bytes]] = []
    real = export.to_xlsx

    def record(df, sheet="数据", lang="zh"):
        data = real(df, sheet, lang)
        out.append((sheet, df.copy(), data))
        return data

    monkeypatch.setattr(export, "to_xlsx", record)
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("page", list(PAGES))
def test_every_table_offers_xlsx_and_csv(demo, made, page, lang):
    at = app(PAGES[page], lang=lang)
    made.clear()  # the sign-in run drew the overview: count this page's run only
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    labels = [b.label for b in at.download_button]
    tables = len(at.dataframe) + len(at.table)  # data grids and page tables (st.table)
    assert tables >= (0 if page == "overview" else 2), page  # the overview's tables are alerts, if any
    # one XLSX and one CSV button under every table (page 8's 公示表 buttons are labelled apart)
    assert labels.count(t("download_xlsx", lang)) == tables, labels
    assert labels.count(t("download_csv", lang)) == tables, labels
    assert len(made) == tables
    if lang == "en":  # every shown header in English too (数据质量 kept some Chinese ones, #14 defect 9)
        shown = [str(c) for d in at.dataframe for c in d.value.columns]
        assert shown and not [h for h in shown if CJK.search(h)], shown
    numeric_cells = 0
    for name, df, data in made:
        ws = openpyxl.load_workbook(io.BytesIO(data)).active
        header = [c.value for c in ws[1]]
        assert header == [str(c) for c in df.columns], name
        if lang == "en":  # English headers in English mode (data such as names stay as they are)
            assert not [h for h in header if CJK.search(h)], (name, header)
        else:
            assert any(CJK.search(h) for h in header), (name, header)
        assert ws.max_row == len(df) + 1, name  # every row, nothing cut
        for j, col in enumerate(df.columns, start=1):
            s = df[col]
            if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s) and s.notna().any():
                i = int(s.reset_index(drop=True).notna().idxmax()) + 2
                cell = ws.cell(i, j)
                assert cell.data_type == "n" and cell.value == pytest.approx(float(s.dropna().iloc[0])), (name, col)
                numeric_cells += 1
    if tables:
        assert numeric_cells >= 1, page  # each page has at least one typed number column


def test_league_download_has_every_indicator_as_a_number(demo, made):
    """The league's XLSX: one row per ranked village, the score and every weighted indicator as
    number cells (a share as a fraction) under the full Chinese indicator names."""
    from pipelines.catalogue import load_catalogue

    at = app("county")
    made.clear()
    at.switch_page("views/rankings.py").run()
    assert not at.exception
    league = at.dataframe[0].value
    name, df, data = next(m for m in made if m[0].startswith("村（社区）排名"))
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    header = [c.value for c in ws[1]]
    weighted = [i for i in load_catalogue().indicators if i.weight > 0]
    assert [i.name_zh for i in weighted] == header[7:]
    assert ws.max_row == len(league) + 1
    for j, h in enumerate(header, start=1):
        if h == "综合得分" or j > 7:
            cells = [ws.cell(i, j) for i in range(2, ws.max_row + 1) if ws.cell(i, j).value is not None]
            assert cells and all(c.data_type == "n" for c in cells), h
    shares = [j for j, i in enumerate(weighted, start=8) if i.unit == "比率"]
    assert all(0 <= ws.cell(r, j).value <= 1 for j in shares for r in range(2, ws.max_row + 1)
               if ws.cell(r, j).value is not None)


def test_quality_grid_download_keeps_rates_as_numbers(demo, made):
    at = app("county", lang="en")
    made.clear()
    at.switch_page("views/quality.py").run()
    assert not at.exception
    name, df, data = next(m for m in made if m[0].startswith("网格上报"))
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    header = [c.value for c in ws[1]]
    assert header[0] == "Grid code" and "Key household monthly visit rate" in header
    j = header.index("Key household monthly visit rate") + 1
    rates = [ws.cell(i, j) for i in range(2, ws.max_row + 1) if ws.cell(i, j).value is not None]
    assert rates and all(c.data_type == "n" and 0 <= c.value <= 1 for c in rates)
    raw = export.to_csv(df, "en")
    assert raw.startswith(b"\xef\xbb\xbf")
    assert next(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))[0] == "Grid code"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_scorecard_sum_line_reads_naturally(demo, lang):
    """#14 defect 9: "Score: 91.8 = Σ Contribution" became a sentence in each language."""
    at = app("county", lang=lang)
    at.switch_page("views/rankings.py").run()
    assert not at.exception
    pick = at.selectbox(key="drill_village")
    league = at.dataframe[0].value
    score = float(league.loc[league[t("name", lang)] == pick.options[pick.index], t("score", lang)].iloc[0])
    want = t("score_sum", lang, score=f"{score:.1f}")
    lines = [m.value for m in at.markdown]
    assert f"**{want}**" in lines, lines
    assert not [m for m in lines if "Σ" in m]
