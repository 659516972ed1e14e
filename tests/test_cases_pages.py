"""Pages 9 事件与案件, 10 权重推演 and the village comparison through AppTest, for every role and both
languages; drill-through links and what they list; the export helper's files."""

from __future__ import annotations

import csv
import io

import openpyxl
import pandas as pd
import pytest

from dashboard.export import to_csv, to_xlsx
from dashboard.i18n import ind_short
from pipelines import warehouse as wh
from pipelines.catalogue import load_catalogue
from tests.test_dashboard_apptest import app, published, texts

CAT = load_catalogue()


@pytest.fixture
def demo(demo_home, monkeypatch):
    """The session's generated demo home (as in test_dashboard_apptest)."""
    monkeypatch.setenv("XIANGZHI_HOME", str(demo_home))
    with published(demo_home) as con:
        units = wh.first_units(con)
        period = con.execute("select max(period) from indicator_values").fetchone()[0]
        towns = [r[0] for r in con.execute("select township_code from dim_township order by 1").fetchall()]
    return {"home": demo_home, "units": units, "period": period, "townships": towns}
TITLES = {"zh": ("事件与案件", "村庄对比", "权重推演"), "en": ("events and cases", "compare villages", "what-if weights")}


def _nav(at) -> list[str]:
    return [p.page_name if hasattr(p, "page_name") else str(p) for p in at.main]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("role", ["county", "township", "village"])
