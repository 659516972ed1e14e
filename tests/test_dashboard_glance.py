"""What a leader reads at a glance (#14), through Streamlit's AppTest on real published copies: same-name
villages told apart, no "None"/"nan" in any table, months in calendar order, the default month and
the incomplete-month warning."""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest

from dashboard import charts
from tests.test_dashboard_apptest import PAGES, app, dash_home, demo, edge_published, texts  # noqa: F401
from tests.test_warehouse_scope import TOWNSHIPS, VILLAGES

MISSING_TEXT = {"None", "nan", "NaN", "NaT", "<NA>", "null", "undefined"}


@pytest.fixture
def dup_home(edge_published, tmp_path, monkeypatch):  # noqa: F811
    """The edge copy with 西河村 (西河乡) renamed 东山村: two villages of one name in two townships."""
    home = tmp_path / "home"
    shutil.copytree(edge_published, home)
    with duckdb.connect(str(home / "published" / "xiangzhi.duckdb")) as con:
        con.execute("update dim_village set name = ? where village_code = '360726200001'", [VILLAGES["360726100001"]])
    monkeypatch.setenv("XIANGZHI_HOME", str(home))
    return home


def test_same_name_villages_are_told_apart(dup_home):
    name = VILLAGES["360726100001"]
    want = {f"{name}（{TOWNSHIPS['360726100']}）", f"{name}（{TOWNSHIPS['360726200']}）"}
    at = app("county")
    assert not at.exception
    assert want <= set(at.sidebar.selectbox(key="village").options)
    at.switch_page("views/rankings.py").run()
    league = at.dataframe[0].value
    assert want <= set(league["村（社区）"])
    assert league["村（社区）"].is_unique
    assert want <= set(at.selectbox(key="drill_village").options)
    at.switch_page("views/points.py").run()
    assert not at.exception
    # a township account has one 东山村 but the same label as the county gives it
    at = app("township")
    assert f"{name}（{TOWNSHIPS['360726100']}）" in at.sidebar.selectbox(key="village").options


def _cells(df: pd.DataFrame) -> list[str]:
    return [str(v) for v in df.to_numpy().ravel()]


@pytest.mark.parametrize("role", ["county", "township", "village"])
def test_no_missing_word_in_any_table(dash_home, role):  # noqa: F811
    at = app(role)
    for page in PAGES:
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception, (role, page)
        frames = list(at.dataframe)
        if page == "rankings":  # the league is a Styler: its "—" is na_rep (checked in the browser test)
            frames = frames[1:]
        for i, f in enumerate(frames):
            df = f.value
            bad = [c for c in _cells(df) if c in MISSING_TEXT]
            assert not bad and not df.isna().to_numpy().any(), (role, page, i, bad, df.head())
        seen = texts(at)
        assert not [w for w in MISSING_TEXT if f" {w} " in f" {seen} "], (role, page)


def test_bar_chart_months_in_calendar_order():
    # 调解 has April and June, 邻里 only May: plotly would draw 04, 06, 05
    df = pd.DataFrame({"period": ["2025-04", "2025-06", "2025-05"], "disputes": [3, 2, 1],
                       "dispute_type": ["调解", "调解", "邻里"]})
    fig = charts.stacked_bars(df, "period", "disputes", "dispute_type", "t", "类型")
    assert list(fig.layout.xaxis.categoryarray) == ["2025-04", "2025-05", "2025-06"]
    assert fig.layout.xaxis.categoryorder == "array"


