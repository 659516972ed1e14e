"""Browser checks of what a leader reads (#14) in Debian's chromium: the language toggle keeps the
unit filter working, the map tooltip renders formatted and escaped (#19 item 7), and every page in
both languages shows no "None"/"nan". Runs against a copy of the demo home in which the village
account's grids carry a hostile name, so the escaping is tested on the real map."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

from dashboard import auth
from dashboard.i18n import TEXT
from pipelines import warehouse as wh
from tests.test_e2e_browser import CHROMIUM, SHOTS, _wait_idle, browser, dashboard_server  # noqa: F401

HOSTILE = """<img src=x onerror="document.title='XSS'">"""
# url_path → (Chinese nav label, English nav label)
PAGES = {
    "overview": ("总览", "Overview"),
    "map": ("地图", "Map"),
    "trends": ("趋势", "Trends"),
    "rankings": ("排名", "Rankings"),
    "points": ("积分", "Points"),
    "quality": ("数据质量", "Data quality"),
}
MISSING_WORDS = re.compile(r"(?<![A-Za-z])(None|nan|NaN|NaT|<NA>|undefined|null)(?![A-Za-z])")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian chromium at /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def server(demo_home, tmp_path_factory):
    home = tmp_path_factory.mktemp("glance") / "home"
    shutil.copytree(demo_home, home, ignore=shutil.ignore_patterns("*.wal"))
    db = home / "published" / "xiangzhi.duckdb"
    con = duckdb.connect(str(db))
    units = wh.first_units(con)
    period = con.execute("select max(period) from indicator_values").fetchone()[0]
    con.execute("update dim_grid set grid_name = ? where village_code = ?", [HOSTILE, units["village"]["code"]])
    con.close()
    with duckdb.connect(str(db), read_only=True) as con:
        towns = con.execute("select township_code, name from dim_township order by 1").fetchall()
    with dashboard_server(home) as url:
        yield {"url": url, "units": units, "period": period, "townships": towns}


def _sign_in(browser, server, role):  # noqa: F811
    page = browser.new_page(viewport={"width": 1440, "height": 1800}, locale="zh-CN")
    page.goto(server["url"], wait_until="domcontentloaded")
    page.get_by_label("用户名").fill(role)
    page.get_by_label("密码").fill(auth.DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    unit = server["units"][role]["name"]
    page.get_by_role("heading", name=f"{unit} · {server['period']} 总览").wait_for(timeout=30_000)
    _wait_idle(page)
    return page


def _language(page, label: str) -> None:
    page.locator('[data-testid="stSidebar"]').get_by_text(label, exact=True).click()
    _wait_idle(page)


def _pick(page, widget_label: str, option: str) -> None:
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text=widget_label)
    box.locator("input, [role=combobox]").first.click()
    page.get_by_role("option", name=option, exact=True).click()
    _wait_idle(page)


def _h1(page) -> str:
    return page.get_by_role("heading", level=1).first.inner_text()


def test_english_toggle_keeps_the_unit_filter(server, browser):  # noqa: F811
    page = _sign_in(browser, server, "county")
    forbidden_en, forbidden_zh = TEXT["forbidden"]["en"], TEXT["forbidden"]["zh"]
    _language(page, "English")
    assert _h1(page).endswith("overview")
    (_code1, name1), (_code2, name2) = server["townships"][0], server["townships"][-1]
    _pick(page, "Township", name1)
    assert _h1(page).startswith(name1), _h1(page)
    assert page.get_by_text(forbidden_en).count() == 0
    _language(page, "中文")
    _pick(page, "乡镇", name2)
    assert _h1(page).startswith(name2), _h1(page)
    assert page.get_by_text(forbidden_zh).count() == 0
    _language(page, "English")
    _pick(page, "Township", "All")
    assert _h1(page).startswith(server["units"]["county"]["name"]), _h1(page)
    assert page.get_by_text(forbidden_en).count() == 0
    page.close()


def test_map_tooltip_is_formatted_and_escaped(server, browser):  # noqa: F811
    page = _sign_in(browser, server, "village")
    title = page.title()
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="地图").click()
    page.wait_for_url("**/map", timeout=20_000)
    canvas = page.locator('[data-testid="stDeckGlJsonChart"] canvas').first
    canvas.wait_for(timeout=60_000)
    _wait_idle(page)
    page.wait_for_timeout(1500)
    box = canvas.bounding_box()
    tip = page.locator(".deck-tooltip")
    found = False
    # sweep the map until the pointer is over a grid (the village's grids fill the middle)
    for fy in (0.5, 0.4, 0.6, 0.3, 0.7):
        for fx in (0.5, 0.4, 0.6, 0.3, 0.7):
            page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
            page.wait_for_timeout(300)
            if tip.count() and tip.first.is_visible() and "网格" in tip.first.inner_text():
                found = True
                break
        if found:
            break
    assert found, "no tooltip over the village's grids"
    text = tip.first.inner_text()
    inner = tip.first.inner_html()
    page.screenshot(path=str(SHOTS / "glance_map_tooltip.png"))
    assert HOSTILE in text  # shown as the characters it is
    assert "<img" not in inner and "<b>" not in text and "<br" not in text  # markup rendered, data escaped
    assert re.search(r"：\s*(\d[\d.,]*%?|—)", text)  # the coloured indicator's value is shown
    assert page.title() == title != "XSS"
    page.close()


@pytest.mark.parametrize("role", ["county", "township", "village"])
def test_every_page_in_both_languages_has_no_missing_word(server, browser, role):  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = _sign_in(browser, server, role)
    unit = server["units"][role]["name"]
    for lang, pick in (("zh", "中文"), ("en", "English")):
        _language(page, pick)
        for url_path, labels in PAGES.items():
            label = labels[0] if lang == "zh" else labels[1]
            page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=label).click()
            if url_path != "overview":
                page.wait_for_url(f"**/{url_path}", timeout=20_000)
            page.get_by_role("heading", level=1).first.wait_for(timeout=90_000)
            _wait_idle(page)
            if url_path == "map":
                page.wait_for_timeout(1500)
            assert page.locator('[data-testid="stException"]').count() == 0, (role, lang, url_path)
            assert _h1(page).startswith(unit), (role, lang, url_path, _h1(page))
            assert page.get_by_text(TEXT["forbidden"][lang]).count() == 0, (role, lang, url_path)
            shown = page.locator('[data-testid="stMain"]').inner_text()
            bad = MISSING_WORDS.findall(shown)
            assert not bad, (role, lang, url_path, bad)
            page.screenshot(path=str(SHOTS / f"glance_{role}_{lang}_{url_path}.png"), full_page=True)
    page.close()
