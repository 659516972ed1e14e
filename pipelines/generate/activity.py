"""What happens in the county each month, as typed records (times in epoch seconds, minute resolution).

Village performance (World.quality) drives every rate: visit coverage, dormant grids, closure speed,
callbacks and satisfaction, mediation success, petitions, points participation and entry timeliness.
Seasonality: disputes rise around the Spring Festival (Jan/Feb) and the land-contract season (Mar/Apr).
Snapshot records carry their whole future (accepted/closed/callback times, review dates); the export
step shows each record as it stood at the export time.
"""

from __future__ import annotations

import calendar
import datetime as dt

import numpy as np
import polars as pl

from pipelines.generate import names
from pipelines.generate.world import World, sigmoid, stream
from pipelines.sources import ENUMS

DAY = 86400
NONE = -1  # "no such time" in int64 time columns


def month_start(y: int, m: int) -> int:
    return int(dt.datetime(y, m, 1, tzinfo=dt.UTC).timestamp())


def days_in(y: int, m: int) -> int:
    return calendar.monthrange(y, m)[1]


def seq_ids(prefix: str, y: int, m: int, k: int, width: int) -> pl.Series:
    """PREFIX + YYYYMM + zero-padded sequence 1..k."""
    return pl.select(pl.concat_str([pl.lit(f"{prefix}{y}{m:02d}"),
                                    pl.int_range(1, k + 1, eager=False).cast(pl.Utf8).str.zfill(width)])).to_series()


def dormant(w: World, mi: int) -> np.ndarray:
    """Grids with no activity at all this month (more often in weak villages)."""
    q = w.quality(mi)[w.g_village]
    return stream(w.seed, "dormant", mi).random(len(w.g_code)) < sigmoid(-3.3 - 1.0 * q)


def _times(rng, n: int, y: int, m: int, h0: int, h1: int) -> np.ndarray:
    day = rng.integers(0, days_in(y, m), n)
    minute = rng.integers(h0 * 60, h1 * 60, n)
    return month_start(y, m) + day * DAY + minute * 60


def _entry_delay(rng, n: int, p_late: np.ndarray) -> np.ndarray:
    late = rng.random(n) < p_late
    fast = rng.integers(2, 240, n) * 60
    slow = rng.integers(4 * 24 * 60, 10 * 24 * 60, n) * 60  # beyond the 3-day timeliness window
    return np.where(late, slow, fast)


def _workers(w: World, g: np.ndarray, rng) -> list[str]:
    pick = rng.random(len(g)) < 0.5
    a = _worker_arrays(w)
    return np.where(pick, a[0][g], a[1][g]).tolist()


def _worker_arrays(w: World):
    if "worker_arrays" not in w.meta:
        w.meta["worker_arrays"] = (np.array([ws[0] for ws in w.g_workers]), np.array([ws[-1] for ws in w.g_workers]))
    return w.meta["worker_arrays"]


def _hh_arrays(w: World):
    if "hh" not in w.meta:
        h = w.households
        w.meta["hh"] = (h["grid_idx"].to_numpy(), h["village_idx"].to_numpy(), h["key"].to_numpy() > 0,
                        h["household_id"].to_numpy())
    return w.meta["hh"]


def _ordinary_plan(w: World, y: int, qn: int, mi0: int) -> np.ndarray:
    """Which month of the quarter (0, 1, 2) each ordinary household gets its visit; -1 = none."""
    k = ("plan", y, qn)
    if k not in w.meta:
        _, vv, _, _ = _hh_arrays(w)
        rng = stream(w.seed, "ordplan", y, qn)
        p = sigmoid(1.3 + 1.3 * w.quality(max(mi0, 0)))[vv]
        month = rng.choice(3, len(vv), p=[0.3, 0.3, 0.4])
        w.meta = {kk: vv_ for kk, vv_ in w.meta.items() if not (isinstance(kk, tuple) and kk[0] == "plan")}
        w.meta[k] = np.where(rng.random(len(vv)) < p, month, -1)
    return w.meta[k]


