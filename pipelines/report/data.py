"""What the monthly pack shows, gathered once through the scoped read gateway (pipelines.warehouse).

``collect(scope, period, unit_code)`` checks the request (period, unit, published data) and returns a
:class:`PackData`: plain frames and a few derived figures (what improved and slipped most since last
month, the biggest risers and fallers and the indicator behind each move). The renderers — pdf.py,
xlsx.py and the dashboard preview — only lay it out, so the three always show the same numbers.
Trend data stops at the pack's month: a pack for March shows nothing of April.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import pandas as pd

from pipelines import formats
from pipelines import warehouse as wh
from pipelines.errors import UserError
from pipelines.report.text import incomplete_text, missing, period_zh, prev_period

PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
TREND_MONTHS = 12  # months of history in the charts
TOP_MOVERS = 5


@dataclass
class GroupTable:
    """One indicator group (catalogue `group`) vs target: a row per unit (the pack's area, its
    townships in a county pack, every village), a column per indicator of the group."""

    group: object  # catalogue Group
    indicators: list
    rows: pd.DataFrame  # level, code, name, township_name, then one value column per indicator id
    low_n: pd.DataFrame  # same index and indicator columns: True where the village rate is low n
    lights: pd.DataFrame  # same index and indicator columns: green / amber / red / grey / none


@dataclass
class PackData:
    scope: wh.Scope
    period: str
    unit: wh.Unit  # the pack's area: the county, a township (or a village for a village account)
    county_name: str
    generated_at: datetime
    snapshot: dict
    kpis: pd.DataFrame  # every catalogue indicator for the area (warehouse.kpis)
    improved: dict | None
    slipped: dict | None
    has_prev: bool
    league: pd.DataFrame
    risers: pd.DataFrame
    fallers: pd.DataFrame
    groups: list[GroupTable]
    score_trend: pd.DataFrame  # area-level per month
    township_trend: pd.DataFrame  # per month and township (county packs)
    disputes: pd.DataFrame  # per month and type
    counts: dict
    reporting: pd.DataFrame  # by village: grids, active grids, records, timely share
    files: pd.DataFrame | None = None  # county packs for county accounts only
    quarantine: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    workers: pd.DataFrame | None = None  # grid workers' league of the area (张榜公示 pages, SPEC §6.1)
    incomplete: str | None = None  # the warning when the month is incomplete (warehouse.completeness)

    @property
    def headline(self) -> pd.DataFrame:
        """Indicators with a target: the cover's table."""
        k = self.kpis
        return k[k["target"].notna() & (k["direction"] != "none")].reset_index(drop=True)

    @property
    def boards(self) -> dict[str, int]:
        lg = self.league
        return {
            "ranked": int(lg["rank"].notna().sum()),
            "red": int((lg["board"] == "red").sum()),
            "black": int((lg["board"] == "black").sum()),
            "veto": int(lg["veto"].fillna(False).astype(bool).sum()),
        }

    @property
    def area_name(self) -> str:
        if self.unit.level == "county":
            return self.unit.name
        return f"{self.county_name}{self.unit.name}"


# ---------------------------------------------------------------------------------------------
# Entry points


def county_scope() -> wh.Scope:
    """The deployment's county scope (one county per warehouse): the CLI runs as the county office."""
    try:
        con = wh.default_connection()
        return wh.Scope("county", wh.first_units(con)["county"]["code"])
    except wh.NoData:
        raise UserError(
            f"尚无已发布的数据，请先运行 xiangzhi ingest / no published data yet ({wh.published_path()}): "
            "run `xiangzhi ingest` first"
        ) from None
    except wh.Unavailable:
        raise UserError("数据正在更新，请稍后重试 / the published data is being replaced: retry shortly") from None
    except (TypeError, IndexError, duckdb.Error):
        raise UserError(
            f"已发布的数据中没有区划信息 / the published warehouse has no county ({wh.published_path()})"
        ) from None


def check_township(scope: wh.Scope, township: str | None) -> str | None:
    """The township code if it is one of the scope's townships; else a UserError naming the choices."""
    if township is None:
        return None
    towns = wh.townships(scope)
    codes = dict(zip(towns["township_code"], towns["name"], strict=True))
    if township not in codes:
        choices = "，".join(f"{c} {n}" for c, n in codes.items())
        raise UserError(
            f"乡镇代码 {township} 不存在（可选：{choices}）/ unknown township code {township!r}; "
            f"expected one of {', '.join(codes)}"
        )
    return township


