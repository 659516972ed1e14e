"""Page 8 网格员考评 in AppTest (SPEC §6.1, §7): the league per township equals grid_worker_scores for
every role and both languages, a village account sees only its own grids' workers, a worker's items
add up to the total, the posting sheet downloads, and a month without records says so."""

from __future__ import annotations

import re
import shutil

import duckdb
import pytest

from dashboard import auth
from tests.test_dashboard_apptest import app, published, texts
from tests.test_warehouse_scope import TOWNSHIPS, build_published

PAGE = "views/workers.py"
SCOPE = {"county": "360726", "township": "360726100", "village": "360726100001"}


@pytest.fixture(scope="module")
def edge_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("workers") / "home"
    build_published(home)
    auth.write_demo_users(home / "users.yaml", home / "published" / "xiangzhi.duckdb", rounds=4)
    return home


@pytest.fixture
def home(edge_home, monkeypatch):
    monkeypatch.setenv("XIANGZHI_HOME", str(edge_home))
    return edge_home


def _mart(home, period, prefix):
    with published(home) as con:
        return con.execute(
            """select s.township_code, g.grid_name, s.worker_name, s.total, s.grade, s.rank_in_township
               from grid_worker_scores s join dim_grid g using (grid_code)
               where s.period = ? and starts_with(s.grid_code, ?)
               order by s.township_code, s.rank_in_township, s.village_code, s.grid_code, s.worker_name""",
            [period, prefix]).fetchall()


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("role", ["county", "township", "village"])
def test_league_equals_the_mart_for_every_role(home, role, lang):
    at = app(role, lang=lang)
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    title = at.title[0].value
    assert title.endswith("网格员考评" if lang == "zh" else "grid workers' assessment"), title
    # The month the page opened on (the latest complete month of the account's scope, issue #14).
    period = re.search(r"\d{4}-\d{2}", title).group(0)
    rows = _mart(home, period, SCOPE[role])
    towns = sorted({r[0] for r in rows})
    assert len(towns) == (2 if role == "county" else 1)
    heads = [s.value for s in at.subheader]
    for code in towns:
        name = TOWNSHIPS[code]
        assert any(h.startswith(name) for h in heads), heads
    cols = ("网格员", "总分", "等次", "乡镇内排名", "网格") if lang == "zh" else (
        "Worker", "Total", "Grade", "Rank in township", "Grid")
    shown = []
    for df in at.dataframe[: len(towns)]:
        v = df.value
        shown += list(zip(v[cols[4]], v[cols[0]], v[cols[1]], v[cols[2]], v[cols[3]], strict=True))
    expected = [(g, n, round(tot, 4), gr if lang == "zh" else f"{gr} {EN[gr]}", rk) for _t, g, n, tot, gr, rk in rows]
    assert shown == expected
    if role == "village":
        assert {r[1] for r in rows} <= {"东山村第1网格", "东山村第2网格"}


EN = {"优秀": "Excellent", "良好": "Good", "合格": "Pass", "不合格": "Fail"}


def test_worker_items_add_up_and_history(home):
    at = app("county")
    at.switch_page(PAGE).run()
    n_tables = len(TOWNSHIPS)
    items = at.dataframe[n_tables].value
    assert len(items) == 8 and list(items["考核项目"])[0] == "走访农户"
    summary = next(m.value for m in at.markdown if m.value.startswith("**总分"))
    total = float(summary.split()[1])
    assert total == pytest.approx(min(100, max(0, 60 + items["得分"].sum())))
    history = at.dataframe[n_tables + 1].value
    assert list(history["月份"]) == ["2024-06", "2025-05", "2025-06"]
    # a village's posting sheet is offered for download
    labels = [b.label for b in at.get("download_button")]
    assert "下载公示表 PDF" in labels and "下载公示表 XLSX" in labels


def test_month_without_records_has_a_clear_empty_state(home, tmp_path, monkeypatch):
    other = tmp_path / "home"
    shutil.copytree(home, other)
    con = duckdb.connect(str(other / "published" / "xiangzhi.duckdb"))
    con.execute("delete from grid_worker_scores where period = '2025-06'")
    con.close()
    monkeypatch.setenv("XIANGZHI_HOME", str(other))
    for lang, words in (("zh", "没有网格员考评记录"), ("en", "No grid worker has anything to assess")):
        at = app("township", lang=lang)
        at.switch_page(PAGE).run()
        assert not at.exception
        assert words in texts(at)
