"""Scope enforcement in the read gateway (pipelines/warehouse.py), on a tiny published warehouse.

`build_published(home)` writes a small published copy straight from the contract (two townships,
two villages each, two grids per village); the dashboard tests reuse it until a generated demo
home is available.
"""

from __future__ import annotations

import inspect
import json
import math
import random
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines import warehouse as wh
from pipelines.catalogue import load_catalogue
from pipelines.geometry import dissolve_outlines
from pipelines.models import contract
from pipelines.models.runner import dependency_order, materialise_catalogue, run_models

COUNTY = "360726"
TOWNSHIPS = {"360726100": "东山镇", "360726200": "西河乡"}
VILLAGES = {
    "360726100001": "东山村",
    "360726100002": "桃源村",
    "360726200001": "西河村",
    "360726200002": "柳湾社区",
}
PERIODS = ["2024-06", "2025-05", "2025-06"]
# 柳湾社区 has no events in 2025-06 (the "month with no events" case); 桃源村 is low n that month.
QUIET_VILLAGE, LOW_N_VILLAGE = "360726200002", "360726100002"


def _grids() -> list[tuple[str, str]]:
    return [(v + f"{g:03d}", v) for v in VILLAGES for g in (1, 2)]


def _square(x0: float, y0: float, size: float = 0.02) -> str:
    ring = [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def build_published(home: Path, seed: int = 7) -> Path:
    """Write $home/published/xiangzhi.duckdb following pipelines/models/schema.yml exactly."""
    rng = random.Random(seed)
    cat = load_catalogue()
    path = home / "published" / "xiangzhi.duckdb"
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    contract.create_empty(con)
    materialise_catalogue(con, cat)  # cfg_* tables, published beside the marts (the scorecard reads them)

    def put(table: str, rows: list[dict]) -> None:
        if rows:
            df = pd.DataFrame(rows)  # noqa: F841  (read by DuckDB's replacement scan)
            con.execute(f'insert into "{table}" by name select * from df')

    put("dim_county", [dict(county_code=COUNTY, name="示例县", households=0, population=0, lon=115.05, lat=27.05)])
    grids, households = [], []
    for i, (g, v) in enumerate(_grids()):
        t = v[:9]
        x0 = 115.0 + (0.04 if t.endswith("200") else 0) + (0.02 * (int(g[-1]) - 1))
        y0 = 27.0 + 0.02 * (int(v[-1]) - 1)
        grids.append(dict(
            grid_code=g, grid_name=f"{VILLAGES[v]}第{int(g[-3:])}网格", village_code=v, township_code=t,
            households=6, population=20, grid_head=f"网格长{i + 1}", worker_count=2,
            geometry=_square(x0, y0), centroid_lon=x0 + 0.01, centroid_lat=y0 + 0.01,
        ))
        for h in range(6):
            households.append(dict(
                household_key=f"hh{g}{h}", grid_code=g, village_code=v, township_code=t,
                head_name_masked="张**", id_number_hash=None, phone_hash=None, members=3,
                key_type="低保五保户" if h < 3 else None, is_key=h < 3,
            ))
    put("dim_grid", grids)
    # Outlines as ingest computes them: dissolved from the grids.
    outlines = {(lv, code): geo for lv, code, geo, _, _ in
                dissolve_outlines((g["village_code"], g["township_code"], g["geometry"]) for g in grids)}
    put("dim_township", [
        dict(township_code=t, name=n, county_code=COUNTY, households=24, population=80, lon=None, lat=None,
             geometry=outlines[("township", t)])
        for t, n in TOWNSHIPS.items()
    ])
    put("dim_village", [
        dict(village_code=v, name=n, township_code=v[:9], county_code=COUNTY, households=12, population=40,
             lon=None if v == QUIET_VILLAGE else 115.0 + (0.04 if v[6:9] == "200" else 0) + 0.02,
             lat=None if v == QUIET_VILLAGE else 27.0 + 0.02 * (int(v[-1]) - 1) + 0.01,
             geometry=outlines[("village", v)])
        for v, n in VILLAGES.items()
    ])
    put("dim_household", households)

    visits, events, disputes, points, redemptions = [], [], [], [], []
    cats = ["矛盾纠纷", "安全隐患", "环境卫生", "民生诉求"]
    for period in PERIODS:
        y, m = int(period[:4]), int(period[5:])
        for g, v in _grids():
            for k in range(3):
                at = datetime(y, m, 3 + k * 7, 9, 30)
                visits.append(dict(
                    record_id=f"V{period}{g}{k}", grid_code=g, village_code=v, township_code=v[:9],
                    worker="李四", household_key=f"hh{g}{k}", visit_type="走访", visited_at=at,
                    entered_at=at + timedelta(days=1 if k else 6), batch_id="B1", file_name="visits.csv",
                ))
            if period == "2025-06" and v == QUIET_VILLAGE:
                continue
            for k in range(2 + int(g[-1])):
                at = datetime(y, m, 2 + k * 5, 10, 0)
                closed = k % 3 != 2
                events.append(dict(
                    event_id=f"E{period}{g}{k}", grid_code=g, village_code=v, township_code=v[:9],
                    reporter="王五", reported_at=at, category=cats[(k + int(v[-1])) % len(cats)],
                    source="网格员巡查", handling_level="网格" if k % 2 else "村",
                    status="已办结" if closed else "处置中", is_closed=closed, accepted_at=at + timedelta(hours=2),
                    deadline=at + timedelta(days=3), closed_at=at + timedelta(hours=30) if closed else None,
                    satisfaction="满意" if closed else None, entered_at=at + timedelta(days=k),
                    export_time=datetime(2025, 7, 1), batch_id="B1", file_name="events.csv",
                ))
        for v in VILLAGES:
            for k in range(1 + int(v[-1]) + (1 if v[6:9] == "200" else 0)):
                reg = date(y, m, 4 + k)
                disputes.append(dict(
                    case_id=f"D{period}{v}{k}", registered_on=reg, village_code=v, township_code=v[:9],
                    dispute_type=["邻里纠纷", "土地承包", "婚姻家庭"][k % 3], parties_masked="张**、李**",
                    party_count=2, amount=1000.0, mediation_org="村调委会", mediator="赵六",
                    result="调解成功" if k % 2 == 0 else "调解中", concluded_on=reg + timedelta(days=5) if k % 2 == 0 else None,
                    is_petition=(period == "2025-06" and v == "360726200001" and k == 0),
                    related_event_id=None, export_time=datetime(2025, 7, 1), batch_id="B1", file_name="disputes.xlsx",
                ))
        for h in households:
            for k in range(rng.randint(0, 3)):
                pts = rng.choice([5.0, 3.0, 2.0, -2.0])
                points.append(dict(
                    record_id=f"P{period}{h['household_key']}{k}", household_key=h["household_key"],
                    village_code=h["village_code"], township_code=h["township_code"], item="清洁家园",
                    category=rng.choice(["人居环境", "文明新风", "公益志愿"]), points=pts,
                    occurred_on=date(y, m, 10 + k), entered_on=date(y, m, 11 + k),
                    review_status="已确认" if k < 2 else "待审核", export_time=datetime(2025, 7, 1),
                    batch_id="B1", file_name="points.csv",
                ))
            if rng.random() < 0.25:
                redemptions.append(dict(
                    redemption_id=f"R{period}{h['household_key']}", household_key=h["household_key"],
                    village_code=h["village_code"], township_code=h["township_code"],
                    item=rng.choice(["洗衣粉", "食用油", "大米"]), points_spent=float(rng.choice([5, 10, 20])),
                    redeemed_on=date(y, m, 20), batch_id="B1", file_name="redemptions.csv",
                ))
    put("fct_visit", visits)
    put("fct_event", events)
    put("fct_dispute", disputes)
    put("fct_points", points)
    put("fct_redemption", redemptions)

    # Indicator values: synthetic but well-formed (rates = numerator/denominator, counts = numerator).
    units = [("county", COUNTY)] + [("township", t) for t in TOWNSHIPS] + [("village", v) for v in VILLAGES]
    units += [("grid", g) for g, _ in _grids()]
    iv = []
    for period in PERIODS:
        for level, code in units:
            for ind in cat.indicators:
                if level not in ind.levels:
                    continue
                size = {"county": 48, "township": 24, "village": 12, "grid": 6}[level]
                if ind.kind == "rate":
                    den = float(size if not (code == LOW_N_VILLAGE and period == "2025-06") else 3)
                    num = float(rng.randint(int(den * 0.6), int(den)))
                    if level == "grid" and ind.id == "grid_active_rate":
                        den, num = 1.0, float(not (code.startswith(QUIET_VILLAGE) and period == "2025-06"))
                    val = ind.scale * num / den
                elif ind.kind == "count":
                    num = float(rng.randint(0, size // 2))
                    if ind.id == "petitions":
                        num = 1.0 if (period == "2025-06" and code in (COUNTY, "360726200", "360726200001")) else 0.0
                    den, val = None, num
                else:
                    num, den, val = float(size // 3), None, float(rng.randint(20, 120))
                low = level == "village" and ind.kind == "rate" and den is not None and den < 5
                iv.append(dict(period=period, unit_level=level, unit_code=code, indicator_id=ind.id,
                               numerator=num, denominator=den, value=val, low_n=low))
    put("indicator_values", iv)

    scores, prev = [], {}
    for period in PERIODS:
        sc = {v: round(rng.uniform(60, 98), 4) for v in VILLAGES}
        order = sorted(sc, key=lambda v: -sc[v])
        n = len(order)
        k = math.ceil(0.1 * n)
        for r, v in enumerate(order, start=1):
            veto = period == "2025-06" and v == "360726200001"
            board = "black" if veto or r > n - k else ("red" if r <= k else None)
            pr = prev.get(v) if period != "2025-05" else None
            scores.append(dict(period=period, village_code=v, township_code=v[:9], score=sc[v], rank=r,
                               prev_rank=pr, rank_change=None if pr is None else pr - r, board=board, veto=veto))
        prev = {v: r for r, v in enumerate(order, start=1)}
    put("village_scores", scores)
    put("household_stars", [
        dict(year=2025, household_key=h["household_key"], village_code=h["village_code"],
             total_points=float(i % 7), rank=1 + i % 6, stars=[5, 4, 3, 0, 0, 0][i % 6])
        for i, h in enumerate(households)
    ])
    put("load_batches", [dict(batch_id="B1", started_at=datetime(2025, 7, 1, 8), finished_at=datetime(2025, 7, 1, 8, 2),
                              status="published")])
    put("load_files", [
        dict(batch_id="B1", file_name="events.csv", source_kind="events", content_hash="h1", rows_read=52,
             rows_loaded=50, rows_quarantined=2, rows_duplicate=0, rows_non_data=0, status="loaded", reason=None),
        dict(batch_id="B1", file_name="bad.xlsx", source_kind=None, content_hash="h2", rows_read=0, rows_loaded=0,
             rows_quarantined=0, rows_duplicate=0, rows_non_data=0, status="rejected", reason="无法识别的表头"),
    ])
    put("quarantine", [
        dict(batch_id="B1", file_name="events.csv", sheet=None, row_number=7, source_kind="events",
             reason_code="BAD_DATE", reason_detail="上报时间: 2025-02-30", raw_row=json.dumps({"事件编号": "E9"})),
        dict(batch_id="B1", file_name="events.csv", sheet=None, row_number=9, source_kind="events",
             reason_code="UNKNOWN_GRID", reason_detail="网格编码: 999", raw_row=json.dumps({"事件编号": "E10"})),
    ])
    put("validation_results", [
        dict(batch_id="B1", suite="events", expectation="expect_column_values_to_not_be_null", success=True,
             unexpected_count=0),
        dict(batch_id="B1", suite="events", expectation="expect_column_values_to_be_in_set", success=False,
             unexpected_count=2),
    ])
    # grid_worker_scores from the real SQL models over the facts above (SPEC §6.1).
    # The pages' read models (issue #18 item 1) from the real SQL models over the same facts.
    intermediates = ["int_calendar", "int_unit_levels", "int_worker_item_counts", "int_entry_lags", "int_confirmed_points",
                     "int_household_points"]
    wanted = set(intermediates) | {
        "grid_worker_scores", "unit_month_counts", "village_dispute_sites", "unit_event_categories",
        "unit_dispute_types", "unit_redemptions", "unit_points_by_category", "unit_points_distribution",
        "household_month_points", "grid_month_reporting", "household_visit_months", "unit_indicator_cells",
        "village_labels", "event_case_list", "village_star_counts"}
    run_models(con, "marts", [m for m in dependency_order("marts") if m in wanted])  # the runner's order
    for name in intermediates:
        con.execute(f"drop table {name}")
    for name in contract.tables():
        assert not contract.check(con, name), contract.check(con, name)
    con.close()
    return path


# ---------------------------------------------------------------------------------------------

SCOPES = {
    "county": wh.Scope("county", COUNTY),
    "township": wh.Scope("township", "360726100"),
    "village": wh.Scope("village", "360726100001"),
    # clerk accounts (信息员) read what their township or county reads: the same checks apply
    "clerk_township": wh.scope_for("clerk", "360726100"),
    "clerk_county": wh.scope_for("clerk", COUNTY),
}
# Functions of warehouse.py that are not scoped queries (connections, the catalogue, helpers).
NOT_QUERIES = {"published_path", "stamp", "connect", "default_connection", "catalogue", "indicators",
               "light", "first_units", "scope_for",
               "lake_connection"}  # lake (issue #17): opens a lake, like connect
# Values for the parameters query functions take, by parameter name.
ARGS = {"period": "2025-06", "year": 2025, "indicator_id": "key_visit_rate", "level": "village", "batch_id": None,
        "latest_only": False,  # quarantine_rows (dashboard-glance)
        # cases and drill-through (pages 9, 10)
        "category": None, "status": None, "overdue": True, "dispute_type": None, "result": None,
        "weights": {"petitions": 20.0}, "board_share": 0.2,
        "limit": 2}  # the case lists' first rows (page 9)
CODE_COLUMNS = ("grid_code", "village_code", "unit_code", "code", "township_code", "county_code")  # finest first


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    path = build_published(tmp_path_factory.mktemp("home"))
    c = wh.connect(path)
    yield c
    c.close()


def query_functions():
    fns = [
        (name, fn) for name, fn in inspect.getmembers(wh, inspect.isfunction)
        if fn.__module__ == wh.__name__ and not name.startswith("_") and name not in NOT_QUERIES
    ]
    assert len(fns) >= 20
    return fns


def _call(fn, scope, con, **over):
    kwargs = {}
    for pname, p in inspect.signature(fn).parameters.items():
        if pname in ("scope", "con"):
            continue
        if pname in over:
            kwargs[pname] = over[pname]
        elif pname == "village_code" and p.default is inspect.Parameter.empty:
            kwargs[pname] = "360726100001"
        elif pname == "grid_code":  # a grid of the village every scope above contains
            kwargs[pname] = "360726100001001"
        elif pname == "worker_name":
            kwargs[pname] = "李四"
        elif pname in ("unit_code", "township_code", "village_code"):
            kwargs[pname] = None
        elif pname in ARGS:
            kwargs[pname] = ARGS[pname]
        else:
            raise AssertionError(f"test does not know how to call {fn.__name__}({pname}=...): add it to ARGS")
    return fn(scope, con=con, **kwargs)


def test_every_public_function_is_a_scoped_query():
    for name, fn in query_functions():
        params = list(inspect.signature(fn).parameters)
        assert params[0] == "scope", f"{name} must take a Scope first"
        assert "con" in params, name


@pytest.mark.parametrize("role", list(SCOPES))
def test_no_row_outside_scope(con, role, monkeypatch):
    scope = SCOPES[role]
    for name, fn in query_functions():
        res = _call(fn, scope, con)
        if isinstance(res, wh.Unit):
            assert scope.allows(res.code), name
            continue
        if isinstance(res, list):  # periods
            assert res == ["2024-06", "2025-05", "2025-06"], name
            continue
        assert isinstance(res, pd.DataFrame), name
        cols = [c for c in CODE_COLUMNS if c in res.columns]
        if name in wh.COUNTY_ONLY:
            assert (len(res) > 0) == (scope.role == "county"), name
            continue
        if name in wh.NO_DIVISION_DATA:
            assert not cols and not any("code" in c or "household" in c for c in res.columns), name
            continue
        assert cols, f"{name} returns no code column to check"
        # The row's own (finest) code must be inside the scope; other code columns may also name
        # an ancestor of the scope (a village row carries its township's code).
        own = cols[0]
        bad = res[own].map(lambda x: not scope.allows(x))
        assert not bad.any(), f"{name}: {res.loc[bad, own].tolist()} outside {scope}"
        for c in cols[1:]:
            bad = res[c].dropna().map(lambda x: not (scope.allows(x) or scope.code.startswith(x)))
            assert not bad.any(), f"{name}: {res.loc[bad.index[bad], c].tolist()} outside {scope}"


@pytest.mark.parametrize("role", ["township", "village", "clerk_township"])
def test_codes_outside_scope_are_refused(con, role, monkeypatch):
    """Editing the sidebar (session state, URL) to another township's code raises, for every query
    that takes a code."""
    scope = SCOPES[role]
    other = {"unit_code": "360726200", "township_code": "360726200", "village_code": "360726200001",
             "grid_code": "360726200001001"}
    checked = 0
    for _name, fn in query_functions():
        params = inspect.signature(fn).parameters
        for pname, code in other.items():
            if pname in params:
                with pytest.raises(wh.ScopeError):
                    _call(fn, scope, con, **{pname: code})
                checked += 1
    assert checked >= 20
    # the county code itself is above a township scope
    with pytest.raises(wh.ScopeError):
        wh.kpis(scope, "2025-06", COUNTY, con=con)


def test_township_sees_only_its_villages(con):
    t = wh.league_table(SCOPES["township"], "2025-06", con=con)
    assert sorted(t["village_code"]) == ["360726100001", "360726100002"]
    c = wh.league_table(SCOPES["county"], "2025-06", con=con)
    assert len(c) == 4
    # ranks stay county-wide
    assert set(t["rank"]) <= set(c["rank"])


def test_kpis_match_indicator_values(con):
    k = wh.kpis(SCOPES["county"], "2025-06", con=con)
    raw = con.execute(
        "select indicator_id, value from indicator_values where period='2025-06' and unit_code=?", [COUNTY]
    ).fetchall()
    assert dict(zip(k["indicator_id"], k["value"], strict=True)) == dict(raw)
    assert k["indicator_id"].tolist() == load_catalogue().ids  # catalogue order
    assert k.set_index("indicator_id").loc["petitions", "light"] == "red"  # one petition vs target 0


def test_light_uses_catalogue_targets():
    cat = load_catalogue()
    assert wh.light(0.95, cat["event_closure_rate"]) == "green"
    assert wh.light(0.90, cat["event_closure_rate"]) == "amber"
    assert wh.light(0.50, cat["event_closure_rate"]) == "red"
    assert wh.light(0.50, cat["event_closure_rate"], low_n=True) == "grey"
    assert wh.light(None, cat["event_closure_rate"]) == "grey"
    assert wh.light(3, cat["events_reported"]) == "none"
    assert wh.light(0.5, cat["ordinary_visit_rate_qtd"], period="2025-05") == "none"
    assert wh.light(0.5, cat["ordinary_visit_rate_qtd"], period="2025-06") == "red"


def test_clerk_scope_is_its_level():
    assert wh.scope_for("clerk", "360726100") == wh.Scope("township", "360726100")
    assert wh.scope_for("clerk", COUNTY) == wh.Scope("county", COUNTY)
    for bad in ("360726100001", "3607", None):
        with pytest.raises(ValueError):
            wh.scope_for("clerk", bad)
    with pytest.raises(ValueError):  # a clerk is an account role, not a data scope of its own
        wh.Scope("clerk", COUNTY)


def test_scope_validation():
    with pytest.raises(ValueError):
        wh.Scope("township", "360726")
    with pytest.raises(ValueError):
        wh.Scope("admin", "360726")
    s = wh.Scope("township", "360726100")
    assert s.allows("360726100001003") and not s.allows("360726200001") and not s.allows(None)


def test_missing_published_copy_raises_nodata(tmp_path):
    with pytest.raises(wh.NoData):
        wh.connect(tmp_path / "published" / "xiangzhi.duckdb", retries=1)


def test_new_published_copy_is_picked_up(tmp_path, monkeypatch):
    """Publishing renames a new file over the old one: the default connection follows it."""
    monkeypatch.setenv("XIANGZHI_HOME", str(tmp_path))
    path = build_published(tmp_path)
    s = SCOPES["county"]
    assert len(wh.league_table(s, "2025-06")) == 4
    # build a copy with one village dropped from the scores, then rename it over
    other = tmp_path / "other"
    p2 = build_published(other)
    c = duckdb.connect(str(p2))
    c.execute("delete from village_scores where village_code = '360726200002'")
    c.close()
    p2.replace(path)
    assert len(wh.league_table(s, "2025-06")) == 3


def test_event_points_and_disputes(con):
    s = SCOPES["county"]
    ev = wh.event_points(s, "2025-06", con=con)
    assert not ev.empty and not ev["village_code"].eq(QUIET_VILLAGE).any()
    # every point sits within its grid's square (schematic position near the centroid)
    assert ((ev["lon"] - ev["centroid_lon"]).abs() < 0.01).all()
    d = wh.dispute_sites(s, "2025-06", con=con)
    quiet = d.set_index("village_code").loc[QUIET_VILLAGE]
    assert quiet["lon"] == pytest.approx(115.06)  # mean of its grid centroids: no reference coordinates
    assert int(d["petitions"].sum()) == 1


def test_boundaries_dissolve_grids(con):
    b = wh.boundaries(SCOPES["county"], "township", con=con)
    assert b["code"].tolist() == list(TOWNSHIPS)
    shape = json.loads(b["geometry"].iloc[0])
    assert shape["type"] == "Polygon"  # two villages × two grids merge into one outline
    v = wh.boundaries(SCOPES["township"], "village", con=con)
    assert v["code"].tolist() == ["360726100001", "360726100002"]


def test_worker_league_scoped_and_with_last_month(con):
    """Page 8 queries: a village account sees its own grids' workers only; change since last month
    comes from the same worker's row of the previous month."""
    county = wh.worker_league(SCOPES["county"], "2025-06", con=con)
    village = wh.worker_league(SCOPES["village"], "2025-06", con=con)
    assert len(county) > len(village) > 0
    assert set(village["grid_code"]) == {"360726100001001", "360726100001002"}
    assert set(county["worker_name"]) == {"李四", "王五"}
    mart = con.execute("select count(*) from grid_worker_scores where period = '2025-06'").fetchone()[0]
    assert len(county) == mart
    may = wh.worker_league(SCOPES["county"], "2025-05", con=con).set_index(["grid_code", "worker_name"])
    for r in county.itertuples():
        prev = may.loc[(r.grid_code, r.worker_name)]
        assert r.prev_total == prev.total and r.total_change == r.total - prev.total
        assert r.rank_change == prev.rank_in_township - r.rank_in_township
    first = wh.worker_league(SCOPES["county"], "2024-06", con=con)
    assert first["prev_total"].isna().all()  # 2024-05 has no rows
    hist = wh.worker_history(SCOPES["village"], "360726100001001", "李四", con=con)
    assert hist["period"].tolist() == PERIODS
    with pytest.raises(wh.ScopeError):
        wh.worker_history(SCOPES["village"], "360726100002001", "李四", con=con)