def check_period(scope: wh.Scope, period: str) -> list[str]:
    if not isinstance(period, str) or not PERIOD_RE.match(period):
        raise UserError(f"月份格式应为 YYYY-MM，例如 2025-06 / period must be YYYY-MM, got {period!r}")
    periods = wh.periods(scope)
    if period not in periods:
        have = f"{periods[0]} … {periods[-1]}" if periods else "无 / none"
        raise UserError(
            f"没有 {period_zh(period)} 的数据（已有月份：{have}）/ no data for {period} (months present: {have})"
        )
    return periods


def collect(scope: wh.Scope, period: str, unit_code: str | None = None, *, now: datetime | None = None,
            top: int = TOP_MOVERS) -> PackData:
    """Gather the pack for the scope's area or one unit inside it (a township, or a village for a
    village account). Bad requests raise UserError with a Chinese + English message."""
    try:
        return _collect(scope, period, unit_code, now=now, top=top)
    except wh.NoData:
        raise UserError(
            f"尚无已发布的数据，请先运行 xiangzhi ingest / no published data yet ({wh.published_path()}): "
            "run `xiangzhi ingest` first"
        ) from None
    except wh.ScopeError as e:
        raise UserError(f"所选单位不在权限范围内 / the unit is outside the scope: {e}") from None


def _collect(scope: wh.Scope, period: str, unit_code: str | None, *, now: datetime | None, top: int) -> PackData:
    periods = check_period(scope, period)
    unit = _resolve(scope, unit_code)
    # Accounts below the county cannot open the county's row: their packs are titled by their own unit.
    county_name = wh.resolve_unit(scope).name if scope.role == "county" else ""
    has_prev = prev_period(period) in periods
    code = unit.code

    kpis = wh.kpis(scope, period, code)
    improved, slipped = _most_changed(kpis) if has_prev else (None, None)

    league = wh.league_table(scope, period, code)
    if has_prev:
        prev = wh.league_table(scope, prev_period(period), code)[["village_code", "score"]]
        league = league.merge(prev.rename(columns={"score": "prev_score"}), on="village_code", how="left")
    else:
        league["prev_score"] = float("nan")
    league["score_change"] = league["score"] - league["prev_score"]
    risers, fallers = _movers(scope, league, period, code, top) if has_prev else (league.iloc[0:0], league.iloc[0:0])

    groups = _group_tables(scope, period, unit)
    trend, by_town = _score_trend(scope, code, period)
    disputes = wh.dispute_types(scope, code)
    first = prev_period(period, TREND_MONTHS - 1)
    disputes = disputes[(disputes["period"] <= period) & (disputes["period"] >= first)].reset_index(drop=True)
    counts = wh.month_counts(scope, period, code).iloc[0].to_dict()
    reporting = _reporting(scope, period, code)

    snap = wh.snapshot(scope)
    st = wh.stamp()
    snapshot = {
        "batch_id": snap["batch_id"].iloc[0] if len(snap) else None,
        "finished_at": snap["finished_at"].iloc[0] if len(snap) else None,
        "published_at": datetime.fromtimestamp(st[2] / 1e9).replace(microsecond=0) if st else None,
    }
    data = PackData(
        scope=scope, period=period, unit=unit, county_name=county_name,
        generated_at=(now or datetime.now()).replace(microsecond=0), snapshot=snapshot, kpis=kpis,
        improved=improved, slipped=slipped, has_prev=has_prev, league=league, risers=risers, fallers=fallers,
        groups=groups, score_trend=trend, township_trend=by_town, disputes=disputes, counts=counts,
        reporting=reporting,
    )
    data.workers = wh.worker_league(scope, period, code)
    comp = wh.completeness(scope, code)
    row = comp[comp["period"] == period]
    if len(row) and not bool(row["complete"].iloc[0]):
        data.incomplete = incomplete_text(period, row["share"].iloc[0], row["usual"].iloc[0])
    if scope.role == "county" and unit.level == "county":
        data.files = wh.period_files(scope, period)
        data.quarantine = wh.period_quarantine(scope, period)
    else:
        data.notes.append("导入文件与隔离明细见全县通报（仅县级账号可见）。")
    return data


