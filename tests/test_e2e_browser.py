"""Real-browser end-to-end test: `xiangzhi dashboard` on 127.0.0.1, driven by Debian's chromium
through Playwright (never a downloaded browser). Signs in as each role, visits every page, asserts on
visible Chinese text, saves a screenshot of each page to tests/artifacts/screenshots/ (git-ignored),
and on the map page checks the deck.gl canvas and that no request left 127.0.0.1 or failed."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

from dashboard import auth
from pipelines import warehouse as wh

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "tests" / "artifacts" / "screenshots"
# page url_path → (nav label, text that must be visible once the page has drawn)
# (the text is the page's last element, so the page has finished drawing when it shows)
PAGES = {
    "overview": ("总览", "预警"),
    "map": ("地图", "示意图"),
    "trends": ("趋势", "纠纷类型（按月）"),
    "rankings": ("排名", "村（社区）评分明细"),
    "points": ("积分", "积分兑换（按月）"),
    "quality": ("数据质量", "各网格上报完整性与及时性"),
    "monthly_pack": ("月度考评", "下载 PDF"),  # the pack page (another module) offers the downloads
    "workers": ("网格员考评", "下载公示表 XLSX"),  # grid workers (page 8): the sheet downloads come last
}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian chromium at /usr/bin/chromium"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def dashboard_server(home: Path, **env_extra: str):
    """`xiangzhi dashboard` on a free port against `home`, started as a user would and stopped with
    its whole process group (no server left behind); yields its URL."""
    port = _free_port()
    env = dict(os.environ, XIANGZHI_HOME=str(home), **env_extra)
    xiangzhi = Path(sys.executable).with_name("xiangzhi")
    cmd = [str(xiangzhi)] if xiangzhi.exists() else [sys.executable, "-m", "pipelines.cli"]
    proc = subprocess.Popen([*cmd, "dashboard", "--port", str(port)], env=env, cwd=str(ROOT),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(url + "/_stcore/health", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.3)
        else:
            raise AssertionError("dashboard did not start: " + proc.stdout.read().decode(errors="replace")[-2000:])
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def server(demo_home):
    """`xiangzhi dashboard` on a free port against the session's demo home."""
    con = wh.connect(demo_home / "published" / "xiangzhi.duckdb")
    units = wh.first_units(con)
    period = con.execute("select max(period) from indicator_values").fetchone()[0]
    con.close()
    with dashboard_server(demo_home) as url:
        yield {"url": url, "units": units, "period": period}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield b
        b.close()


@pytest.mark.parametrize("role", ["county", "township", "village"])
def test_sign_in_and_visit_every_page(server, browser, role):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1440, "height": 1800}, locale="zh-CN")
    requests: list[str] = []
    failed: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("requestfailed", lambda r: failed.append(f"{r.url} {r.failure}"))
    page.goto(server["url"], wait_until="domcontentloaded")

    page.get_by_label("用户名").fill(role)
    page.get_by_label("密码").fill(auth.DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    unit = server["units"][role]["name"]
    page.get_by_role("heading", name=f"{unit} · {server['period']} 总览").wait_for(timeout=30_000)

    for url_path, (label, marker) in PAGES.items():
        nav = page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=label)
        nav.click()
        page.wait_for_url(f"**/{url_path}", timeout=20_000) if url_path != "overview" else None
        page.get_by_text(marker, exact=False).first.wait_for(timeout=90_000)
        _wait_idle(page)
        if url_path == "map":
            canvas = page.locator('[data-testid="stDeckGlJsonChart"] canvas')
            canvas.first.wait_for(timeout=30_000)
            assert canvas.count() >= 1
            page.wait_for_timeout(1500)  # let deck.gl draw its layers before the screenshot
        assert page.locator('[data-testid="stException"]').count() == 0, (role, url_path)
        if url_path != "monthly_pack":  # page 7's layout belongs to the pack module
            assert page.get_by_role("heading", level=1).first.inner_text().startswith(unit), (role, url_path)
        page.screenshot(path=str(SHOTS / f"{role}_{url_path}.png"), full_page=True)

    outside = [u for u in requests if urlparse(u).scheme in ("http", "https", "ws", "wss")
               and urlparse(u).hostname not in ("127.0.0.1", "localhost")]
    assert not outside, sorted(set(outside))
    # Streamlit drops and reopens its own websocket on page switches; anything else failing is a fault.
    assert not [f for f in failed if "/_stcore/stream" not in f], failed
    page.close()


def _wait_idle(page) -> None:
    """Wait until Streamlit has finished the run: no skeletons, no stale elements, no running widget."""
    page.wait_for_function(
        """() => !document.querySelector('[data-testid="stSkeleton"]')
                 && !document.querySelector('[data-stale="true"]')
                 && !document.querySelector('[data-testid="stStatusWidget"] button')""",
        timeout=30_000,
    )
    page.wait_for_timeout(800)  # plotly and the data grid draw after the elements arrive


