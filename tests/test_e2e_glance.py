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
        yield {"url": url, "units": units, "period": period, "townships": towns, "home": home}


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
    page.wait_for_url("**/map*", timeout=20_000)
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
                page.wait_for_url(f"**/{url_path}*", timeout=20_000)
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


# --- at a glance (#14): print to A4, the URL keeps the choices, page timings ------------------------------


def _pdf_text(pdf: Path) -> tuple[int, str]:
    import subprocess

    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                                                            check=True).stdout).group(1))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return pages, text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_printing_a_page_gives_a_clean_a4(server, browser, lang, tmp_path):  # noqa: F811
    import subprocess

    SHOTS.mkdir(parents=True, exist_ok=True)
    page = _sign_in(browser, server, "county")
    if lang == "en":
        _language(page, "English")
    for url_path, labels in (("overview", PAGES["overview"]), ("rankings", PAGES["rankings"])):
        label = labels[0] if lang == "zh" else labels[1]
        page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=label).click()
        page.get_by_role("heading", level=1).first.wait_for(timeout=90_000)
        _wait_idle(page)
        page.wait_for_timeout(1500)  # the drill-down's scorecard and chart draw after the league
        page.screenshot(path=str(SHOTS / f"glance_print_{url_path}_{lang}_screen.png"), full_page=True)
        pdf = SHOTS / f"glance_print_{url_path}_{lang}.pdf"
        page.pdf(path=str(pdf), format="A4", print_background=True)
        size = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
        assert re.search(r"Page size:\s+595(\.\d+)? x 842(\.\d+)? pts \(A4\)", size), size  # A4 portrait
        pages, text = _pdf_text(pdf)
        title = _h1(page)
        flat = " ".join(text.split())
        assert " ".join(title.split()) in flat, (url_path, lang)
        # the sidebar and the toolbars are not printed
        for word in (TEXT["sign_out"][lang], "Deploy", TEXT["language"][lang]):
            assert word not in flat, (url_path, lang, word)
        assert 1 <= pages <= 6, (url_path, lang, pages)
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf),
                        str(SHOTS / f"glance_print_{url_path}_{lang}")], check=True)
    page.close()


def test_a_shared_url_opens_on_its_month_and_township(server, browser):  # noqa: F811
    (code, name) = server["townships"][-1]
    with duckdb.connect(str(Path(server["home"]) / "published" / "xiangzhi.duckdb"), read_only=True) as con:
        months = [p for (p,) in con.execute("select distinct period from indicator_values order by 1").fetchall()]
    month = months[-2]
    page = browser.new_page(viewport={"width": 1440, "height": 1800}, locale="zh-CN")
    # the root page: before sign-in only the sign-in page exists (a deep /rankings link gets "page not found")
    page.goto(f"{server['url']}/?period={month}&township={code}", wait_until="domcontentloaded")
    page.get_by_label("用户名").fill("county")
    page.get_by_label("密码").fill(auth.DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("heading", name=f"{name} · {month}", exact=False).first.wait_for(timeout=60_000)
    _wait_idle(page)
    assert f"period={month}" in page.url and f"township={code}" in page.url
    _language(page, "English")
    assert _h1(page).startswith(name) and month in _h1(page)
    assert f"period={month}" in page.url and f"township={code}" in page.url  # the same URL in English
    # another township's account given the county's township in the URL: its own default, no error
    other = browser.new_page(viewport={"width": 1440, "height": 1800}, locale="zh-CN")
    other.goto(f"{server['url']}/?period=1999-01&township={server['townships'][-1][0]}", wait_until="domcontentloaded")
    other.get_by_label("用户名").fill("township")
    other.get_by_label("密码").fill(auth.DEMO_PASSWORD)
    other.get_by_role("button", name="登录").click()
    other.get_by_role("heading", name=f"{server['units']['township']['name']} · {server['period']} 总览").wait_for(
        timeout=60_000)
    assert other.get_by_text(TEXT["forbidden"]["zh"]).count() == 0
    page.close()
    other.close()


def test_page_draw_times_warm_and_cold(server, browser):  # noqa: F811
    """Report, not assert (timings on a shared machine are noisy): seconds from the click to the page
    drawn (no skeleton, no stale element), the first visit (cold: queries not cached) and a repeat."""
    import time

    page = _sign_in(browser, server, "county")
    rows = []
    for visit in ("cold", "warm"):
        for url_path, labels in PAGES.items():
            t0 = time.perf_counter()
            page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=labels[0]).click()
            if url_path != "overview":
                page.wait_for_url(f"**/{url_path}*", timeout=30_000)
            page.get_by_role("heading", level=1).first.wait_for(timeout=90_000)
            page.wait_for_function(
                """() => !document.querySelector('[data-testid="stSkeleton"]')
                         && !document.querySelector('[data-stale="true"]')
                         && !document.querySelector('[data-testid="stStatusWidget"] button')""", timeout=90_000)
            rows.append((visit, url_path, time.perf_counter() - t0))
            page.wait_for_timeout(300)
    print("\npage draw times (county account, demo warehouse), seconds:")
    for visit, url_path, s in rows:
        print(f"  {visit:<5} {url_path:<10} {s:5.2f}")
    assert len(rows) == 2 * len(PAGES)
    page.close()