def _resolve(scope: wh.Scope, unit_code: str | None) -> wh.Unit:
    if not unit_code or unit_code == scope.code:
        return wh.resolve_unit(scope)
    if len(unit_code) == 9:
        return wh.resolve_unit(scope, unit_code)
    if len(unit_code) == 12:
        return wh.resolve_unit(scope, None, unit_code)
    raise UserError(f"无法识别的单位代码 {unit_code} / not a township or village code: {unit_code!r}")


# ---------------------------------------------------------------------------------------------
# Derived figures


def _most_changed(kpis: pd.DataFrame) -> tuple[dict | None, dict | None]:
    """The headline indicator that improved most and the one that slipped most since last month.

    Changes are made comparable by scaling them to the target (percentage points for shares, whose
    target is a share; hours against the 72-hour target; petitions against their tolerance).
    Quarter-to-date rates restart each quarter, so their month-on-month change says nothing."""
    best, worst = None, None
    for r in kpis.itertuples(index=False):
        if r.direction not in ("higher", "lower") or missing(r.target) or r.target_at == "quarter_end":
            continue
        if missing(r.value) or missing(r.prev_value) or (not missing(r.low_n) and bool(r.low_n)):
            continue  # a low-n village rate is greyed everywhere: not a headline move either
        if bool(getattr(r, "lag", False)):
            continue  # records still awaiting review move it: lag, not a headline (#14 defect 5)
        sign = 1.0 if r.direction == "higher" else -1.0
        if formats.is_share(r.unit):
            scale = 1.0
        elif r.target:
            scale = abs(float(r.target))
        else:
            scale = float(_tolerance(r.indicator_id) or 1.0)
        gain = sign * (float(r.value) - float(r.prev_value)) / scale
        row = {"indicator_id": r.indicator_id, "name_zh": r.name_zh, "value": r.value, "prev_value": r.prev_value,
               "delta": float(r.value) - float(r.prev_value), "gain": gain}
        if gain > 0 and (best is None or gain > best["gain"]):
            best = row
        if gain < 0 and (worst is None or gain < worst["gain"]):
            worst = row
    return best, worst


def _tolerance(indicator_id: str) -> float | None:
    return wh.catalogue()[indicator_id].tolerance


