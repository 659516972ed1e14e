"""What a leader reads at a glance (#14), through Streamlit's AppTest on real published copies: same-name
villages told apart, no "None"/"nan" in any table, months in calendar order, the default month and
the incomplete-month warning."""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest

from dashboard import charts
from pipelines.models.runner import run_models
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
        run_models(con, "marts", ["village_labels"])  # the labels' read model, as an ingest rebuilds it
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


# --- at a glance (#14): standing, boards by name, top/bottom, movers without lag, why low --------------


def _md(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_overview_glance_names_boards_top_bottom_and_movers_without_lag(dash_home):  # noqa: F811
    from pipelines import warehouse as wh

    with duckdb.connect(str(dash_home / "published" / "xiangzhi.duckdb"), read_only=True) as con:
        movers = wh.village_movers(wh.Scope("county", "360726"), "2025-06", con=con).set_index("name")
    # the edge copy: 桃源村's published score fell most, but without the pending-points part it rose
    assert movers["score_change"].idxmin() == "桃源村" and movers.loc["桃源村", "steady_change"] > 0
    assert movers.loc["桃源村", "lag_pending"]
    at = app("county")
    assert not at.exception
    md = _md(at)
    assert "**红榜（0 个）**：无" in md
    assert "**黑榜（2 个）**：西河村（一票否决）、东山村" in md
    assert "**得分最高**：西河村 94.0、桃源村 88.6" in md and "**得分最低**：东山村 63.0、柳湾社区 84.8" in md
    assert "**进步最大**：西河村（第 3 → 1 名，+22.1 分）" in md
    fallers = next(line for line in md.splitlines() if line.startswith("**退步最大**"))
    assert fallers == "**退步最大**：柳湾社区（第 2 → 3 名，-2.6 分）"  # not 桃源村: its fall is lag
    assert any("未列入升降的村：桃源村" in c.value for c in at.caption)
    towns = at.dataframe[0].value  # the first table on the page
    assert list(towns["乡镇"]) == ["西河乡", "东山镇"] and list(towns["名次"]) == [1, 2]
    assert list(towns["黑榜村数"]) == [1, 1]
    at.sidebar.radio(key="lang").set_value("en").run()
    md = _md(at)
    assert "**Black board (2)**: 西河村 (veto), 东山村" in md
    assert "**Highest scores**: 西河村 94.0, 桃源村 88.6" in md
    assert "**Biggest fallers**: 柳湾社区 (rank 2 → 3, -2.6 points)" in md
    assert "：" not in md.split("Townships compared")[0] and "、" not in md.split("Townships compared")[0]
    assert "Townships compared" in md
    # a township sees its own villages only, no townships table
    at = app("township")
    md = _md(at)
    assert "西河村" not in md and "**得分最高**：桃源村 88.6" in md and "**得分最低**：东山村 63.0" in md
    assert "乡镇对比" not in md


def test_village_account_sees_its_rank_of_the_county(demo):  # noqa: F811
    with duckdb.connect(str(demo["home"] / "published" / "xiangzhi.duckdb"), read_only=True) as con:
        code = demo["units"]["village"]["code"]
        periods = [p for (p,) in con.execute("select distinct period from village_scores order by 1").fetchall()]
        at = app("village")
        period = at.sidebar.selectbox(key="period").value
        rank, n = con.execute("select rank, (select count(rank) from village_scores where period = $p) "
                              "from village_scores where village_code = $v and period = $p",
                              {"v": code, "p": period}).fetchone()
        prev = con.execute("select rank from village_scores where village_code = ? and period = ?",
                           [code, periods[periods.index(period) - 1]]).fetchone()[0]
    assert n == 18 and rank
    md = _md(at)
    assert f"**第 {rank} 名 / 共 {n} 个村**" in md and f"上月第 {prev} 名" in md
    assert "红榜（" not in md  # a village account is not shown the other villages' boards
    at.sidebar.radio(key="lang").set_value("en").run()
    assert f"**rank {rank} of {n} villages**" in _md(at)


def test_village_movers_lag_part_matches_the_scorecards(demo):  # noqa: F811
    """The lag part of each village's score change, recomputed from the scorecard of both months
    (explain.py) and the review status of its points records."""
    from pipelines import warehouse as wh

    county, period = demo["units"]["county"]["code"], demo["period"]
    scope = wh.Scope("county", county)
    qtd = {i.id for i in wh.indicators() if i.target_at == "quarter_end"}
    with duckdb.connect(str(demo["home"] / "published" / "xiangzhi.duckdb"), read_only=True) as con:
        movers = wh.village_movers(scope, period, con=con)
        pending = dict(con.execute(
            "select village_code, avg((review_status in ('待审核', '已公示'))::int) from fct_points "
            "where strftime(occurred_on, '%Y-%m') = ? group by 1", [period]).fetchall())
        for r in movers.itertuples(index=False):
            now = wh.scorecard(scope, r.village_code, period, con=con).set_index("indicator_id")["contribution"]
            before = wh.scorecard(scope, r.village_code, wh._prev_period(period), con=con).set_index(
                "indicator_id")["contribution"]
            lagging = set(qtd) | (wh.CONFIRMED_ONLY if pending.get(r.village_code, 0) >= wh.PENDING_MATERIAL else set())
            want = sum(now.fillna(0).get(i, 0) - before.fillna(0).get(i, 0) for i in lagging)
            assert r.lag_change == pytest.approx(want, abs=1e-6), r.name
            assert r.score_change == pytest.approx(now.sum() - before.sum(), abs=1e-6)
    # the demo's June: 863 of 2,240 points records await review, and a fall made by them alone is not headlined
    assert movers["lag_pending"].sum() >= len(movers) // 2
    whole_lag = movers[(movers["score_change"] < -1) & (movers["steady_change"].abs() < 0.05)]
    at = app("county")
    md = _md(at)
    fallers = next(line for line in md.splitlines() if line.startswith("**退步最大**"))
    for name in whole_lag["name"]:
        assert name not in fallers
        assert any(name in c.value and "未列入升降" in c.value for c in at.caption)


def test_rankings_say_why_a_village_is_low(demo):  # noqa: F811
    from pipelines import warehouse as wh

    county, period = demo["units"]["county"]["code"], demo["period"]
    with duckdb.connect(str(demo["home"] / "published" / "xiangzhi.duckdb"), read_only=True) as con:
        last = con.execute("select village_code, score from village_scores where period = ? "
                           "order by score asc, village_code limit 1", [period]).fetchone()
        card = wh.scorecard(wh.Scope("county", county), last[0], period, con=con)
    counted = card[card["counted"].astype(bool)]
    lost = 100 * counted["weight"] / counted["weight"].sum() - counted["contribution"]
    worst = counted.assign(lost=lost).sort_values("lost", ascending=False).head(3)
    at = app("county")
    at.switch_page("views/rankings.py").run()
    at.selectbox(key="drill_village").set_value(last[0]).run()
    assert not at.exception
    why = next(m.value for m in at.markdown if "主要失分在" in m.value)
    assert f"得分 {last[1]:.1f}，比满分少 {100 - last[1]:.1f} 分" in why
    lines = why.splitlines()[1:]
    assert [ln.split("：")[0].lstrip("- ") for ln in lines] == list(worst["name_zh"])
    assert lines[0].endswith(f"失 {worst['lost'].iloc[0]:.1f} 分")
    assert lost.sum() == pytest.approx(100 - last[1], abs=1e-6)  # the losses are the whole gap to 100
    at.sidebar.radio(key="lang").set_value("en").run()
    why = next(m.value for m in at.markdown if "short of full marks" in m.value)
    assert why.splitlines()[1].startswith(f"- {worst['name_en'].iloc[0]}:")


# --- the URL keeps the month, township and village (#14 "At a glance") ----------------------------------


def _with_url(username: str, **params):
    return app(username, query=params)


def test_url_month_township_village_open_the_page_on_them(dash_home):  # noqa: F811
    at = _with_url("county", period="2025-05", township="360726200", village="360726200002")
    assert not at.exception
    assert at.title[0].value == f"{VILLAGES['360726200002']} · 2025-05 总览"
    assert (at.sidebar.selectbox(key="period").value, at.sidebar.selectbox(key="township").value,
            at.sidebar.selectbox(key="village").value) == ("2025-05", "360726200", "360726200002")
    # a widget change is written back: codes, the same in either language
    at.sidebar.selectbox(key="period").set_value("2025-06").run()
    assert dict(at.query_params) == {"period": "2025-06", "township": "360726200", "village": "360726200002"}
    assert at.title[0].value.endswith("2025-06 总览")
    at.sidebar.radio(key="lang").set_value("en").run()
    assert dict(at.query_params) == {"period": "2025-06", "township": "360726200", "village": "360726200002"}
    assert at.title[0].value.startswith(VILLAGES["360726200002"])
    at.sidebar.selectbox(key="village").set_value("").run()
    assert dict(at.query_params) == {"period": "2025-06", "township": "360726200"}
    at.sidebar.selectbox(key="township").set_value("").run()
    assert dict(at.query_params) == {"period": "2025-06"}


@pytest.mark.parametrize("params", [
    {"period": "1999-01", "township": "360726200", "village": "360726200002"},  # another township's
    {"period": "2025-13", "village": "36072610000X"},  # junk
    {"township": "360726100", "village": "360726200001"},  # a village not in that township
])
def test_url_values_outside_scope_are_ignored_without_an_error(dash_home, params):  # noqa: F811
    from dashboard.i18n import TEXT

    at = _with_url("township", **params)
    assert not at.exception
    assert not [e.value for e in at.error if TEXT["forbidden"]["zh"] in e.value or "Error" in e.value]
    assert at.title[0].value == f"{TOWNSHIPS['360726100']} · 2025-06 总览"  # the user's default
    assert at.sidebar.selectbox(key="village").value == ""
    assert dict(at.query_params) == {"period": "2025-06"}  # the URL now says what is shown