def visits(w: World, mi: int) -> pl.DataFrame:
    y, m = w.months[mi]
    rng = stream(w.seed, "visits", mi)
    q = w.quality(mi)
    gv, vv, key, hid = _hh_arrays(w)
    n = len(gv)
    dorm = dormant(w, mi)
    active = ~dorm[gv]
    kv = np.flatnonzero(key & active & (rng.random(n) < sigmoid(1.9 + 1.3 * q)[vv]))
    kv2 = kv[rng.random(len(kv)) < 0.15]
    plan = _ordinary_plan(w, y, (m - 1) // 3, mi - (m - 1) % 3)
    ov = np.flatnonzero(~key & active & (plan == (m - 1) % 3))
    h_idx = np.concatenate([kv, kv2, ov])
    G = len(w.g_code)
    npat = rng.poisson((2.0 + 3.0 * w.g_activity) * ~dorm)
    pat_g = np.repeat(np.arange(G), npat)
    nx = rng.poisson(0.8, len(w.v_code))
    xv = np.repeat(np.arange(len(w.v_code)), nx)
    xj_g = w.g_start[xv] + (rng.random(len(xv)) * w.g_count[xv]).astype(np.int64)
    grid = np.concatenate([gv[h_idx], pat_g, xj_g])
    vtype = np.concatenate([np.zeros(len(h_idx), np.int8), np.ones(len(pat_g), np.int8), np.full(len(xj_g), 2, np.int8)])
    hh = np.concatenate([h_idx, np.full(len(pat_g) + len(xj_g), -1)])
    k = len(grid)
    at = _times(rng, k, y, m, 8, 19)
    entered = at + _entry_delay(rng, k, sigmoid(-3.0 - 0.9 * q)[w.g_village[grid]])
    # 逐户走访 (worker plan, SPEC §6.1 caps): a grid's first worker visits every household, on time.
    fr = np.flatnonzero(np.isin(gv, w.meta["worker_plan"]["full_round"]) & active)
    frng = stream(w.seed, "full_round", mi)
    fr_at = _times(frng, len(fr), y, m, 8, 19)
    grid, hh = np.concatenate([grid, gv[fr]]), np.concatenate([hh, fr])
    vtype = np.concatenate([vtype, np.zeros(len(fr), np.int8)])
    at = np.concatenate([at, fr_at])
    entered = np.concatenate([entered, fr_at + frng.integers(2, 240, len(fr)) * 60])
    first = np.concatenate([np.zeros(k, bool), np.ones(len(fr), bool)])
    k = len(grid)
    order = np.argsort(at, kind="stable")
    grid, vtype, hh, at, entered, first = (a[order] for a in (grid, vtype, hh, at, entered, first))
    worker = np.where(first, _worker_arrays(w)[0][grid], np.array(_workers(w, grid, rng), dtype=object)).tolist()
    prefix = np.array(["ZF", "XC", "XJ"])[vtype]
    ids = pl.Series(prefix) + seq_ids("", y, m, k, 7)
    return pl.DataFrame({
        "record_id": ids,
        "grid": grid.astype(np.int32),
        "worker": worker,
        "household_id": pl.Series(np.where(hh >= 0, hid[np.maximum(hh, 0)], None).tolist(), dtype=pl.Utf8),
        "visit_type": np.array(VISIT_TYPES)[vtype].tolist(),
        "visited_at": at,
        "entered_at": entered,
    })


# Value sets come from sources.ENUMS (their order is the order the weights below are written in).
VISIT_TYPES = tuple(ENUMS["visit_type"])  # 走访, 巡查, 宣讲
EVENT_CATEGORIES = tuple(ENUMS["event_category"])
EVENT_WEIGHTS = np.array([0.14, 0.15, 0.2, 0.2, 0.07, 0.05, 0.11, 0.08])
EVENT_DEADLINE_DAYS = np.array([7, 3, 7, 15, 3, 15, 7, 7])
EVENT_SPEED = np.array([1.0, 0.7, 0.8, 2.0, 0.8, 2.5, 0.6, 1.0])
EVENT_SOURCES = tuple(ENUMS["event_source"])
SLACK_EVENTS = 3  # per slack grid and month (worker plan): open for a year, so overdue piles up
LEVELS = tuple(ENUMS["handling_level"])
SATISFACTION = tuple(v for v in ENUMS["satisfaction"] if v != "未回访")  # answers given at a callback


def _season_events(m: int) -> float:
    return {1: 1.15, 2: 1.2, 3: 1.05, 4: 1.05, 7: 1.1, 8: 1.1}.get(m, 1.0)


def events(w: World, mi: int) -> pl.DataFrame:
    y, m = w.months[mi]
    rng = stream(w.seed, "events", mi)
    qv = w.quality(mi)
    dorm = dormant(w, mi)
    G = len(w.g_code)
    cnt = rng.poisson((0.8 + 2.2 * w.g_activity) * _season_events(m) * ~dorm)
    g = np.repeat(np.arange(G), cnt)
    k = len(g)
    q = qv[w.g_village[g]]
    wts = EVENT_WEIGHTS.copy()
    if m in (1, 2, 3, 4):
        wts[0] *= 1.8
    cat = rng.choice(len(wts), k, p=wts / wts.sum())
    src = rng.choice(4, k, p=[0.55, 0.25, 0.12, 0.08])
    rep = _times(rng, k, y, m, 7, 22)
    entered = rep + _entry_delay(rng, k, sigmoid(-3.4 - 0.9 * q))
    acc = rep + np.maximum(5, rng.lognormal(np.log(120), 0.8, k) * np.exp(-0.3 * q)).astype(np.int64) * 60
    prog = acc + np.maximum(10, rng.lognormal(np.log(240), 0.7, k)).astype(np.int64) * 60
    med_h = 30 * np.exp(-0.45 * q) * EVENT_SPEED[cat]
    dur_h = rng.lognormal(np.log(med_h), 0.8)
    straggle = rng.random(k) < 0.03 * np.exp(-0.4 * q)
    dur_h = np.where(straggle, dur_h * rng.uniform(4, 12, k), dur_h)
    dur_h = np.minimum(dur_h, 80 * 24)
    closed = np.maximum(rep + (dur_h * 60).astype(np.int64) * 60, prog + 30 * 60)
    has_cb = rng.random(k) < sigmoid(2.0 + 0.6 * q)
    cb = np.where(has_cb, closed + rng.integers(12 * 60, 5 * 24 * 60, k) * 60, NONE)
    u = rng.random(k)
    p_bad = sigmoid(-3.2 - 0.8 * q)
    sat = np.where(u < p_bad, 2, np.where(u < p_bad + 0.15, 1, 0))
    pg = np.clip(0.55 + 0.1 * q, 0.3, 0.8)
    u2 = rng.random(k)
    level = np.where(u2 < pg, 0, np.where(u2 < pg + 0.3, 1, np.where(u2 < pg + 0.3 + 0.7 * (1 - pg - 0.3), 2, 3)))
    deadline = rep + EVENT_DEADLINE_DAYS[cat] * DAY
    settled = np.where(has_cb, cb, closed + 7 * DAY)
    # Worker plan (SPEC §6.1 overdue cap): a grid's last worker reports events that stay open ~a year.
    slack = np.array([gi for gi in w.meta["worker_plan"]["slack"] if not dorm[gi]], dtype=np.int64)
    srng = stream(w.seed, "slack", mi)
    ns = len(slack) * SLACK_EVENTS
    s_rep = _times(srng, ns, y, m, 8, 18)
    s_cat = np.full(ns, 3)  # 民生诉求
    s_closed = s_rep + 365 * DAY
    extra = {"g": np.repeat(slack, SLACK_EVENTS), "cat": s_cat, "src": np.zeros(ns, np.int64), "rep": s_rep,
             "entered": s_rep + srng.integers(2, 240, ns) * 60, "acc": s_rep + 3600, "prog": s_rep + 7200,
             "closed": s_closed, "cb": np.full(ns, NONE), "sat": np.zeros(ns, np.int64),
             "level": np.full(ns, 1), "deadline": s_rep + EVENT_DEADLINE_DAYS[s_cat] * DAY,
             "settled": s_closed + 7 * DAY}
    g, cat, src, rep, entered, acc, prog, closed, cb, sat, level, deadline, settled = (
        np.concatenate([a, extra[n]]) for a, n in (
            (g, "g"), (cat, "cat"), (src, "src"), (rep, "rep"), (entered, "entered"), (acc, "acc"), (prog, "prog"),
            (closed, "closed"), (cb, "cb"), (sat, "sat"), (level, "level"), (deadline, "deadline"),
            (settled, "settled")))
    is_slack = np.concatenate([np.zeros(k, bool), np.ones(ns, bool)])
    k = len(g)
    order = np.argsort(rep, kind="stable")
    g, cat, src, rep, entered, acc, prog, closed, cb, sat, level, deadline, settled, is_slack = (
        a[order] for a in (g, cat, src, rep, entered, acc, prog, closed, cb, sat, level, deadline, settled, is_slack))
    workers = np.where(is_slack, _worker_arrays(w)[1][g], np.array(_workers(w, g, rng), dtype=object))
    dept = np.array(names.DEPARTMENTS, dtype=object)[rng.integers(0, len(names.DEPARTMENTS), k)]
    reporter = np.where(src == 2, "12345热线平台", np.where(src == 3, dept, workers))
    return pl.DataFrame({
        "event_id": seq_ids("SJ", y, m, k, 6),
        "grid": g.astype(np.int32),
        "reporter": reporter.tolist(),
        "category": np.array(EVENT_CATEGORIES)[cat].tolist(),
        "source": np.array(EVENT_SOURCES)[src].tolist(),
        "level": np.array(LEVELS)[level].tolist(),
        "satisfaction": np.array(SATISFACTION)[sat].tolist(),
        "reported_at": rep, "entered_at": entered, "accepted_at": acc, "progress_at": prog,
        "closed_at": closed, "callback_at": cb, "deadline": deadline, "settled_at": settled,
    }, schema_overrides={"reporter": pl.Utf8})


def event_state(ev: pl.DataFrame, export: int) -> pl.DataFrame:
    """The events as they stood at `export` (epoch seconds): status, shown times, shown satisfaction."""
    E = export
    status = (pl.when(pl.col("callback_at").is_between(0, E)).then(pl.lit("已回访"))
              .when(pl.col("closed_at") <= E).then(pl.lit("已办结"))
              .when(pl.col("progress_at") <= E).then(pl.lit("处置中"))
              .when(pl.col("accepted_at") <= E).then(pl.lit("已受理"))
              .otherwise(pl.lit("已上报")))
    return ev.with_columns(status=status).with_columns(
        accepted_shown=pl.when(pl.col("status") != "已上报").then(pl.col("accepted_at")),
        closed_shown=pl.when(pl.col("status").is_in(["已办结", "已回访"])).then(pl.col("closed_at")),
        level_shown=pl.when(pl.col("status").is_in(["处置中", "已办结", "已回访"])).then(pl.col("level")),
        sat_shown=pl.when(pl.col("status") == "已回访").then(pl.col("satisfaction"))
        .when((pl.col("status") == "已办结") & (pl.col("callback_at") < 0) & (pl.col("closed_at") + 7 * DAY <= E))
        .then(pl.lit("未回访")),
    )


DISPUTE_TYPES = tuple(ENUMS["dispute_type"])
DISPUTE_WEIGHTS = np.array([0.24, 0.16, 0.12, 0.1, 0.08, 0.08, 0.1, 0.04, 0.08])
ORGS = tuple(ENUMS["mediation_org"])
RESULTS = tuple(v for v in ENUMS["mediation_result"] if v != "调解中")  # how a concluded case ends


def _season_disputes(m: int) -> float:
    return {1: 1.7, 2: 1.9, 3: 1.5, 4: 1.4, 12: 1.2}.get(m, 1.0)


def disputes(w: World, mi: int, ev: pl.DataFrame | None, population: np.ndarray) -> pl.DataFrame:
    y, m = w.months[mi]
    rng = stream(w.seed, "disputes", mi)
    q = w.quality(mi)
    lam = population / 1000 * 0.9 * _season_disputes(m) * np.exp(-0.25 * q)
    cnt = rng.poisson(lam)
    v = np.repeat(np.arange(len(w.v_code)), cnt)
    k = len(v)
    qv = q[v]
    wts = np.tile(DISPUTE_WEIGHTS, (k, 1))
    if m in (3, 4):
        wts[:, 2] *= 3.0  # land-contract season
    if m in (1, 2, 12):
        wts[:, [0, 1, 5]] *= 1.8  # family, neighbours, unpaid wages before the Spring Festival
    wts /= wts.sum(axis=1, keepdims=True)
    typ = (rng.random((k, 1)) > np.cumsum(wts, axis=1)).sum(axis=1)
    reg = month_start(y, m) + rng.integers(0, days_in(y, m), k) * DAY
    dur = np.maximum(0, rng.lognormal(np.log(6 * np.exp(-0.3 * qv)), 0.9)).astype(np.int64)
    dur = np.minimum(dur, 75)
    u = rng.random(k)
    p_ok = sigmoid(2.8 + 0.7 * qv)
    res = np.where(u < p_ok, 0, np.where(u < p_ok + (1 - p_ok) * 0.6, 1, 2))
    org = rng.choice(4, k, p=[0.7, 0.2, 0.05, 0.05])
    org = np.where(res == 2, np.maximum(org, 1), org)
    petition = rng.random(k) < sigmoid(-4.6 - 0.9 * qv)
    nparty = rng.choice([2, 2, 2, 3, 4], k)
    amount = np.where(rng.random(k) < 0.45, 0, np.round(rng.lognormal(np.log(4000), 1.0, k), -2)).astype(np.int64)
    people = names.person_names(rng, int(nparty.sum()) + k)
    parties, pos = [], 0
    for c in nparty.tolist():
        parties.append("、".join(people[pos:pos + c]))
        pos += c
    mediators = people[pos:pos + k]
    related = [None] * k
    if ev is not None and ev.height:
        conflict = ev.filter(pl.col("category") == "矛盾纠纷")
        by_v: dict[int, list[str]] = {}
        for eid, gi in zip(conflict["event_id"].to_list(), conflict["grid"].to_list(), strict=True):
            by_v.setdefault(int(w.g_village[gi]), []).append(eid)
        for i, vi in enumerate(v.tolist()):
            if vi in by_v and rng.random() < 0.35:
                lst = by_v[vi]
                related[i] = lst[int(rng.integers(len(lst)))]
    order = np.lexsort((v, reg))
    t3 = [w.townships[int(w.v_township[vi])]["code"][-3:] for vi in v[order].tolist()]
    seq: dict[str, int] = {}
    ids = []
    for t in t3:
        seq[t] = seq.get(t, 0) + 1
        ids.append(f"JF{y}{m:02d}{t}{seq[t]:03d}")
    oi = order.tolist()
    return pl.DataFrame({
        "case_id": ids,
        "village": v[order].astype(np.int32),
        "registered_on": reg[order],
        "dispute_type": np.array(DISPUTE_TYPES)[typ[order]].tolist(),
        "parties": [parties[i] for i in oi],
        "party_count": nparty[order],
        "amount": amount[order],
        "org": np.array(ORGS)[org[order]].tolist(),
        "mediator": [mediators[i] for i in oi],
        "result": np.array(RESULTS)[res[order]].tolist(),
        "concluded_on": (reg + dur * DAY)[order],
        "petition": petition[order],
        "related_event_id": pl.Series([related[i] for i in oi], dtype=pl.Utf8),
    })


POINT_ITEMS = (  # (item, category, points, weight)
    ("参加主题党日活动", "党建引领", 5, 6), ("参加村民代表会议", "党建引领", 3, 4),
    ("无违法违纪记录", "遵纪守法", 2, 5), ("违反村规民约", "遵纪守法", -5, 1.2),
    ("庭院整洁评比达标", "人居环境", 3, 10), ("垃圾分类投放", "人居环境", 2, 8), ("乱堆乱放", "人居环境", -2, 2.5),
    ("红白事简办", "文明新风", 5, 3), ("孝老爱亲", "文明新风", 5, 4), ("大操大办", "文明新风", -10, 0.5),
    ("参加夜间巡逻", "平安建设", 3, 5), ("协助调解邻里纠纷", "平安建设", 5, 2),
    ("参加志愿服务", "公益志愿", 5, 8), ("义务修路清渠", "公益志愿", 4, 4),
    ("发展特色种养", "产业发展", 10, 2), ("参加技能培训", "产业发展", 3, 4),
)
CUSTOM_ITEMS = {"孝善敬老": ("看望孤寡老人", 5), "产业帮扶": ("带动脱贫户务工", 8),
                "护林防火": ("参加护林巡查", 3), "美丽庭院": ("获评美丽庭院", 6)}
REDEEM_ITEMS = (("洗衣粉", 10), ("食用油", 30), ("大米(10斤)", 40), ("毛巾", 8), ("牙膏", 6), ("酱油", 8),
                ("电饭煲", 200), ("保温杯", 50), ("农资优惠券", 100))


def points(w: World, mi: int) -> pl.DataFrame:
    y, m = w.months[mi]
    rng = stream(w.seed, "points", mi)
    q = w.quality(mi)
    _, vv, _, hid = _hh_arrays(w)
    n = len(vv)
    part = rng.random(n) < sigmoid(0.6 + 1.0 * q)[vv]
    cnt = np.where(part, 1 + rng.poisson(0.35, n), 0)
    h = np.repeat(np.arange(n), cnt)
    k = len(h)
    wt = np.array([x[3] for x in POINT_ITEMS], dtype=float)
    item_i = rng.choice(len(POINT_ITEMS), k, p=wt / wt.sum())
    item = np.array([x[0] for x in POINT_ITEMS], dtype=object)[item_i]
    cat = np.array([x[1] for x in POINT_ITEMS], dtype=object)[item_i]
    pts = np.array([x[2] for x in POINT_ITEMS])[item_i]
    # Villages with their own category use it for some records.
    custom = np.array([c or "" for c in w.v_custom_category], dtype=object)[vv[h]]
    use_c = (custom != "") & (rng.random(k) < 0.2)
    for c, (it, p) in CUSTOM_ITEMS.items():
        sel = use_c & (custom == c)
        item[sel], cat[sel], pts[sel] = it, c, p
    occ = month_start(y, m) + rng.integers(0, days_in(y, m), k) * DAY
    late = rng.random(k) < sigmoid(-3.0 - 0.9 * q[vv[h]])
    delay = np.where(late, rng.integers(4, 15, k), rng.choice([0, 0, 0, 1, 1, 2, 3], k))
    ent = occ + delay * DAY
    reviewed = ent + rng.integers(2, 11, k) * DAY
    rejected = rng.random(k) < 0.04
    confirmed = np.where(rejected, NONE, reviewed + 7 * DAY)
    settled = np.where(rejected, reviewed, confirmed)
    order = np.argsort(occ, kind="stable")
    h, item, cat, pts, occ, ent, reviewed, rejected, confirmed, settled = (
        a[order] for a in (h, item, cat, pts, occ, ent, reviewed, rejected, confirmed, settled))
    return pl.DataFrame({
        "record_id": seq_ids("JL", y, m, k, 7),
        "household_id": pl.Series(hid[h], dtype=pl.Utf8),
        "village": vv[h].astype(np.int32),
        "item": item.tolist(), "category": cat.tolist(), "points": pts.astype(np.int64),
        "occurred_on": occ, "entered_on": ent, "reviewed_on": reviewed, "rejected": rejected,
        "confirmed_on": confirmed, "settled_at": settled,
    })


def points_state(p: pl.DataFrame, export: int) -> pl.DataFrame:
    E = export
    st = (pl.when(pl.col("rejected") & (pl.col("reviewed_on") <= E)).then(pl.lit("已驳回"))
          .when(pl.col("confirmed_on").is_between(0, E)).then(pl.lit("已确认"))
          .when(pl.col("reviewed_on") <= E).then(pl.lit("已公示"))
          .otherwise(pl.lit("待审核")))
    return p.with_columns(review_status=st)


def redemptions(w: World, mi: int) -> pl.DataFrame:
    y, m = w.months[mi]
    rng = stream(w.seed, "redeem", mi)
    q = w.quality(mi)
    _, vv, _, hid = _hh_arrays(w)
    n = len(vv)
    sel = np.flatnonzero(rng.random(n) < 0.05 * sigmoid(0.6 + 1.0 * q)[vv] * 1.6)
    k = len(sel)
    it = rng.choice(len(REDEEM_ITEMS), k, p=np.array([8, 6, 4, 6, 6, 6, 0.5, 2, 1]) / 39.5)
    day = month_start(y, m) + rng.integers(0, days_in(y, m), k) * DAY
    order = np.argsort(day, kind="stable")
    sel, it, day = sel[order], it[order], day[order]
    return pl.DataFrame({
        "redemption_id": seq_ids("DH", y, m, k, 6),
        "household_id": pl.Series(hid[sel], dtype=pl.Utf8),
        "village": vv[sel].astype(np.int32),
        "item": [REDEEM_ITEMS[i][0] for i in it.tolist()],
        "points_spent": np.array([REDEEM_ITEMS[i][1] for i in it.tolist()], dtype=np.int64),
        "redeemed_on": day,
    })