def _movers(scope: wh.Scope, league: pd.DataFrame, period: str, code: str, top: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    # A village whose move is lag (points awaiting review, the quarter restart) is not headlined in the
    # pack either: the same rule as the overview page (warehouse.village_movers, #14 defect 5).
    movers = wh.village_movers(scope, period, code)
    headline = set(movers.loc[movers["headline"], "village_code"])
    ranked = league[league["rank_change"].notna() & league["village_code"].isin(headline)]
    risers = ranked[ranked["rank_change"] > 0].sort_values(["rank_change", "score"], ascending=[False, False])
    fallers = ranked[ranked["rank_change"] < 0].sort_values(["rank_change", "score"], ascending=[True, True])
    out = []
    for df, direction in ((risers.head(top), 1), (fallers.head(top), -1)):
        df = df.copy()
        df["driver"] = [_driver(scope, v, period, direction) for v in df["village_code"]]
        out.append(df.reset_index(drop=True))
    return out[0], out[1]


def _driver(scope: wh.Scope, village_code: str, period: str, direction: int) -> str:
    """The weighted indicator whose weighted attainment moved most in the direction of the village's
    move, as '事件办结率 60.0%→95.0%' (from the scorecard of both months)."""
    from pipelines.report.text import fmt_value

    now = wh.scorecard(scope, village_code, period)
    before = wh.scorecard(scope, village_code, prev_period(period))
    if now.empty or before.empty:
        return ""
    m = now.merge(before, on="indicator_id", suffixes=("", "_prev"))
    m = m[m["counted"].fillna(False).astype(bool) & m["counted_prev"].fillna(False).astype(bool)]
    if m.empty:
        return ""
    m = m.assign(move=(m["attainment"] - m["attainment_prev"]) * m["weight"] * direction)
    best = m.sort_values("move", ascending=False).iloc[0]
    if not best["move"] > 0:
        return ""
    ind = wh.catalogue()[best["indicator_id"]]
    return f"{ind.name_zh} {fmt_value(best['value_prev'], ind)}→{fmt_value(best['value'], ind)}"


def _group_tables(scope: wh.Scope, period: str, unit: wh.Unit) -> list[GroupTable]:
    cat = wh.catalogue()
    township = unit.code if unit.level == "township" else None
    villages = wh.villages(scope, township) if unit.level != "village" else wh.villages(scope)
    if unit.level == "village":
        villages = villages[villages["village_code"] == unit.code]
    long = wh.village_indicators(scope, period, unit.code)
    rows = [{"level": unit.level, "code": unit.code, "name": unit.name, "township_name": ""}]
    unit_values = {unit.code: wh.kpis(scope, period, unit.code)}
    town_order = list(dict.fromkeys(villages["township_code"]))
    for tcode in town_order:
        vs = villages[villages["township_code"] == tcode]
        if unit.level == "county":
            rows.append({"level": "township", "code": tcode, "name": vs["township_name"].iloc[0], "township_name": ""})
            unit_values[tcode] = wh.kpis(scope, period, tcode)
        if unit.level != "village":
            rows += [{"level": "village", "code": c, "name": n, "township_name": t}
                     for c, n, t in zip(vs["village_code"], vs["name"], vs["township_name"], strict=True)]
    frame = pd.DataFrame(rows)
    all_values = pd.concat([long, *unit_values.values()], ignore_index=True).drop_duplicates(
        ["unit_code", "indicator_id"])
    # one dict lookup per cell: pandas .loc per cell is ~1000× slower at county scale
    cells = {(u, i): (v, n, li) for u, i, v, n, li in zip(
        all_values["unit_code"], all_values["indicator_id"], all_values["value"], all_values["low_n"],
        all_values["light"], strict=True)}
    out = []
    for g in cat.groups:
        inds = cat.in_group(g.id)
        if not inds:
            continue
        vals, lows, lights = frame[["level", "code", "name", "township_name"]].copy(), {}, {}
        for ind in inds:
            got = [cells.get((code, ind.id), (float("nan"), False, "grey")) for code in frame["code"]]
            vals[ind.id] = [c[0] for c in got]
            lows[ind.id] = [bool(c[1]) if not missing(c[1]) else False for c in got]
            lights[ind.id] = [c[2] for c in got]
        out.append(GroupTable(g, inds, vals, pd.DataFrame(lows, index=frame.index),
                              pd.DataFrame(lights, index=frame.index)))
    return out


def _score_trend(scope: wh.Scope, code: str, period: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    st = wh.score_trend(scope, code)
    first = prev_period(period, TREND_MONTHS - 1)
    st = st[(st["period"] <= period) & (st["period"] >= first)].reset_index(drop=True)
    st["score_sum"] = st["score_mean"] * st["villages"]
    area = st.groupby("period", as_index=False).agg(
        villages=("villages", "sum"), score_sum=("score_sum", "sum"), score_min=("score_min", "min"),
        score_max=("score_max", "max"), red=("red", "sum"), black=("black", "sum"), vetoes=("vetoes", "sum"),
    )
    area["score_mean"] = area["score_sum"] / area["villages"].where(area["villages"] > 0)
    return area.drop(columns="score_sum"), st.drop(columns="score_sum")


def _reporting(scope: wh.Scope, period: str, code: str) -> pd.DataFrame:
    g = wh.reporting_by_grid(scope, period, code)
    if g.empty:
        return pd.DataFrame(columns=["village_code", "village_name", "grids", "active", "visits", "events",
                                     "timely_rate"])
    g = g.assign(records=g["visits"] + g["events"], timely=g["timely_rate"].fillna(0) * (g["visits"] + g["events"]),
                 active=g["active"].astype(bool))
    out = g.groupby(["village_code", "village_name"], as_index=False, dropna=False).agg(
        grids=("grid_code", "count"), active=("active", "sum"), visits=("visits", "sum"), events=("events", "sum"),
        records=("records", "sum"), timely=("timely", "sum"),
    )
    out["timely_rate"] = out["timely"] / out["records"].where(out["records"] > 0)
    return out.drop(columns=["timely", "records"]).sort_values("village_code").reset_index(drop=True)