@pytest.fixture
def partial_home(edge_published, tmp_path, monkeypatch):  # noqa: F811
    """The edge copy plus 2025-07 with a few grids reported: a partly loaded month."""
    home = tmp_path / "home"
    shutil.copytree(edge_published, home)
    with duckdb.connect(str(home / "published" / "xiangzhi.duckdb")) as con:
        con.execute("create temp table j as select * from indicator_values where period = '2025-06'")
        con.execute("update j set period = '2025-07'")
        con.execute("update j set value = 0.011 where indicator_id = 'grid_active_rate'")
        con.execute("insert into indicator_values select * from j")
        share = con.execute("select value from indicator_values where unit_code = '360726' and period = '2025-06' "
                            "and indicator_id = 'grid_active_rate'").fetchone()[0]
    monkeypatch.setenv("XIANGZHI_HOME", str(home))
    return {"home": home, "june_share": share}


def test_partly_loaded_month_is_not_the_default_and_is_flagged(partial_home):
    at = app("county")
    assert not at.exception
    box = at.sidebar.selectbox(key="period")
    assert box.value == "2025-06"  # the latest complete month, not the partly loaded July
    assert "2025-07（不完整）" in box.options
    assert "数据不完整" not in texts(at)
    box.set_value("2025-07").run()
    for page in ["overview", "trends", "rankings", "points", "quality", "map"]:
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception, page
        warn = [w.value for w in at.warning if "数据不完整" in w.value]
        assert warn and "1.1%" in warn[0], (page, [w.value for w in at.warning])
    at.sidebar.radio(key="lang").set_value("en").run()
    assert any("is incomplete" in w.value for w in at.warning)
    assert at.sidebar.selectbox(key="period").value == "2025-07"


def test_lag_is_shown_beside_the_rate_and_never_headlined(demo):  # noqa: F811
    from pipelines import warehouse as wh
    from pipelines.report.data import collect

    home, period, county = demo["home"], demo["period"], demo["units"]["county"]["code"]
    y, m = int(period[:4]), int(period[5:7])
    idx = y * 12 + m - 1 - 3
    same_point = f"{idx // 12:04d}-{idx % 12 + 1:02d}"
    with duckdb.connect(str(home / "published" / "xiangzhi.duckdb"), read_only=True) as con:
        pending, records = con.execute(
            "select count(*) filter (where review_status in ('待审核', '已公示')), count(*) from fct_points "
            "where strftime(occurred_on, '%Y-%m') = ?", [period]).fetchone()
        qtd_prev = con.execute("select value from indicator_values where unit_code = ? and period = ? "
                               "and indicator_id = 'ordinary_visit_rate_qtd'", [county, same_point]).fetchone()[0]
    assert pending / records >= wh.PENDING_MATERIAL  # the demo's June: 863 of 2,240 await review
    at = app("county")
    captions = [c.value for c in at.caption]
    assert f"待审核/公示中 {pending:,} 条（本月共 {records:,} 条），审核后本项会变化" in captions
    from dashboard.i18n import fmt_value

    assert f"上季度同期：{fmt_value(qtd_prev, '比率', 'zh')}" in captions
    # the pack headlines neither the lagging points rates nor the quarter restart
    data = collect(wh.Scope("county", county), period)
    for moved in (data.improved, data.slipped):
        assert moved is None or moved["indicator_id"] not in (
            "points_participation_rate", "points_per_household", "ordinary_visit_rate_qtd")


def test_quality_page_lists_quarantined_rows_of_the_latest_batch(demo):  # noqa: F811
    with duckdb.connect(str(demo["home"] / "published" / "xiangzhi.duckdb"), read_only=True) as con:
        want = con.execute(
            """select file_name, row_number from quarantine
               where batch_id = (select batch_id from load_batches order by started_at desc limit 1)
               order by file_name, sheet, row_number limit 2000""").fetchall()
    assert want
    at = app("county")
    at.switch_page("views/quality.py").run()
    assert not at.exception
    table = at.dataframe[-1].value
    assert list(zip(table["文件名"], table["行号"].astype(int), strict=True)) == [(f, int(r)) for f, r in want]
    assert table["原因"].map(lambda v: isinstance(v, str) and v != "—").all()
    at = app("township")
    at.switch_page("views/quality.py").run()
    assert "隔离明细（逐行）" not in texts(at)  # county accounts only