def test_workers_page_posting_sheet_downloads(server, browser):
    """Page 8 as a village account: the league shows, and the 张榜公示 PDF downloads with its village."""
    page = browser.new_page(viewport={"width": 1440, "height": 1800}, locale="zh-CN")
    page.goto(server["url"], wait_until="domcontentloaded")
    page.get_by_label("用户名").fill("village")
    page.get_by_label("密码").fill(auth.DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    unit = server["units"]["village"]["name"]
    page.get_by_role("heading", name=f"{unit} · {server['period']} 总览").wait_for(timeout=30_000)
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="网格员考评").click()
    page.get_by_text("下载公示表 PDF").first.wait_for(timeout=90_000)
    _wait_idle(page)
    assert page.get_by_text("网格员月度排名").count() >= 1
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="下载公示表 PDF").click()
    path = info.value.path()
    data = Path(path).read_bytes()
    assert data.startswith(b"%PDF") and info.value.suggested_filename.endswith(".pdf")
    assert unit in info.value.suggested_filename
    page.screenshot(path=str(SHOTS / "village_workers_download.png"), full_page=True)
    page.close()


# --- cases, drill-through, what-if (pages 9, 10; issue #15) ---


def _sign_in(page, server, role: str) -> None:
    page.goto(server["url"], wait_until="domcontentloaded")
    page.get_by_label("用户名").fill(role)
    page.get_by_label("密码").fill(auth.DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    unit = server["units"][role]["name"]
    page.get_by_role("heading", name=f"{unit} · {server['period']} 总览").wait_for(timeout=30_000)


def test_cases_drill_and_whatif_pages(server, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1440, "height": 1800}, locale="zh-CN")
    _sign_in(page, server, "county")
    unit = server["units"]["county"]["name"]
    nav = page.locator('[data-testid="stSidebarNav"]')

    # a KPI card's link lists the records behind it (drill-through, with the shown count)
    page.get_by_role("link", name="查看记录").first.click()
    page.wait_for_url("**/cases?*", timeout=20_000)
    page.get_by_text("的记录", exact=False).first.wait_for(timeout=60_000)
    page.get_by_text("计入分子", exact=False).first.wait_for(timeout=30_000)
    _wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.get_by_role("button", name="下载 XLSX").count() >= 1
    page.screenshot(path=str(SHOTS / "county_cases_drill.png"), full_page=True)

    nav.get_by_role("link", name="事件与案件").click()
    page.get_by_role("heading", name=f"{unit} · 事件与案件").wait_for(timeout=30_000)
    page.get_by_text("已办结", exact=False).first.wait_for(timeout=60_000)
    _wait_idle(page)
    page.screenshot(path=str(SHOTS / "county_cases.png"), full_page=True)
    page.get_by_role("tab", name="超期未办结").click()
    page.get_by_text("按超期天数", exact=False).first.wait_for(timeout=30_000)
    _wait_idle(page)
    page.screenshot(path=str(SHOTS / "county_cases_overdue.png"), full_page=True)
    page.get_by_role("tab", name="矛盾纠纷案件").click()
    page.get_by_text("案件", exact=False).first.wait_for(timeout=30_000)
    _wait_idle(page)
    page.screenshot(path=str(SHOTS / "county_cases_disputes.png"), full_page=True)

    nav.get_by_role("link", name="权重推演").click()
    page.get_by_text("名次变化 0 个村，红黑榜变化 0 个村").wait_for(timeout=60_000)
    _wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(SHOTS / "county_whatif.png"), full_page=True)
    # move the board share slider to its maximum with the keyboard: boards change
    share = page.get_by_role("slider").last
    share.focus()
    share.press("End")
    page.get_by_text("红黑榜变化 0 个村").wait_for(state="detached", timeout=60_000)
    _wait_idle(page)
    page.screenshot(path=str(SHOTS / "county_whatif_moved.png"), full_page=True)

    nav.get_by_role("link", name="村庄对比").click()
    page.get_by_text("村庄对比", exact=False).first.wait_for(timeout=30_000)
    page.get_by_text("得分与排名走势", exact=False).first.wait_for(timeout=60_000)
    _wait_idle(page)
    page.screenshot(path=str(SHOTS / "county_compare.png"), full_page=True)
    page.close()


def test_township_has_cases_but_no_whatif(server, browser):
    page = browser.new_page(viewport={"width": 1440, "height": 1400}, locale="zh-CN")
    _sign_in(page, server, "township")
    nav = page.locator('[data-testid="stSidebarNav"]')
    assert nav.get_by_role("link", name="权重推演").count() == 0
    nav.get_by_role("link", name="事件与案件").click()
    unit = server["units"]["township"]["name"]
    page.get_by_role("heading", name=f"{unit} · 事件与案件").wait_for(timeout=30_000)
    page.get_by_text("已办结", exact=False).first.wait_for(timeout=60_000)
    _wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(SHOTS / "township_cases.png"), full_page=True)
    page.close()
