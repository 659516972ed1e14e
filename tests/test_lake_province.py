"""The province view (SPEC §4.1, issue #17 item 4): the dashboard opened on a lake of two generated
counties (the lake fixture of tests/test_lake.py) shows the county league and the indicators across
counties, equal to the lake's marts, in both languages, scoped: a county account sees its county."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from dashboard import auth
from dashboard.i18n import fmt_value
from pipelines import warehouse as wh
from tests.apptest import app, texts
from tests.test_lake import COUNTIES, lake  # noqa: F401  (the module-scoped two-county lake fixture)

OTHER = {"360739": "360781", "360781": "360739"}


def _lake_sql(lake_dir: Path, sql: str) -> list[tuple]:
    """The lake's own Parquet, read directly (not through the gateway): what the page must show."""
    con = duckdb.connect()
    for table in ("village_scores", "indicator_values", "dim_county", "dim_township"):
        con.execute(f"create view {table} as select * from read_parquet('{lake_dir}/{table}/**/*.parquet', "
                    "hive_partitioning = true, hive_types_autocast = false)")
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def province(lake):  # noqa: F811
    """A data home for the province office: accounts only (its data is the lake)."""
    home = lake["base"] / "province-home"
    home.mkdir(exist_ok=True)
    town = _lake_sql(lake["dir"], "select min(township_code) from dim_township where county_code = '360739'")[0][0]
    h = auth.hash_password(auth.DEMO_PASSWORD, rounds=4)
    auth.write_users(home / "users.yaml", [
        auth.User("prov", "江西省 省级账号", "province", "36", h),
        auth.User("c739", "360739 县级账号", "county", "360739", h),
        auth.User("c781", "360781 县级账号", "county", "360781", h),
        auth.User("town", "乡镇账号", "township", town, h),
    ])
    period = _lake_sql(lake["dir"], "select max(period) from village_scores")[0][0]
    return {"home": home, "lake": lake["dir"], "period": period}


@pytest.fixture
def env(province, monkeypatch):
    monkeypatch.setenv("XIANGZHI_HOME", str(province["home"]))
    monkeypatch.setenv("XIANGZHI_LAKE", str(province["lake"]))
    return province


def test_province_sees_the_league_of_its_counties_equal_to_the_lake(env):
    at = app("prov")
    assert not at.exception, at.exception
    period = env["period"]
    assert at.title[0].value == f"省（区划代码 36） · {period} 省级总览"
    league, wide, villages = (d.value for d in at.dataframe)
    assert sorted(league["县代码"]) == sorted(COUNTIES)
    lake_rows = _lake_sql(env["lake"], f"""
        select substr(village_code, 1, 6), avg(score), count(score),
               rank() over (order by avg(score) desc nulls last)
        from village_scores where period = '{period}' group by 1""")
    assert len(lake_rows) == len(COUNTIES)
    for code, mean, scored, rank in lake_rows:
        row = league[league["县代码"] == code].iloc[0]
        assert math.isclose(row["平均得分"], round(mean, 2), abs_tol=1e-9), (code, row["平均得分"], mean)
        assert row["参评村（社区）"] == scored and row["排名"] == rank
    assert [m.value for m in at.metric][:2] == [str(len(COUNTIES)), f"{sum(r[2] for r in lake_rows):,}"]
    # indicators across counties: the lake's county-level indicator_values, formatted as elsewhere
    ind = wh.indicators()
    rate = next(i for i in ind if i.id == "key_visit_rate")
    for code in COUNTIES:
        (value,), = _lake_sql(env["lake"], f"""select value from indicator_values where period = '{period}'
            and unit_level = 'county' and unit_code = '{code}' and indicator_id = 'key_visit_rate'""")
        cell = wide.loc[wide["县代码"] == code, rate.name_zh].iloc[0]
        assert cell.startswith("● " + fmt_value(value, rate.unit)), (code, cell, value)
    # the drill-down lists the first county's villages as its own mart ranks them
    first = at.selectbox(key="drill_county").value
    n_villages, = _lake_sql(env["lake"], f"select count(*) from village_scores where period = '{period}' "
                                         f"and starts_with(village_code, '{first}')")[0]
    assert len(villages) == n_villages > 0
    assert [b.label for b in at.get("download_button")][:2] == ["下载 XLSX", "下载 CSV"]


def test_english_toggle(env):
    at = app("prov", lang="en")
    assert not at.exception, at.exception
    assert at.title[0].value == f"Province (division code 36) · {env['period']} province overview"
    assert {"County", "County code", "Mean score", "Villages scored"} <= set(at.dataframe[0].value.columns)
    assert "Indicators across counties" in texts(at)
    assert "省级总览" not in texts(at)


