"""Properties of the marts on a seeded random warehouse (SPEC §5–6), checked against an independent
Python recomputation from the fact rows.

`random_warehouse` fills the contract tables with deterministic pseudo-random rows (hash-based, so
the same seed gives the same rows whatever the thread count). It is also used to time the marts at
county scale (see __main__). The same checks also run on the generator's tiny county after a real
ingest (marked slow: ingest runs Great Expectations).
"""

from __future__ import annotations

import math
import statistics
import time
from collections import defaultdict
from datetime import date

import duckdb
import pytest

from pipelines.catalogue import load_catalogue
from pipelines.explain import explain_village
from pipelines.models import contract
from pipelines.models.runner import build_marts

COUNTY = "360002"


def random_warehouse(
    con, seed: int = 7, townships: int = 3, villages: int = 4, grids: int = 3, households: int = 12,
    months: int = 5, visits_per_household_month: float = 0.6, events_per_grid_month: float = 2.0,
    start: date = date(2024, 11, 1),
) -> None:
    """Contract tables with random but plausible rows; uniform draws from hash(row, salt, seed)."""
    seed = int(seed)
    contract.create_empty(con)
    con.execute(f"create or replace temp macro u(i, salt) as (hash(i, salt, {seed}) % 1000003) / 1000003.0")
    days = (date(start.year + (start.month + months - 1) // 12, (start.month + months - 1) % 12 + 1, 1) - start).days
    con.execute("create or replace temp table params as select ?::date as start, ?::int as days", [start, days])
    con.execute("insert into dim_county (county_code, name) values (?, '随机县')", [COUNTY])
    # One extra township with no village: its rows must exist, with zero counts and NULL rates.
    con.execute(
        """
        insert into dim_township (township_code, name, county_code)
        select ? || lpad(i::varchar, 3, '0'), '乡' || i, ? from range(1, ? + 2) t(i)
        """,
        [COUNTY, COUNTY, townships],
    )
    con.execute(
        """
        insert into dim_village (village_code, name, township_code, county_code, population)
        select t.township_code || lpad(j::varchar, 3, '0'), '村' || j, t.township_code, t.county_code,
               (200 + 2000 * u(t.township_code || j, 'pop'))::bigint
        from dim_township t, range(1, ? + 1) v(j)
        where t.township_code < (select max(township_code) from dim_township)
        """,
        [villages],
    )
    # Grid counts vary per village (1 .. 2×grids) so some villages have 5+ grids and some fewer.
    con.execute(
        """
        insert into dim_grid (grid_code, grid_name, village_code, township_code)
        select v.village_code || lpad(k::varchar, 3, '0'), '网格' || k, v.village_code, v.township_code
        from dim_village v, range(1, 2 * ? + 1) g(k)
        where k <= 1 + floor(u(v.village_code, 'ngrids') * 2 * ?)
        """,
        [grids, grids],
    )
    con.execute(
        """
        insert into dim_household (household_key, grid_code, village_code, township_code, key_type, is_key)
        select g.grid_code || lpad(h::varchar, 3, '0'), g.grid_code, g.village_code, g.township_code,
               case when u(g.grid_code || h, 'key') < 0.2 then '空巢老人户' end,
               u(g.grid_code || h, 'key') < 0.2
        from dim_grid g, range(1, ? + 1) r(h)
        where h <= 1 + floor(u(g.grid_code, 'nh') * ?)
        """,
        [households * 2, households * 2],
    )
    con.execute("create or replace temp table hh as select row_number() over (order by household_key) - 1 as n, * from dim_household")
    con.execute("create or replace temp table gg as select row_number() over (order by grid_code) - 1 as n, * from dim_grid")
    con.execute("create or replace temp table vv as select row_number() over (order by village_code) - 1 as n, * from dim_village")
    n_hh = con.execute("select count(*) from hh").fetchone()[0]
    n_g = con.execute("select count(*) from gg").fetchone()[0]
    n_v = con.execute("select count(*) from vv").fetchone()[0]
    n_visits = int(n_hh * months * visits_per_household_month)
    n_events = int(n_g * months * events_per_grid_month)
    con.execute(
        """
        insert into fct_visit (record_id, grid_code, village_code, township_code, worker, household_key,
                               visit_type, visited_at, entered_at)
        with draws as (
            select i, floor(u(i, 'h') * ?)::bigint as hn,
                   start + to_seconds((u(i, 't') * days * 86400)::bigint) as visited_at,
                   u(i, 'type') as ty, floor(u(i, 'lag') * 7)::int as lag
            from range(?) r(i), params
        )
        select 'V' || i, hh.grid_code, hh.village_code, hh.township_code, 'w',
               case when ty < 0.8 then hh.household_key end,
               case when ty < 0.8 then '走访' when ty < 0.95 then '巡查' else '宣讲' end,
               visited_at, visited_at + to_days(lag) + to_hours((u(i, 'lh') * 20)::int)
        from draws join hh on hh.n = draws.hn
        """,
        [n_hh, n_visits],
    )
    con.execute(
        """
        insert into fct_event (event_id, grid_code, village_code, township_code, reported_at, category,
                               handling_level, status, is_closed, accepted_at, deadline, closed_at,
                               satisfaction, entered_at)
        with draws as (
            select i, floor(u(i, 'g') * ?)::bigint as gn,
                   start + to_seconds((u(i, 't') * days * 86400)::bigint) as reported_at,
                   ['已上报', '已受理', '处置中', '已办结', '已回访'][1 + floor(u(i, 's') * 5)::int] as status,
                   ['网格', '村', '乡镇', '县', null][1 + floor(u(i, 'l') * 5)::int] as handling_level,
                   ['满意', '基本满意', '不满意', '未回访', null][1 + floor(u(i, 'sat') * 5)::int] as satisfaction,
                   to_seconds((u(i, 'dur') * 200 * 3600)::bigint) as duration,
                   floor(u(i, 'lag') * 6)::int as lag
            from range(?) r(i), params
        )
        select 'E' || i, gg.grid_code, gg.village_code, gg.township_code, reported_at, '其他',
               handling_level, status, status in ('已办结', '已回访'), reported_at + interval 1 hour,
               reported_at + interval 72 hour,
               case when status in ('已办结', '已回访') then reported_at + duration end,
               case when status in ('已办结', '已回访') then satisfaction end,
               reported_at + to_days(lag)
        from draws join gg on gg.n = draws.gn
        """,
        [n_g, n_events],
    )
    con.execute(
        """
        insert into fct_dispute (case_id, registered_on, village_code, township_code, dispute_type,
                                 result, concluded_on, is_petition)
        with draws as (
            select i, floor(u(i, 'v') * ?)::bigint as vn,
                   (start + to_days(floor(u(i, 't') * days)::int))::date as registered_on,
                   ['调解成功', '调解成功', '调解不成功', '调解中', '移交'][1 + floor(u(i, 'r') * 5)::int] as result,
                   floor(u(i, 'c') * 40)::int as lag
            from range(?) r(i), params
        )
        select 'D' || i, registered_on, vv.village_code, vv.township_code, '邻里纠纷', result,
               case when result <> '调解中' then registered_on + lag end, u(i, 'p') < 0.03
        from draws join vv on vv.n = draws.vn
        """,
        [n_v, n_v * months * 3],
    )
    con.execute(
        """
        insert into fct_points (record_id, household_key, village_code, township_code, points, occurred_on,
                                entered_on, review_status)
        with draws as (
            select i, floor(u(i, 'h') * ?)::bigint as hn,
                   (start + to_days(floor(u(i, 't') * days)::int))::date as occurred_on,
                   round(u(i, 'p') * 15 - 4, 1) as points,
                   ['待审核', '已公示', '已确认', '已确认', '已确认', '已驳回'][1 + floor(u(i, 's') * 6)::int] as status,
                   floor(u(i, 'lag') * 6)::int as lag
            from range(?) r(i), params
        )
        select 'P' || i, hh.household_key, hh.village_code, hh.township_code, points, occurred_on,
               occurred_on + lag, status
        from draws join hh on hh.n = draws.hn
        """,
        [n_hh, n_hh * months],
    )
    con.execute(
        """
        insert into fct_redemption (redemption_id, household_key, village_code, township_code, points_spent,
                                    redeemed_on)
        with draws as (
            select i, floor(u(i, 'h') * ?)::bigint as hn,
                   (start + to_days(floor(u(i, 't') * days)::int))::date as redeemed_on,
                   1 + floor(u(i, 'p') * 20) as spent
            from range(?) r(i), params
        )
        select 'R' || i, hh.household_key, hh.village_code, hh.township_code, spent, redeemed_on
        from draws join hh on hh.n = draws.hn
        """,
        [n_hh, n_hh * months // 4],
    )
    for t in ("hh", "gg", "vv", "params"):
        con.execute(f"drop table {t}")


def _generated_warehouse(tmp_path_factory):
    """The generator's tiny county, ingested (which builds the marts and publishes)."""
    from pipelines.generate import generate
    from pipelines.load import ingest

    home = tmp_path_factory.mktemp("home")
    out = tmp_path_factory.mktemp("exports")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XIANGZHI_HOME", str(home))
        mp.setenv("XIANGZHI_SECRET", "test-secret")
        mp.delenv("XIANGZHI_INDICATORS", raising=False)
        generate("tiny", 5, out, 0.01)
        ingest([out])
    return duckdb.connect(str(home / "published" / "xiangzhi.duckdb"), read_only=True)


@pytest.fixture(scope="module", params=["random", pytest.param("generated", marks=pytest.mark.slow)])
def con(request, tmp_path_factory):
    global COUNTY
    if request.param == "random":
        con = duckdb.connect()
        random_warehouse(con)
        build_marts(con, load_catalogue())
    else:
        con = _generated_warehouse(tmp_path_factory)
    COUNTY = con.execute("select county_code from dim_county").fetchall()[0][0]
    yield con
    con.close()


def _periods(con) -> list[str]:
    return [r[0] for r in con.execute("select distinct period from indicator_values order by 1").fetchall()]


def _values(con, level):
    rows = con.execute(
        "select period, unit_code, indicator_id, numerator, denominator, value, low_n "
        "from indicator_values where unit_level = ?",
        [level],
    ).fetchall()
    return {(p, u, i): (n, d, v, low) for p, u, i, n, d, v, low in rows}


def test_every_unit_month_indicator_has_one_row(con):
    cat = load_catalogue()
    periods = _periods(con)
    months = len(periods)
    first, last = periods[0], periods[-1]
    assert months == (int(last[:4]) - int(first[:4])) * 12 + int(last[5:]) - int(first[5:]) + 1  # no gaps
    for level, table in (("grid", "dim_grid"), ("village", "dim_village"), ("township", "dim_township"),
                         ("county", "dim_county")):
        units = con.execute(f"select count(*) from {table}").fetchone()[0]
        n_ind = sum(level in i.levels for i in cat.indicators)
        got = con.execute(
            "select count(*), count(distinct (period, unit_code, indicator_id)) from indicator_values where unit_level = ?",
            [level],
        ).fetchone()
        assert got == (units * months * n_ind, units * months * n_ind), level


def test_rollups_sum_numerators_and_denominators(con):
    """Township and county rates are Σ village numerators / Σ village denominators; counts sum."""
    cat = load_catalogue()
    village = _values(con, "village")
    parents = dict(con.execute("select village_code, township_code from dim_village").fetchall())
    sums: dict[tuple, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for (p, v, i), (n, d, _val, _low) in village.items():
        for unit in (parents[v], COUNTY):
            s = sums[(p, unit, i)]
            s[0] += n
            s[1] += d or 0
    checked = 0
    for level in ("township", "county"):
        for (p, u, i), (n, d, val, low) in _values(con, level).items():
            ind = cat[i]
            assert low is False
            if ind.kind == "median":
                continue
            sn, sd = sums.get((p, u, i), (0.0, 0.0))
            assert n == pytest.approx(sn, abs=1e-6), (level, p, u, i)
            if ind.kind == "count":
                assert d is None and val == n
            else:
                assert d == pytest.approx(sd, abs=1e-6), (level, p, u, i)
                if d == 0:
                    assert val is None
                else:
                    assert val == pytest.approx(ind.scale * sn / sd, rel=1e-12), (level, p, u, i)
                    checked += 1
    assert checked > 100


def test_grid_level_sums_to_village(con):
    grid = _values(con, "grid")
    village = _values(con, "village")
    parent = dict(con.execute("select grid_code, village_code from dim_grid").fetchall())
    sums: dict[tuple, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for (p, g, i), (n, d, _val, low) in grid.items():
        assert low is False
        if i == "grid_active_rate":
            assert d == 1 and n in (0, 1)
        sums[(p, parent[g], i)][0] += n
        sums[(p, parent[g], i)][1] += d or 0
    for (p, v, i), (sn, sd) in sums.items():
        n, d, _v, _low = village[(p, v, i)]
        assert n == sn and (d or 0) == sd, (p, v, i)


def _facts(con, sql):
    return con.execute(sql).fetchall()


def test_village_values_match_an_independent_recomputation(con):
    """A plain-Python oracle for every village indicator, straight from the fact rows."""
    cat = load_catalogue()
    days = cat.settings.entry_timeliness_days
    village = _values(con, "village")
    periods = sorted({p for p, _, _ in village})
    grid_village = dict(_facts(con, "select grid_code, village_code from dim_grid"))
    hh = {h: (v, g, bool(k)) for h, v, g, k in _facts(con, "select household_key, village_code, grid_code, is_key from dim_household")}
    pop = dict(_facts(con, "select village_code, population from dim_village"))
    exp: dict[tuple, list] = defaultdict(lambda: [0, 0])

    def add(p, v, i, num, den=0):
        if p in periods:
            exp[(p, v, i)][0] += num
            exp[(p, v, i)][1] += den

    def per(dt):
        return f"{dt.year:04d}-{dt.month:02d}"

    for v in pop:
        for p in periods:
            n_hh = sum(1 for vv, _, _ in hh.values() if vv == v)
            n_key = sum(1 for vv, _, k in hh.values() if vv == v and k)
            add(p, v, "grid_active_rate", 0, sum(1 for vv in grid_village.values() if vv == v))
            add(p, v, "key_visit_rate", 0, n_key)
            add(p, v, "ordinary_visit_rate_qtd", 0, n_hh - n_key)
            add(p, v, "disputes_per_1000", 0, pop[v])
            add(p, v, "points_participation_rate", 0, n_hh)
            add(p, v, "points_per_household", 0, n_hh)
    visits = _facts(con, "select grid_code, household_key, visit_type, visited_at, entered_at from fct_visit")
    events = _facts(con, "select grid_code, reported_at, status, handling_level, deadline, closed_at, satisfaction, entered_at from fct_event")
    active = {(per(t), g) for g, _, _, t, _ in visits} | {(per(e[1]), e[0]) for e in events}
    for p, g in active:
        add(p, grid_village[g], "grid_active_rate", 1)
    visited_months = defaultdict(set)  # household → months with a home visit
    for g, h, ty, t, entered in visits:
        if ty == "走访" and h:
            visited_months[h].add(per(t))
        add(per(t), grid_village[g], "entry_timeliness_rate", int((entered.date() - t.date()).days <= days), 1)
    for h, ms in visited_months.items():
        v, _, key = hh[h]
        for p in periods:
            if key and p in ms:
                add(p, v, "key_visit_rate", 1)
            quarter_months = {f"{p[:4]}-{m:02d}" for m in range((int(p[5:]) - 1) // 3 * 3 + 1, int(p[5:]) + 1)}
            if not key and ms & quarter_months:
                add(p, v, "ordinary_visit_rate_qtd", 1)
    hours = defaultdict(list)
    for g, rep, status, level, deadline, closed, sat, entered in events:
        v = grid_village[g]
        closed_now = status in ("已办结", "已回访")
        add(per(rep), v, "events_reported", 1)
        add(per(rep), v, "event_closure_rate", int(closed_now), 1)
        add(per(rep), v, "entry_timeliness_rate", int((entered.date() - rep.date()).days <= days), 1)
        if closed_now and closed is not None:
            p = per(closed)
            add(p, v, "on_time_rate", int(closed <= deadline), 1)
            add(p, v, "grid_resolution_rate", int(level == "网格"), 1)
            add(p, v, "village_resolution_rate", int(level in ("网格", "村")), 1)
            if sat in ("满意", "基本满意", "不满意"):
                add(p, v, "satisfaction_rate", int(sat != "不满意"), 1)
            hours[(p, v)].append((closed - rep).total_seconds() / 3600)
    for reg, v, result, concluded, petition in _facts(con, "select registered_on, village_code, result, concluded_on, is_petition from fct_dispute"):
        add(per(reg), v, "disputes_registered", 1)
        add(per(reg), v, "disputes_per_1000", 1)
        add(per(reg), v, "petitions", int(petition))
        if concluded and result in ("调解成功", "调解不成功", "移交"):
            add(per(concluded), v, "mediation_success_rate", int(result == "调解成功"), 1)
    participants = set()
    for h, pts, occ, ent, status in _facts(con, "select household_key, points, occurred_on, entered_on, review_status from fct_points"):
        v, p = hh[h][0], per(occ)
        add(p, v, "entry_timeliness_rate", int((ent - occ).days <= days), 1)
        if status == "已确认":
            participants.add((p, h))
            add(p, v, "points_per_household", pts)
            if pts > 0:
                add(p, v, "redemption_rate", 0, pts)
    for p, h in participants:
        add(p, hh[h][0], "points_participation_rate", 1)
    for h, spent, on in _facts(con, "select household_key, points_spent, redeemed_on from fct_redemption"):
        add(per(on), hh[h][0], "redemption_rate", spent)

    for (p, v, i), (n, d, val, low) in village.items():
        ind = cat[i]
        if ind.kind == "median":
            hs = hours.get((p, v), [])
            assert n == len(hs)
            assert (val is None) if not hs else val == pytest.approx(statistics.median(hs), rel=1e-12)
            continue
        en, ed = exp.get((p, v, i), (0, 0))
        assert n == pytest.approx(en, abs=1e-6), (p, v, i)
        if ind.kind == "rate":
            assert d == pytest.approx(ed, abs=1e-6), (p, v, i)
            assert low is (d < 5)


def test_county_median_recomputed_from_records(con):
    rows = _facts(con, "select reported_at, closed_at from fct_event where status in ('已办结', '已回访')")
    by_month = defaultdict(list)
    for rep, closed in rows:
        by_month[f"{closed.year:04d}-{closed.month:02d}"].append((closed - rep).total_seconds() / 3600)
    county = _values(con, "county")
    for (p, _u, i), (n, _d, val, _low) in county.items():
        if i == "median_handle_hours":
            hs = by_month.get(p, [])
            assert n == len(hs)
            assert val == pytest.approx(statistics.median(hs), rel=1e-12) if hs else val is None


def test_scores_ranks_boards_follow_the_rules(con):
    cat = load_catalogue()
    rows = con.execute(
        "select period, village_code, score, rank, prev_rank, rank_change, board, veto from village_scores"
    ).fetchall()
    by_period = defaultdict(list)
    for r in rows:
        by_period[r[0]].append(r)
    periods = sorted(by_period)
    village = _values(con, "village")
    for idx, p in enumerate(periods):
        ranked = [r for r in by_period[p] if r[2] is not None]
        n = len(ranked)
        k = math.ceil(round(cat.settings.board_share * n, 9))
        for _period, v, score, rank, prev, change, board, veto in by_period[p]:
            assert veto == (village[(p, v, "petitions")][2] > 0)
            parts = explain_village(con, v, p)
            assert math.fsum(x["contribution"] for x in parts if x["counted"]) == pytest.approx(score, abs=1e-9)
            higher = sum(1 for r in ranked if r[2] > score)
            lower = sum(1 for r in ranked if r[2] < score)
            assert rank == higher + 1
            expected = "black" if veto else "red" if higher < k else "black" if lower < k else None
            assert board == expected, (p, v)
            if idx == 0:
                assert prev is None and change is None
            else:
                before = {r[1]: r[3] for r in by_period[periods[idx - 1]]}
                assert prev == before[v] and change == prev - rank
            # Recompute the score from indicator_values and the catalogue, in Python.
            counted = [
                (ind.weight, ind.attainment(village[(p, v, ind.id)][2]))
                for ind in cat.weighted
                if village[(p, v, ind.id)][2] is not None and not village[(p, v, ind.id)][3]
            ]
            assert score == pytest.approx(100 * sum(w * a for w, a in counted) / sum(w for w, _ in counted), abs=1e-8)


def test_household_stars_follow_the_rules(con):
    cat = load_catalogue()
    totals = defaultdict(float)
    for h, pts, occ in _facts(con, "select household_key, points, occurred_on from fct_points where review_status = '已确认'"):
        totals[(occ.year, h)] += pts
    rows = con.execute("select year, household_key, village_code, total_points, rank, stars from household_stars").fetchall()
    years = {r[0] for r in rows}
    assert years == {int(p[:4]) for p in _periods(con)}
    n_hh = con.execute("select count(*) from dim_household").fetchone()[0]
    assert len(rows) == n_hh * len(years)
    groups = defaultdict(list)
    for r in rows:
        groups[(r[0], r[2])].append(r)
    star_counts = defaultdict(int)
    for members in groups.values():
        n = len(members)
        cuts = [math.ceil(round(s * n, 9)) for s in (cat.settings.star_share_5, cat.settings.star_share_4,
                                                       cat.settings.star_share_3)]
        for year, h, _v, total, rank, stars in members:
            assert total == pytest.approx(totals.get((year, h), 0.0), abs=1e-6)
            assert rank == 1 + sum(1 for m in members if m[3] > total + 1e-9)
            expected = 0 if total <= 0 else 5 if rank <= cuts[0] else 4 if rank <= cuts[1] else 3 if rank <= cuts[2] else 0
            assert stars == expected
            star_counts[stars] += 1
    assert star_counts[5] and star_counts[4] and star_counts[3] and star_counts[0]


if __name__ == "__main__":  # county-scale timing: python tests/test_marts_properties.py
    con = duckdb.connect()
    t0 = time.perf_counter()
    random_warehouse(con, seed=1, townships=15, villages=20, grids=5, households=40, months=36,
                     visits_per_household_month=0.7, events_per_grid_month=3.7, start=date(2023, 1, 1))
    t1 = time.perf_counter()
    sizes = {t: con.execute(f"select count(*) from {t}").fetchone()[0]
             for t in ("dim_grid", "dim_household", "fct_visit", "fct_event", "fct_points")}
    counts = build_marts(con, load_catalogue())
    t2 = time.perf_counter()
    print(sizes)
    print(counts)
    print(f"warehouse {t1 - t0:.1f} s, marts {t2 - t1:.1f} s")
