"""Browser end-to-end test of page 11 数据导入 in Debian's chromium: a county clerk signs in, uploads
the month the warehouse does not have yet (the demo county's 2025-06), waits for the per-file summary,
downloads the quarantine XLSX and checks its rows against the published quarantine table. Screenshots
go to tests/artifacts/screenshots/ (git-ignored)."""

from __future__ import annotations

import os
import shutil

import duckdb
import openpyxl
import pytest

from pipelines import uploads, users
from tests.test_e2e_browser import CHROMIUM, SHOTS, _wait_idle, dashboard_server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian chromium at /usr/bin/chromium"),
]
PW = "clerk-e2e-password"


@pytest.fixture
def clerk_server(upload_base, tmp_path, monkeypatch):
    home = tmp_path / "home"
    shutil.copytree(upload_base["home"], home)
    monkeypatch.setenv("XIANGZHI_HOME", str(home))
    users.write_users(home / "users.yaml", [
        users.User("clerk", "青岚县信息员", "clerk", upload_base["county"], users.hash_password(PW, 4))])
    with dashboard_server(home, XIANGZHI_SECRET="test-secret-key") as url:
        yield {"url": url, "home": home, **{k: upload_base[k] for k in ("june", "county")}}


def test_clerk_uploads_next_month_and_downloads_quarantine(clerk_server, tmp_path):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    june = sorted(clerk_server["june"].iterdir())
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
        page = b.new_page(viewport={"width": 1440, "height": 1400}, locale="zh-CN", accept_downloads=True)
        page.goto(clerk_server["url"], wait_until="domcontentloaded")
        page.get_by_label("用户名").fill("clerk")
        page.get_by_label("密码").fill(PW)
        page.get_by_role("button", name="登录").click()
        page.get_by_role("heading", name="青岚县 · 数据导入").wait_for(timeout=60_000)
        nav = page.locator('[data-testid="stSidebarNav"]')
        assert sorted(nav.get_by_role("link").all_inner_texts()) == sorted(["数据导入", "数据质量"])
        page.get_by_text("每个文件不超过 200 MB").wait_for()

        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files([str(f) for f in june])
        start = page.get_by_role("button", name="开始导入")
        page.wait_for_function(  # enabled once the files have reached the server (a rerun)
            """() => [...document.querySelectorAll('button')].some(
                       b => b.innerText.includes('开始导入') && !b.disabled)""", timeout=60_000)
        page.screenshot(path=str(SHOTS / "clerk_upload_chosen.png"), full_page=True)
        start.click()
        page.get_by_text("正在导入").first.wait_for(timeout=60_000)  # the progress bar by phase
        page.screenshot(path=str(SHOTS / "clerk_upload_progress.png"), full_page=True)

        page.get_by_role("heading", name="各文件结果").wait_for(timeout=600_000)
        _wait_idle(page)
        page.screenshot(path=str(SHOTS / "clerk_upload_done.png"), full_page=True)
        assert page.locator('[data-testid="stException"]').count() == 0
        body = page.inner_text("body")
        for f in june:  # one line per file, in Chinese
            assert f"【已载入】{f.name}（" in body, f.name
        assert "导入完成（批次 " in body

        [meta] = uploads.recent(clerk_server["county"], limit=1)
        s = uploads.status(meta["upload_id"])
        button = page.get_by_role("button", name=f"下载本次隔离行（XLSX，{s['quarantine_rows']} 行")
        with page.expect_download() as dl:
            button.click()
        saved = tmp_path / "quarantine.xlsx"
        dl.value.save_as(saved)
        assert dl.value.suggested_filename.endswith(".xlsx")
        b.close()

    con = duckdb.connect(str(clerk_server["home"] / "published" / "xiangzhi.duckdb"), read_only=True)
    table = con.execute("""select file_name, coalesce(sheet, ''), row_number, reason_code from quarantine
                           where batch_id = ?""", [s["batch_id"]]).fetchall()
    loaded = con.execute("select file_name, rows_loaded from load_files where batch_id = ? and status = 'loaded'",
                         [s["batch_id"]]).fetchall()
    june_visits = con.execute("select count(*) from fct_visit where visited_at >= '2025-06-01'").fetchone()[0]
    con.close()
    # the uploaded month is published: its four files in the batch, June visits on every page
    assert sorted(n for n, _ in loaded) == sorted(f.name for f in june) and all(r > 0 for _, r in loaded)
    assert june_visits > 0
    wb = openpyxl.load_workbook(saved)
    rows = []
    for ws in wb:
        for r in ws.iter_rows(min_row=2, values_only=True):
            rows.append((r[0], r[1] or "", r[2], r[4]))
            assert r[3] and r[6], r[:7]  # a reason and the faulty field on every row
    assert len(table) > 0 and sorted(rows) == sorted(table)