@pytest.mark.parametrize("code", sorted(COUNTIES))
def test_county_account_sees_only_its_county(env, code):
    province_rank = {r[0]: r[1] for r in app("prov").dataframe[0].value[["县代码", "排名"]].itertuples(index=False)}
    at = app(f"c{code[-3:]}")
    assert not at.exception, at.exception
    league, wide, villages = (d.value for d in at.dataframe)
    assert league["县代码"].tolist() == [code]
    assert league["排名"].tolist() == [province_rank[code]]  # its province-wide rank
    assert wide["县代码"].tolist() == [code]
    assert at.selectbox(key="drill_county").options == [f"{league['县（市、区）'].iloc[0]}（{code}）"]
    assert set(v[:6] for v in wh.county_villages(wh.Scope("county", code), env["period"],
                                                 con=wh.lake_connection(env["lake"]))["village_code"]) == {code}
    # a session edited to the other county's drill-down falls back to its own
    at = app(f"c{code[-3:]}", drill_county=OTHER[code])
    assert at.selectbox(key="drill_county").value == code
    assert OTHER[code] not in str(at.dataframe[2].value.to_dict())
    # and the gateway itself refuses the other county's villages
    with pytest.raises(wh.ScopeError):
        wh.county_villages(wh.Scope("county", code), env["period"], OTHER[code], con=wh.lake_connection(env["lake"]))


def test_other_roles_and_missing_lake_have_clear_messages(env, monkeypatch, tmp_path):
    at = app("town")
    assert not at.exception and "数据湖看板只对省级和县级账号开放" in texts(at)
    assert not at.dataframe
    monkeypatch.setenv("XIANGZHI_LAKE", str(tmp_path / "nowhere"))
    at = app("prov")
    assert not at.exception and "找不到数据湖" in texts(at) and not at.dataframe
    monkeypatch.delenv("XIANGZHI_LAKE")  # a province account on a county's published copy
    at = app("prov")
    assert not at.exception and "省级账号只能查看数据湖" in texts(at) and not at.dataframe


def test_dashboard_lake_flag_checks_the_folder(tmp_path):
    env = {**os.environ, "XIANGZHI_HOME": str(tmp_path / "home")}
    r = subprocess.run([sys.executable, "-m", "pipelines.cli", "dashboard", "--lake", str(tmp_path / "none"),
                        "--port", "1"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 2 and "不是乡治数据湖" in r.stderr and "not a xiangzhi lake" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.browser
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian chromium at /usr/bin/chromium")
def test_province_view_in_a_browser_both_languages(province):
    """`xiangzhi dashboard` on the lake, Debian chromium: sign in as the province, the league shows
    both counties; switch to English; screenshots of both."""
    from playwright.sync_api import sync_playwright

    from tests.test_e2e_browser import CHROMIUM, SHOTS, _wait_idle, dashboard_server

    SHOTS.mkdir(parents=True, exist_ok=True)
    names = dict(_lake_sql(province["lake"], "select county_code, name from dim_county"))
    with dashboard_server(province["home"], XIANGZHI_LAKE=str(province["lake"])) as url, sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
        page = b.new_page(viewport={"width": 1440, "height": 1400}, locale="zh-CN")
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_label("用户名").fill("prov")
        page.get_by_label("密码").fill(auth.DEMO_PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.get_by_role("heading", name=f"省（区划代码 36） · {province['period']} 省级总览").wait_for(timeout=60_000)
        page.get_by_text("县内村（社区）排名").wait_for(timeout=60_000)
        _wait_idle(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        grid = page.locator('[data-testid="stDataFrame"]').first
        for code in COUNTIES:  # the league grid (its cells are mirrored in an accessible table)
            assert grid.get_by_text(code).count() == 1, code
            assert grid.get_by_text(names[code]).count() == 1, names[code]
        # the one page of the lake view: no page menu, no county-copy page reachable
        assert page.locator('[data-testid="stSidebarNav"]').count() == 0
        page.screenshot(path=str(SHOTS / "province_overview_zh.png"), full_page=True)

        page.locator('[data-testid="stSidebar"]').get_by_text("English").click()
        page.get_by_role("heading", name=f"Province (division code 36) · {province['period']} province overview"
                         ).wait_for(timeout=60_000)
        page.get_by_text("Villages of a county").wait_for(timeout=60_000)
        _wait_idle(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.get_by_text("County league (mean village score)").count() == 1
        assert grid.get_by_text("Mean score").count() == 1 and grid.get_by_text("平均得分").count() == 0
        page.screenshot(path=str(SHOTS / "province_overview_en.png"), full_page=True)
        b.close()