def test_pages_render_for_every_role(demo, role, lang):
    at = app(role, lang=lang)
    unit = demo["units"][role]["name"]
    cases_t, compare_t, whatif_t = TITLES[lang]
    at.switch_page("views/cases.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == (f"{unit} · 事件与案件" if lang == "zh" else f"{unit} · events and cases")
    assert len(at.tabs) == 3 and len(at.dataframe) >= 1
    assert at.download_button and all(b.label in ("下载 XLSX", "下载 CSV", "Download XLSX", "Download CSV")
                                      for b in at.download_button)
    at.switch_page("views/compare.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert compare_t in at.title[0].value
    if role == "village":
        assert ("不足两个村" if lang == "zh" else "Fewer than two villages") in texts(at)
    else:
        assert len(at.dataframe) == 1 and len(at.dataframe[0].value) == len(CAT.indicators)
        # indicators are rows with their full names here: no "hover a column header" advice
        shown = texts(at)
        assert ("灰色带 * 为样本不足" if lang == "zh" else "grey with * = low n") in shown
        assert "鼠标移到列名" not in shown and "Hover a column" not in shown
    if role == "county":
        at.switch_page("views/whatif.py").run()
        assert not at.exception, [e.value for e in at.exception]
        assert whatif_t in at.title[0].value
        assert len(at.slider) == sum(1 for i in CAT.indicators if i.weight > 0) + 1
    else:
        with pytest.raises(ValueError):  # not in this account's navigation
            at.switch_page("views/whatif.py").run()


def test_event_list_counts_and_filters(demo):
    at = app("county")
    at.switch_page("views/cases.py").run()
    county = wh.Scope("county", demo["units"]["county"]["code"])
    with published(demo["home"]) as con:
        ev = wh.event_cases(county, demo["period"], con=con)
        od = wh.overdue_events(county, con=con)
        dc = wh.dispute_cases(county, demo["period"], con=con)
    frames = [d.value for d in at.dataframe]
    assert len(frames[0]) == len(ev) and "事件编号" in frames[0].columns and "上报时间" in frames[0].columns
    assert any(len(f) == len(od) and "超期天数" in f.columns for f in frames)
    assert any(len(f) == len(dc) and "当事人（脱敏）" in f.columns for f in frames)
    shown = texts(at)
    assert f"事件 {len(ev)} 件" in shown
    # empty cells (not yet accepted, no handling level) show "—", never None/nan (issue #14 defect 6)
    assert ev["accepted_at"].isna().any()
    for f in frames:
        assert not f.isna().any().any(), [c for c in f.columns if f[c].isna().any()]
    assert (frames[0]["办结时间"] == "—").sum() == int(ev["closed_at"].isna().sum())
    # #14 defect 8: the list fits 1440 px: the main fields on screen, date-times to the minute (the
    # downloads keep every field, typed: export.table's `screen`)
    assert list(frames[0].columns) == ["事件编号", "网格名称", "事件类别", "状态", "上报时间", "办结时限", "办结时间",
                                       "逾期办结"]
    assert frames[0]["上报时间"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d").all()
    # filters: overdue only
    at.checkbox(key="ev_overdue").check().run()
    assert len(at.dataframe[0].value) == int((ev["closed_late"] | ev["overdue_open"]).sum())
    cat_ = ev["category"].iloc[0]
    at.selectbox(key="ev_cat").select(cat_).run()
    assert set(at.dataframe[0].value["事件类别"]) <= {cat_}


@pytest.mark.parametrize("role", ["county", "township", "village"])
def test_kpi_cards_link_to_records_that_add_up(demo, role):
    at = app(role)
    links = at.page_link
    assert len(links) >= len(CAT.indicators)
    code, period = demo["units"][role]["code"], demo["period"]
    with published(demo["home"]) as con:
        iv = con.execute("select indicator_id, numerator, denominator from indicator_values "
                         "where unit_code = ? and period = ?", [code, period]).df().set_index("indicator_id")
    for ind_id in ("on_time_rate", "events_reported", "key_visit_rate", "mediation_success_rate"):
        at = app(role)
        at.query_params.update({"ind": ind_id, "unit": code, "period": period})
        at.switch_page("views/cases.py").run()
        assert not at.exception, [e.value for e in at.exception]
        recs = at.dataframe[0].value
        ind = CAT[ind_id]
        if ind.kind == "rate":
            assert len(recs) == int(iv.loc[ind_id, "denominator"])
            assert int((recs["计入分子"] == "✓").sum()) == int(iv.loc[ind_id, "numerator"])
        else:
            assert len(recs) == int(iv.loc[ind_id, "numerator"])
        assert f"{CAT[ind_id].name_zh} 的记录" in texts(at)


def test_drill_link_outside_scope_is_refused(demo):
    at = app("village")
    other = demo["townships"][-1]
    at.query_params.update({"ind": "events_reported", "unit": other, "period": demo["period"]})
    at.switch_page("views/cases.py").run()
    assert not at.exception
    assert "权限" in texts(at)


def test_league_cell_links_to_records(demo):
    at = app("county")
    at.switch_page("views/rankings.py").run()
    col = ind_short(CAT["event_closure_rate"], "zh")  # the league heads indicators with short names
    at.session_state["league_cells"] = {"selection": {"rows": [], "columns": [], "cells": [(0, col)]}}
    at.run()
    assert not at.exception
    labels = [p.proto.label for p in at.page_link]
    assert any(col in label and "查看记录" in label for label in labels), labels


def test_whatif_official_weights_change_nothing_and_sliders_do(demo):
    at = app("county")
    at.switch_page("views/whatif.py").run()
    assert "名次变化 0 个村，红黑榜变化 0 个村" in texts(at)
    table = at.dataframe[0].value
    with published(demo["home"]) as con:
        official = con.execute("select score from village_scores where period = ? and score is not null",
                               [demo["period"]]).df()
    assert len(table) >= len(official)
    assert (table["推演·综合得分"].dropna().round(2).sort_values().tolist()
            == table["正式·综合得分"].dropna().round(2).sort_values().tolist())
    at.slider(key="wi_share").set_value(0.5).run()
    at.slider(key="wi_w_petitions").set_value(0.0).run()
    assert "名次变化 0 个村，红黑榜变化 0 个村" not in texts(at)
    at.button(key="wi_reset").click().run()
    assert "名次变化 0 个村，红黑榜变化 0 个村" in texts(at)


def test_export_xlsx_typed_cells_and_csv_bom():
    df = pd.DataFrame({"事件编号": ["E1", "E2"], "办结用时(小时)": [1.5, None],
                       "上报时间": pd.to_datetime(["2025-06-01 09:30", "2025-06-02 10:00"]),
                       "登记日期": pd.to_datetime(["2025-06-01", "2025-06-03"]), "逾期办结": [True, False],
                       "当事人数": pd.array([2, 3], dtype="Int64")})
    wb = openpyxl.load_workbook(io.BytesIO(to_xlsx(df, "事件")))
    ws = wb.active
    assert ws.title == "事件"
    assert [c.value for c in ws[1]] == list(df.columns)
    row = [c.value for c in ws[2]]
    assert row[0] == "E1" and row[1] == 1.5 and ws.cell(2, 2).data_type == "n"
    assert ws.cell(2, 3).is_date and row[2].hour == 9 and ws.cell(2, 4).is_date
    assert ws.cell(2, 4).number_format == "yyyy-mm-dd" and row[4] == "是" and row[5] == 2
    assert ws.cell(3, 2).value is None  # missing stays empty, not "nan"
    raw = to_csv(df)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == list(df.columns) and rows[1][0] == "E1" and rows[2][4] == "否"


def test_filters_survive_a_reload(demo):
    """The case filters are kept in the URL: a fresh session with the same URL shows the same list."""
    at = app("county")
    at.switch_page("views/cases.py").run()
    every = at.dataframe[0].value
    cat_ = every["事件类别"].iloc[0]
    at.selectbox(key="ev_cat").select(cat_).run()
    at.checkbox(key="dc_month").uncheck().run()
    assert at.query_params["ev_cat"] == [cat_] or at.query_params["ev_cat"] == cat_
    filtered = len(at.dataframe[0].value)
    fresh = app("county")
    fresh.query_params.update({"ev_cat": cat_, "dc_month": "0"})
    fresh.switch_page("views/cases.py").run()
    assert not fresh.exception
    assert fresh.selectbox(key="ev_cat").value == cat_ and fresh.checkbox(key="dc_month").value is False
    assert len(fresh.dataframe[0].value) == filtered
    assert set(fresh.dataframe[0].value["事件类别"]) == {cat_}


def _rows(df: pd.DataFrame) -> list[dict]:
    """Rows with every missing cell as None (an all-empty column of a few rows comes back untyped)."""
    return df.astype(object).where(df.notna(), None).to_dict("records")


def test_event_counts_equal_the_full_lists_and_a_limit_keeps_the_first_rows(demo):
    county = wh.Scope("county", demo["units"]["county"]["code"])
    with published(demo["home"]) as con:
        for period in (demo["period"], None):
            every = wh.event_cases(county, period, con=con)
            opts = wh.event_case_counts(county, period, con=con).iloc[0]
            assert list(opts["categories"]) == sorted(every["category"].dropna().unique())
            assert list(opts["statuses"]) == sorted(every["status"].dropna().unique())
            for cat, overdue in ((None, False), (every["category"].iloc[0], False), (None, True)):
                ev = wh.event_cases(county, period, category=cat, overdue=overdue, con=con)
                n = wh.event_case_counts(county, period, category=cat, overdue=overdue, con=con).iloc[0]
                assert (n["n"], n["closed"], n["late"], n["overdue"]) == (
                    len(ev), int(ev["is_closed"].sum()), int(ev["closed_late"].sum()), int(ev["overdue_open"].sum()))
            first = wh.event_cases(county, period, limit=7, con=con)
            assert _rows(first) == _rows(every.head(7))
        od = wh.overdue_events(county, con=con)
        assert _rows(wh.overdue_events(county, limit=3, con=con)) == _rows(od.head(3))
        assert int(wh.overdue_summary(county, con=con)["overdue"].sum()) == len(od)


def test_long_case_lists_show_their_first_rows_and_download_them_all(demo, monkeypatch):
    import dashboard.export as export

    monkeypatch.setattr(wh, "CASE_LIST_ROWS", 5)
    made: dict[str, pd.DataFrame] = {}
    real = export.to_xlsx

    def record(df, sheet="数据", lang="zh"):
        made[sheet] = df.copy()
        return real(df, sheet, lang)

    monkeypatch.setattr(export, "to_xlsx", record)
    county = wh.Scope("county", demo["units"]["county"]["code"])
    with published(demo["home"]) as con:
        ev = wh.event_cases(county, demo["period"], con=con)
        od = wh.overdue_events(county, con=con)
    assert len(ev) > 5 and len(od) > 5
    for lang, line in (("zh", f"页面列出前 5 条（共 {len(ev)} 条）"), ("en", f"The page lists the first 5 of {len(ev)}")):
        at = app("county", lang=lang)
        at.switch_page("views/cases.py").run()
        assert not at.exception, [e.value for e in at.exception]
        frames = [d.value for d in at.dataframe]
        assert len(frames[0]) == 5
        shown = texts(at)
        assert line in shown
        assert (f"事件 {len(ev)} 件" if lang == "zh" else f"{len(ev)} events") in shown
        assert (f"共 {len(od)} 件" if lang == "zh" else f"{len(od)} events still open") in shown
        events = next(v for k, v in made.items() if k.endswith("_事件"))
        overdue = next(v for k, v in made.items() if k.endswith("_超期未办结"))
        assert len(events) == len(ev) and len(overdue) == len(od)  # the downloads hold every row
        made.clear()


def test_the_unfiltered_events_tab_counts_its_events_once(demo, monkeypatch):
    """The filter options and the counts above the list are one query when no filter is set: both
    are the unit's unfiltered counts (event_case_counts), asked in the same form, so cached once."""
    import functools

    import streamlit as st

    calls = []
    real = wh.event_case_counts

    @functools.wraps(real)
    def counting(*args, **kwargs):
        calls.append(args[1:])
        return real(*args, **kwargs)

    monkeypatch.setattr(wh, "event_case_counts", counting)
    st.cache_data.clear()
    at = app("county")
    at.switch_page("views/cases.py").run()
    assert not at.exception
    assert len(calls) == 1, calls
    at.checkbox(key="ev_overdue").check().run()  # a filter: the options stay unfiltered, the counts not
    assert len(calls) == 2 and calls[-1][-1] is True, calls
