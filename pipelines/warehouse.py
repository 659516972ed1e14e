"""The one read gateway to the published warehouse (SPEC §4, §7).

Everything downstream of publish — dashboard pages, the meeting pack, notebooks — reads through this
module. Its rules:

- it opens only the published copy (``config.paths().published``), read-only, a cursor per query
  (one DuckDB connection shared by threads fails with "connection is busy");
- every value is bound as a parameter; the few identifiers that vary come from allow-lists;
- every public query function takes a :class:`Scope` first and filters by it in SQL, so a township
  account never sees another township's rows, whatever the UI sends. Codes passed in (township,
  village, unit) are checked against the scope too and raise :class:`ScopeError`.

Query functions return pandas frames: their consumers (Streamlit, plotly, pydeck, xlsxwriter) are
pandas-native. The connection argument is optional: by default a connection to the current
published file is opened and kept until the file is replaced (new inode/mtime), so a newly published
copy is picked up without a restart.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from pipelines import config, formats

# ---------------------------------------------------------------------------------------------
# Scope


ROLES: dict[str, int] = {"county": 6, "township": 9, "village": 12, "province": 2}  # province: lake view (§4.1)
# Code length → administrative level (SPEC §2: grid = village code + 3 digits).
LEVEL_BY_LENGTH: dict[int, str] = {6: "county", 9: "township", 12: "village", 15: "grid"}

# Pipeline bookkeeping tables carry no division code: they are shown to county accounts only.
# (tests/test_warehouse_scope.py fails for any query returning no division code that is not listed
# here or in NO_DIVISION_DATA.)
COUNTY_ONLY = frozenset({"load_batches", "load_files", "quarantine_by_reason", "validation_results",
                         "period_files", "period_quarantine", "batch_quarantine"})
COUNTY_ONLY = COUNTY_ONLY | {"quarantine_rows"}  # dashboard-glance (#14 defect 10): rows on 数据质量
# Queries whose rows hold no division data at all (batch ids and times), visible to every account.
NO_DIVISION_DATA = frozenset({"snapshot"})


# Account roles (SPEC §7). A clerk 信息员 uploads for a township or the county and reads what an
# account of that level reads: scope_for() maps it onto the township or county Scope, so every query
# below treats a clerk exactly like that level and no query needs to know clerks exist.
CLERK = "clerk"
USER_ROLES: dict[str, tuple[int, ...]] = {**{r: (n,) for r, n in ROLES.items()}, CLERK: (9, 6)}


def scope_for(role: str, code: str) -> Scope:
    """The data Scope of an account: its own role's, or for a clerk the level its code names."""
    if role == CLERK:
        level = LEVEL_BY_LENGTH.get(len(code)) if isinstance(code, str) else None
        if level not in ("county", "township"):
            raise ValueError(f"clerk scope needs a 6- or 9-digit code, got {code!r}")
        return Scope(level, code)
    return Scope(role, code)


class ScopeError(PermissionError):
    """A code outside the signed-in scope was asked for."""


class NoData(Exception):
    """No published warehouse yet (run `xiangzhi ingest`)."""


class Unavailable(Exception):
    """The published copy could not be opened (e.g. it is being swapped): retry shortly."""


@dataclass(frozen=True)
class Scope:
    """What a signed-in user may see: a role and a division-code prefix (county 6, township 9,
    village 12 digits). A row belongs to the scope when its division code starts with the prefix."""

    role: str
    code: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; expected one of {sorted(ROLES)}")
        if not (isinstance(self.code, str) and self.code.isdigit() and len(self.code) == ROLES[self.role]):
            raise ValueError(f"{self.role} scope needs a {ROLES[self.role]}-digit code, got {self.code!r}")

    def allows(self, code: str | None) -> bool:
        return bool(code) and str(code).startswith(self.code)

    def check(self, code: str | None) -> str:
        """Return the code if it is inside the scope, else raise ScopeError."""
        if not self.allows(code):
            raise ScopeError(f"{code!r} 不在当前账号的权限范围内 / outside scope {self.code}")
        return str(code)


@dataclass(frozen=True)
class Unit:
    level: str  # county / township / village
    code: str
    name: str


# ---------------------------------------------------------------------------------------------
# Connections


def published_path() -> Path:
    return config.paths().published


def stamp(path: Path | str | None = None) -> tuple[str, int, int, int] | None:
    """Identity of the published file (path, inode, mtime, size); None when it does not exist.

    Publishing writes a new file and renames it over, so a new copy always changes the inode."""
    p = Path(path) if path else published_path()
    try:
        s = os.stat(p)
    except FileNotFoundError:
        return None
    return (str(p), s.st_ino, s.st_mtime_ns, s.st_size)


def connect(path: Path | str | None = None, retries: int = 3) -> duckdb.DuckDBPyConnection:
    """Open the published copy read-only. NoData when absent, Unavailable when it cannot be opened
    (a swap in progress), after a few short retries."""
    p = Path(path) if path else published_path()
    last: Exception | None = None
    for attempt in range(retries):
        if not p.exists():
            if attempt == retries - 1:
                raise NoData(str(p))
        else:
            try:
                return duckdb.connect(str(p), read_only=True)
            except (duckdb.Error, OSError) as e:  # lock held or half-written file
                last = e
        time.sleep(0.2)
    if not p.exists():
        raise NoData(str(p))
    raise Unavailable(f"{p}: {last}")


_lock = threading.Lock()
_default: dict[str, Any] = {"stamp": None, "con": None}


def default_connection() -> duckdb.DuckDBPyConnection:
    """A connection to the current published file, reopened when the file is replaced.

    DuckDB keeps one database instance per path in a process: while any connection to the old
    file is open, connecting to the same path returns the *old* data. So the old connection is
    closed (which closes its cursors) before the new one is opened; a query caught in between fails
    with a ConnectionException and is retried once by ``_q``. This is also why the dashboard does
    not keep connections in st.cache_resource: it cannot close the old entry before creating the new."""
    s = stamp()
    if s is None:
        _close_default()
        raise NoData(str(published_path()))
    with _lock:
        if _default["stamp"] != s or _default["con"] is None:
            _close_default_locked()
            _default["con"] = connect(s[0])
            _default["stamp"] = s
        return _default["con"]


def _close_default() -> None:
    with _lock:
        _close_default_locked()


def _close_default_locked() -> None:
    old = _default["con"]
    _default["con"], _default["stamp"] = None, None
    if old is not None:
        old.close()


def _month_bounds(period: str) -> tuple[date, date]:
    """First day of the month and of the next: range predicates let DuckDB skip row groups by their
    min/max, which strftime(col) = 'YYYY-MM' cannot (0.5 s → ms on a million visits)."""
    y, m = int(period[:4]), int(period[5:7])
    return date(y, m, 1), date(y + m // 12, m % 12 + 1, 1)


def _bind(sql: str, params: dict | None) -> dict:
    """Only the parameters the statement names (DuckDB refuses extra ones), plus the month bounds
    of $p when the statement uses $m0/$m1."""
    params = dict(params or {})
    if "$m0" in sql and "p" in params:
        params["m0"], params["m1"] = _month_bounds(params["p"])
    return {k: v for k, v in params.items() if f"${k}" in sql}


_NULLABLE_INT = {f"{u}int{n}": f"{u.upper()}Int{n}" for u in ("", "u") for n in (8, 16, 32, 64)}


def _arrow_frame(table) -> pd.DataFrame:
    """An Arrow result as pandas with ``.df()``'s dtypes: Arrow turns an integer column holding NULLs
    into floats (12.0 in a tooltip), a boolean one into objects, decimals into Decimal and dates into
    date objects; they become pandas' nullable Int/boolean, floats and datetimes, as ``.df()`` gives."""
    df = table.to_pandas()
    for i, field in enumerate(table.schema):
        if pa.types.is_decimal(field.type):
            df[field.name] = df[field.name].astype("float64")
        elif pa.types.is_date(field.type):
            df[field.name] = pd.to_datetime(df[field.name]).astype("datetime64[us]")
        elif table.column(i).null_count and (pa.types.is_integer(field.type) or pa.types.is_boolean(field.type)):
            df[field.name] = table.column(i).to_pandas(types_mapper=pd.ArrowDtype).astype(
                "boolean" if pa.types.is_boolean(field.type) else _NULLABLE_INT[str(field.type)])
    return df


def _q(con: duckdb.DuckDBPyConnection | None, sql: str, params: dict | None = None, *,
       arrow: bool = False) -> pd.DataFrame:
    """Run one statement on a fresh cursor. ``arrow``: through Arrow, for results of thousands of rows
    with many text columns (the league's cells, the map's grids and events), where it converts in
    ~½–¾ of ``.df()``'s time, with the same dtypes (_arrow_frame)."""
    params = _bind(sql, params)
    for attempt in (0, 1):
        try:
            cur = (con or default_connection()).cursor()
            try:
                if arrow:
                    return _arrow_frame(cur.sql(sql, params=params or None).to_arrow_table())
                return cur.execute(sql, params or {}).df()
            finally:
                cur.close()
        except duckdb.ConnectionException:
            # the published copy was swapped under this query: reopen once (default connection only)
            if con is not None or attempt:
                raise
    raise AssertionError("unreachable")


# ---------------------------------------------------------------------------------------------
# Indicator catalogue (owned by pipelines/catalogue.py; never hard-code a target here)


_cat_cache: dict[str, Any] = {"key": None, "cat": None}


def catalogue():
    """The indicator catalogue (names, targets, directions, weights) the published marts were computed
    from: the cfg_* tables of the published copy (catalogue.from_tables), so every page and the pack
    show the targets and lights the scores used, even after the YAML was edited and before the next
    ingest rebuilds the marts (#18 item 3). Before anything is published, the YAML.

    Kept until the published file (or, without one, the YAML) changes: parsing takes ~0.2 s."""
    from pipelines.catalogue import catalogue_path, from_tables, load_catalogue

    s = stamp()
    if s is not None:
        if _cat_cache["key"] != s:
            try:  # the shared connection: it is the one reopened when the file is replaced
                with default_connection().cursor() as cur:
                    cat = from_tables(cur, s[0])
            except (duckdb.Error, NoData, Unavailable):  # mid-swap: the YAML this once, retried next call
                cat = None
            if cat is not None:
                _cat_cache["cat"], _cat_cache["key"] = cat, s
                return cat
        else:
            return _cat_cache["cat"]
    p = catalogue_path()
    try:
        key = (str(p), os.stat(p).st_mtime_ns)
    except OSError:
        key = None
    if key is None or _cat_cache["key"] != key:
        _cat_cache["cat"], _cat_cache["key"] = load_catalogue(p), key
    return _cat_cache["cat"]


def indicators() -> list:
    """Catalogue indicators in catalogue order."""
    return list(catalogue().indicators)


def _is_quarter_end(period: str | None) -> bool:
    return period is not None and int(period[5:7]) % 3 == 0


def light(value: float | None, ind, low_n: bool = False, period: str | None = None) -> str:
    """Traffic light against the catalogue target: green at target, amber within 10 % of it (by
    attainment), red below; grey for low n or no value; 'none' without a target (or for a
    quarter-end target outside a quarter's last month)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or low_n:
        return "grey"
    if ind.target_at == "quarter_end" and period is not None and not _is_quarter_end(period):
        return "none"
    a = ind.attainment(value)
    if a is None:
        return "none"
    return "green" if a >= 1.0 else "amber" if a >= 0.9 else "red"


# ---------------------------------------------------------------------------------------------
# Units (sidebar choices) — validated against the scope here, not only in the UI


def periods(scope: Scope, *, con=None) -> list[str]:
    """Months present in the published indicators for the scope, ascending."""
    df = _q(
        con,
        "select distinct period from indicator_values where starts_with(unit_code, $s) order by period",
        {"s": scope.code},
    )
    return df["period"].tolist()



# Reporting completeness (#14 defect 4). A month is incomplete while fewer grids have reported in it
# than usually do: the share of grids with a visit or an event (grid_active_rate of the unit) below
# INCOMPLETE_BELOW × the median share of the earlier months (up to USUAL_MONTHS of them). The first
# month has no usual: it counts as complete. A partly loaded month is then flagged on every page and
# in the pack, and never opens the dashboard by default (dashboard.state.default_period).
INCOMPLETE_BELOW = 0.8
USUAL_MONTHS = 6


def completeness(scope: Scope, unit_code: str | None = None, *, con=None) -> pd.DataFrame:
    """Per month, ascending: period, share of grids reporting, the usual share, complete (bool)."""
    code = _unit(scope, unit_code)
    df = _q(
        con,
        """select p.period, $u as unit_code, i.value as share
           from (select distinct period from indicator_values where starts_with(unit_code, $s)) p
           left join indicator_values i on i.period = p.period and i.unit_code = $u
             and i.indicator_id = 'grid_active_rate'
           order by p.period""",
        {"u": code, "s": scope.code},
    )
    shares = [None if _num(v) is None else float(v) for v in df["share"]]
    usual, complete = [], []
    for i, v in enumerate(shares):
        earlier = [x for x in shares[max(0, i - USUAL_MONTHS):i] if x is not None]
        u = float(pd.Series(earlier).median()) if earlier else None
        usual.append(u)
        complete.append(u is None or (v is not None and v >= INCOMPLETE_BELOW * u))
    df["share"] = shares
    df["usual"] = usual
    df["complete"] = complete
    return df


def townships(scope: Scope, *, con=None) -> pd.DataFrame:
    return _q(
        con,
        """select township_code, name, county_code, households, population, lon, lat
           from dim_township where starts_with(township_code, $s) order by township_code""",
        {"s": scope.code},
    )


def villages(scope: Scope, township_code: str | None = None, *, con=None) -> pd.DataFrame:
    """Villages in scope (optionally of one township), with their township's name."""
    if township_code:
        scope.check(township_code)
    return _q(
        con,
        f"""with {_LABELS_CTE}
           select v.village_code, l.label as name, v.township_code, t.name as township_name,
                  v.households, v.population, v.lon, v.lat
           from dim_village v join labels l using (village_code) left join dim_township t using (township_code)
           where starts_with(v.village_code, $s) and ($t is null or v.township_code = $t)
           order by v.village_code""",
        {"s": scope.code, "t": township_code},
    )


# Villages with the same name (#14 defect 3): everything is keyed by village code; where a name
# repeats in the county it is shown as "村名（乡镇）", on every page and in the pack. Repeats are
# counted county-wide, not within the scope, so a village has one label for every account and in
# every pack (a township's own pack names its 樟陂村 as the county's does); only the names of the
# scope's own villages are returned.
# Every query that names villages joins this CTE `labels` (village_code, label) in its own statement
# (no second query, no pandas pass; tests/test_read_cells.py keeps the former Python version as oracle),
# read from the mart village_labels, where the rule is written.
_LABELS_CTE = "labels as (select village_code, label from main.village_labels)"


def resolve_unit(
    scope: Scope, township_code: str | None = None, village_code: str | None = None, *, con=None
) -> Unit:
    """The unit the pages look at: the village if chosen, else the township, else the scope's own
    unit. Choices outside the scope raise ScopeError (URL or session edits cannot widen it)."""
    if village_code:
        scope.check(village_code)
        if township_code and not village_code.startswith(township_code):
            raise ScopeError(f"{village_code} is not in township {township_code}")
        code, table, col = village_code, "dim_village", "village_code"
    elif township_code:
        scope.check(township_code)
        code, table, col = township_code, "dim_township", "township_code"
    else:
        code = scope.code
        table, col = {6: ("dim_county", "county_code"), 9: ("dim_township", "township_code"),
                      12: ("dim_village", "village_code")}[len(code)]
    # table/col come from the fixed mapping above, never from input.
    df = _q(con, f'select name from "{table}" where "{col}" = $c', {"c": code})
    if df.empty:
        raise ScopeError(f"unknown unit {code}")
    return Unit(level=LEVEL_BY_LENGTH[len(code)], code=code, name=str(df["name"].iloc[0]))


def unit_names(scope: Scope, *, con=None) -> pd.DataFrame:
    """code → name for every unit in scope (townships, villages, grids)."""
    return _q(
        con,
        """select township_code as unit_code, name, 'township' as level from dim_township
             where starts_with(township_code, $s)
           union all select village_code, name, 'village' from dim_village where starts_with(village_code, $s)
           union all select grid_code, grid_name, 'grid' from dim_grid where starts_with(grid_code, $s)
           order by unit_code""",
        {"s": scope.code},
    )


def first_units(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """The first county, its first township and that township's first village (codes and names),
    used to create the demo accounts. Not scoped: it is called by the account writer, not a user."""
    cur = con.cursor()
    try:
        c = cur.execute("select county_code, name from dim_county order by county_code limit 1").fetchone()
        if c is None:
            c = cur.execute(
                "select county_code, county_code from dim_village order by county_code limit 1"
            ).fetchone()
        t = cur.execute(
            "select township_code, name from dim_township where county_code = ? order by township_code limit 1",
            [c[0]],
        ).fetchone()
        v = cur.execute(
            "select village_code, name from dim_village where township_code = ? order by village_code limit 1",
            [t[0]],
        ).fetchone()
    finally:
        cur.close()
    return {
        "county": {"code": c[0], "name": c[1]},
        "township": {"code": t[0], "name": t[1]},
        "village": {"code": v[0], "name": v[1]},
    }


def _unit(scope: Scope, unit_code: str | None) -> str:
    return scope.check(unit_code) if unit_code else scope.code


_prev_period = formats.prev_period


# ---------------------------------------------------------------------------------------------
# 总览 Overview


PENDING_MATERIAL = 0.10  # a points rate with ≥ 10 % of the month's records pending is still moving
CONFIRMED_ONLY = frozenset({"points_participation_rate", "points_per_household"})  # count confirmed records


# The catalogue fields every indicator cell carries (read model unit_indicator_cells), in the order
# the pages have always received them after the cell's own columns.
_CELL_CATALOGUE = """c.ordinal::bigint as "order", c.name_zh, c.name_en, c.kind, c.unit, c.direction, c.target,
                  c.target_at, c.grp as "group", c.weight, c.light, c.attainment"""


def kpis(scope: Scope, period: str, unit_code: str | None = None, *, con=None) -> pd.DataFrame:
    """One row per catalogue indicator for the unit and month: value, numerator, denominator, low n,
    target, last month's value and the traffic light (read model unit_indicator_cells)."""
    code = _unit(scope, unit_code)
    # Leads and lags (#14 defect 5). A quarter-to-date rate restarts each quarter: it is compared with
    # the same point of the previous quarter (three months back), never with last month.
    # Points rates count confirmed records only: records still awaiting review (待审核) or posted for
    # objection (已公示) will change them. Their count sits beside the rate, and a move while a
    # material share is pending is lag, not a headline (PENDING_MATERIAL).
    return _q(
        con,
        f"""select c.unit_code, c.unit_level, c.indicator_id, c.numerator, c.denominator, c.value, c.low_n,
                  case when c.target_at = 'quarter_end' then c.prev_quarter_value else c.prev_month_value end
                      as prev_value,
                  {_CELL_CATALOGUE},
                  case when c.target_at = 'quarter_end' then 'quarter' else 'month' end as compare,
                  case when list_contains($confirmed, c.indicator_id) then coalesce(m.points_pending, 0)::double end
                      as pending,
                  case when list_contains($confirmed, c.indicator_id) then coalesce(m.points_records, 0)::double end
                      as pending_of,
                  coalesce(list_contains($confirmed, c.indicator_id) and m.points_records > 0
                           and m.points_pending / m.points_records >= $material, false) as lag
           from unit_indicator_cells c
           left join unit_month_counts m on m.period = c.period and m.unit_code = c.unit_code
           where c.period = $p and c.unit_code = $u and starts_with(c.unit_code, $s)
           order by c.ordinal""",
        {"p": period, "u": code, "s": scope.code, "confirmed": sorted(CONFIRMED_ONLY),
         "material": PENDING_MATERIAL},
    )


def _with_catalogue(df: pd.DataFrame, value_col: str = "value", period: str | None = None) -> pd.DataFrame:
    """Attach names, targets, directions and lights from the catalogue; keep catalogue order."""
    cat = indicators()
    order = {ind.id: i for i, ind in enumerate(cat)}
    by_id = {ind.id: ind for ind in cat}
    df = df[df["indicator_id"].isin(by_id)].copy()
    df["order"] = df["indicator_id"].map(order)
    for col in ("name_zh", "name_en", "kind", "unit", "direction", "target", "target_at", "group", "weight"):
        df[col] = df["indicator_id"].map(lambda i, c=col: getattr(by_id[i], c))
    low = df["low_n"] if "low_n" in df else pd.Series(False, index=df.index)
    per = df["period"] if "period" in df else pd.Series(period, index=df.index)
    df["light"] = [
        light(_num(v), by_id[i], bool(n) if n is not None and n == n else False, p)
        for v, i, n, p in zip(df[value_col], df["indicator_id"], low, per, strict=True)
    ]
    df["attainment"] = [by_id[i].attainment(_num(v)) for v, i in zip(df[value_col], df["indicator_id"], strict=True)]
    return df.sort_values([c for c in ("order", "unit_code", "period") if c in df]).reset_index(drop=True)


def _num(v: Any) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def board_alerts(scope: Scope, period: str, unit_code: str | None = None, *, con=None) -> pd.DataFrame:
    """Villages on the black board (vetoed ones included) in the month."""
    code = _unit(scope, unit_code)
    return _q(
        con,
        f"""with {_LABELS_CTE}
           select s.village_code, l.label as name, s.township_code, t.name as township_name, s.score, s.rank,
                  s.board, s.veto
           from village_scores s
           join labels l using (village_code)
           left join dim_township t on t.township_code = s.township_code
           where s.period = $p and starts_with(s.village_code, $u) and starts_with(s.village_code, $s)
             and (s.board = 'black' or s.veto)
           order by s.rank nulls last, s.village_code""",
        {"p": period, "u": code, "s": scope.code},
    )


def low_n_alerts(scope: Scope, period: str, unit_code: str | None = None, *, con=None) -> pd.DataFrame:
    """Village indicators with a denominator below 5 (greyed, left out of the score)."""
    code = _unit(scope, unit_code)
    # the published catalogue's names for the alert text (the id where the catalogue lacks it)
    return _q(
        con,
        f"""with {_LABELS_CTE}
           select i.unit_code as village_code, l.label as name, i.indicator_id, i.numerator, i.denominator,
                  coalesce(c.name_zh, i.indicator_id) as name_zh, coalesce(c.name_en, i.indicator_id) as name_en
           from indicator_values i join labels l on l.village_code = i.unit_code
           left join cfg_indicator c using (indicator_id)
           where i.period = $p and i.unit_level = 'village' and i.low_n
             and starts_with(i.unit_code, $u) and starts_with(i.unit_code, $s)
           order by i.unit_code, i.indicator_id""",
        {"p": period, "u": code, "s": scope.code},
    )


def inactive_grids(scope: Scope, period: str, unit_code: str | None = None, *, con=None) -> pd.DataFrame:
    """Grids with no visit and no event in the month (grid_active_rate numerator 0)."""
    code = _unit(scope, unit_code)
    return _q(
        con,
        """select g.grid_code, g.grid_name, g.village_code, v.name as village_name, g.grid_head
           from indicator_values i
           join dim_grid g on g.grid_code = i.unit_code
           left join dim_village v on v.village_code = g.village_code
           where i.period = $p and i.unit_level = 'grid' and i.indicator_id = 'grid_active_rate'
             and coalesce(i.numerator, 0) = 0
             and starts_with(i.unit_code, $u) and starts_with(i.unit_code, $s)
           order by g.grid_code""",
        {"p": period, "u": code, "s": scope.code},
    )


def month_counts(scope: Scope, period: str, unit_code: str | None = None, *, con=None) -> pd.DataFrame:
    """Records that happened in the month for the unit: visits, events, disputes, points records
    (mart unit_month_counts; one row, zeros for a month without records)."""
    code = _unit(scope, unit_code)
    return _q(
        con,
        """select $u as unit_code, coalesce(c.visits, 0) as visits, coalesce(c.events, 0) as events,
                  coalesce(c.disputes, 0) as disputes, coalesce(c.points_records, 0) as points_records
           from (select 1) as one
           left join unit_month_counts c on c.period = $p and c.unit_code = $u and starts_with(c.unit_code, $s)""",
        {"p": period, "u": code, "s": scope.code},
    )


# ---------------------------------------------------------------------------------------------
# 地图 Map


def grid_values(
    scope: Scope, period: str, indicator_id: str, unit_code: str | None = None, *, con=None
) -> pd.DataFrame:
    """Grids with geometry and the chosen indicator's value: the grid's own value where the
    indicator exists at grid level, else its village's value (``value_level`` says which)."""
    code = _unit(scope, unit_code)
    return _q(
        con,
        """select g.grid_code, g.grid_name, g.village_code, v.name as village_name, g.township_code,
                  g.households, g.population, g.grid_head, g.worker_count, g.geometry,
                  g.centroid_lon, g.centroid_lat,
                  coalesce(gi.value, vi.value) as value,
                  coalesce(gi.low_n, vi.low_n, false) as low_n,
                  case when gi.unit_code is not null then 'grid' else 'village' end as value_level
           from dim_grid g
           left join dim_village v on v.village_code = g.village_code
           left join indicator_values gi
             on gi.unit_code = g.grid_code and gi.period = $p and gi.indicator_id = $i
           left join indicator_values vi
             on vi.unit_code = g.village_code and vi.period = $p and vi.indicator_id = $i
           where starts_with(g.grid_code, $u) and starts_with(g.grid_code, $s)
           order by g.grid_code""",
        {"p": period, "i": indicator_id, "u": code, "s": scope.code},
        arrow=True,  # 9,084 grids with their outlines at province scale
    )


_BOUNDARY_SQL = {  # allow-list: level → (table, code column)
    "village": ("dim_village", "village_code"),
    "township": ("dim_township", "township_code"),
}


def boundaries(scope: Scope, level: str, unit_code: str | None = None, *, con=None) -> pd.DataFrame:
    """Village or township outlines (dissolved from their grids at ingest, simplified for the
    screen). Columns: code, name, geometry (GeoJSON text), lon, lat (a point for labels)."""
    if level not in _BOUNDARY_SQL:
        raise ValueError(f"level must be one of {sorted(_BOUNDARY_SQL)}")
    code = _unit(scope, unit_code)
    table, key = _BOUNDARY_SQL[level]
    # Strictly inside the scope: a village account gets no township outline.
    labelled = level == "village"  # a village outline is named by its label (名（乡镇） when repeated)
    return _q(
        con,
        f"""{"with " + _LABELS_CTE if labelled else ""}
            select b.{key} as code, {"l.label" if labelled else "b.name"} as name, b.geometry, b.lon, b.lat
            from "{table}" b {"join labels l using (village_code)" if labelled else ""}
            where b.geometry is not null and starts_with(b.{key}, $u) and starts_with(b.{key}, $s)
            order by code""",
        {"u": code, "s": scope.code},
    )


def event_points(scope: Scope, period: str, unit_code: str | None = None, *, con=None) -> pd.DataFrame:
    """Events reported in the month with a display position: events carry no coordinates, so each
    is placed at a fixed pseudo-random spot near its grid's centroid (a schematic, not a location)."""
    code = _unit(scope, unit_code)
    # ~0.0004° per sqrt(household): a 100-household grid spreads its points over ~400 m. Computed in
    # the statement (thousands of rows county-wide: no pandas arithmetic after it). From the read
    # model event_case_list, ordered by report time, so a month's scan reads that month's rows.
    return _q(
        con,
        """with e as (
               select e.event_id, e.grid_code, e.village_code, e.township_code, g.grid_name, e.category,
                      e.status, e.handling_level, e.reported_at, g.centroid_lon, g.centroid_lat,
                      sqrt(greatest(g.households, 1))::double * 0.0004::double as r,
                      (hash(e.event_id) % 10007) / 10007.0 as u, (hash(e.event_id || '#') % 10007) / 10007.0 as w
               from event_case_list e join dim_grid g on g.grid_code = e.grid_code
               where e.reported_at >= $m0 and e.reported_at < $m1
                 and starts_with(e.grid_code, $u) and starts_with(e.grid_code, $s))
           select * exclude (r, u, w), centroid_lon + (u - 0.5) * r as lon, centroid_lat + (w - 0.5) * r as lat
           from e order by event_id""",
        {"p": period, "u": code, "s": scope.code},
        arrow=True,
    )


def dispute_sites(scope: Scope, period: str, unit_code: str | None = None, *, con=None) -> pd.DataFrame:
    """Dispute cases registered in the month, counted by village, at the village's coordinates
    (or the mean of its grid centroids when the reference has none): mart village_dispute_sites."""
    code = _unit(scope, unit_code)
    return _q(
        con,
        f"""with {_LABELS_CTE}
           select d.village_code, l.label as name, d.township_code, d.disputes, d.petitions, d.top_type, d.lon, d.lat
           from village_dispute_sites d join labels l using (village_code)
           where d.period = $p and starts_with(d.village_code, $u) and starts_with(d.village_code, $s)
           order by d.village_code""",
        {"p": period, "u": code, "s": scope.code},
    )


# ---------------------------------------------------------------------------------------------
# 趋势 Trends


def indicator_trend(
    scope: Scope, indicator_id: str, unit_code: str | None = None, *, con=None
) -> pd.DataFrame:
    """The indicator over every month for the unit, with last month's value (环比) and the value
    twelve months earlier (同比): read model unit_indicator_cells."""
    code = _unit(scope, unit_code)
    return _q(
        con,
        f"""select c.period, c.unit_code, c.unit_level, c.indicator_id, c.numerator, c.denominator,
                  c.value, c.low_n, c.prev_month_value as mom_base, c.prev_year_value as yoy_base,
                  c.value - c.prev_month_value as mom, c.value - c.prev_year_value as yoy,
                  {_CELL_CATALOGUE}
           from unit_indicator_cells c
           where c.unit_code = $u and c.indicator_id = $i and starts_with(c.unit_code, $s)
           order by c.period""",
        {"u": code, "i": indicator_id, "s": scope.code},
    )


def event_categories(scope: Scope, unit_code: str | None = None, *, con=None) -> pd.DataFrame:
    """Events by month of 上报时间 and category, for the unit (mart unit_event_categories)."""
    code = _unit(scope, unit_code)
    return _q(
        con,
        """select period, unit_code, category, events from unit_event_categories
           where unit_code = $u and starts_with(unit_code, $s) order by period, category""",
        {"u": code, "s": scope.code},
    )


def dispute_types(scope: Scope, unit_code: str | None = None, *, con=None) -> pd.DataFrame:
    """Dispute cases by month of 登记日期 and type, for the unit (mart unit_dispute_types)."""
    code = _unit(scope, unit_code)
    return _q(
        con,
        """select period, unit_code, dispute_type, disputes, mediated from unit_dispute_types
           where unit_code = $u and starts_with(unit_code, $s) order by period, dispute_type""",
        {"u": code, "s": scope.code},
    )


# ---------------------------------------------------------------------------------------------
# 排名 Rankings


def league_table(scope: Scope, period: str, unit_code: str | None = None, *, con=None) -> pd.DataFrame:
    """The village league table for the month (county-wide ranks), villages of the unit only."""
    code = _unit(scope, unit_code)
    return _q(
        con,
        f"""with {_LABELS_CTE}
           select s.rank, s.village_code, l.label as name, s.township_code, t.name as township_name, s.score,
                  s.prev_rank, s.rank_change, s.board, s.veto
           from village_scores s
           join labels l using (village_code)
           left join dim_township t on t.township_code = s.township_code
           where s.period = $p and starts_with(s.village_code, $u) and starts_with(s.village_code, $s)
           order by s.rank nulls last, s.village_code""",
        {"p": period, "u": code, "s": scope.code},
    )


def village_indicators(scope: Scope, period: str, unit_code: str | None = None, *, con=None) -> pd.DataFrame:
    """Every village's indicator values in the month (long), with lights, for the league table
    (read model unit_indicator_cells)."""
    code = _unit(scope, unit_code)
    return _q(
        con,
        f"""select c.unit_code as village_code, c.period, c.unit_code, c.indicator_id, c.numerator,
                  c.denominator, c.value, c.low_n, {_CELL_CATALOGUE}
           from unit_indicator_cells c
           where c.period = $p and c.unit_level = 'village'
             and starts_with(c.unit_code, $u) and starts_with(c.unit_code, $s)
           order by c.ordinal, c.unit_code""",
        {"p": period, "u": code, "s": scope.code},
        arrow=True,
    )


def village_history(scope: Scope, village_code: str, *, con=None) -> pd.DataFrame:
    """A village's score, rank, board and veto over every month."""
    scope.check(village_code)
    return _q(
        con,
        """select period, village_code, score, rank, prev_rank, rank_change, board, veto
           from village_scores where village_code = $v and starts_with(village_code, $s)
           order by period""",
        {"v": village_code, "s": scope.code},
    )


def scorecard(scope: Scope, village_code: str, period: str, *, con=None) -> pd.DataFrame:
    """Why a village scores what it does: per weighted indicator numerator, denominator, value, target,
    attainment, weight and contribution, in catalogue order: pipelines.explain.explain_village's rows,
    read from the village's cells (unit_indicator_cells) with the arithmetic of village_score_parts
    (weights summed as decimal(18, 6), each contribution rounded to decimal(18, 10)), so they add up
    to village_scores.score exactly (tests/test_read_cells.py compares it with explain_village)."""
    scope.check(village_code)
    from pipelines.explain import PERIOD

    if not PERIOD.match(period or ""):
        raise ValueError(f"period must be YYYY-MM, got {period!r}")
    return _q(
        con,
        """with cells as (
               select *, value is not null and not low_n as counted from unit_indicator_cells
               where unit_level = 'village' and unit_code = $v and period = $p and weight > 0
                 and starts_with(unit_code, $s)),
           total as (select sum(weight::decimal(18, 6)) filter (where counted)::double as counted_weight from cells)
           select $v as village_code, indicator_id, name_zh, name_en, grp as "group", numerator, denominator,
                  value, target, direction, tolerance, attainment, weight,
                  case when counted then (100.0 * weight * attainment / total.counted_weight)::decimal(18, 10)
                  end::double as contribution,
                  counted,
                  case when counted then null when value is null then 'no_value' else 'low_n' end
                      as why_not_counted
           from cells cross join total
           order by ordinal""",
        {"v": village_code, "p": period, "s": scope.code},
    )


# ---------------------------------------------------------------------------------------------
# 积分 Points


def household_points(scope: Scope, period: str, unit_code: str | None = None, *, con=None) -> pd.DataFrame:
    """Each registry household's confirmed (已确认) points dated in the month (0 when none), one row
    per household (notebooks; the page reads points_distribution): mart household_month_points."""
    code = _unit(scope, unit_code)
    return _q(
        con,
        """select h.household_key, h.village_code, h.is_key,
                  coalesce(p.confirmed_points, 0) as points, coalesce(p.records, 0) as records
           from dim_household h
           left join household_month_points p on p.household_key = h.household_key and p.period = $p
           where starts_with(h.village_code, $u) and starts_with(h.village_code, $s)
           order by h.household_key""",
        {"p": period, "u": code, "s": scope.code},
    )


def points_distribution(scope: Scope, period: str, unit_code: str | None = None, *,
                        con=None) -> pd.DataFrame:
    """How many registry households of the unit have each confirmed points total in the month (0
    for households without confirmed records), ascending by points: the page's count, zero share,
    total and histogram without a row per household (mart unit_points_distribution)."""
    code = _unit(scope, unit_code)
    return _q(
        con,
        """select unit_code, points, households from unit_points_distribution
           where period = $p and unit_code = $u and starts_with(unit_code, $s) order by points""",
        {"p": period, "u": code, "s": scope.code},
    )


def points_by_category(scope: Scope, period: str, unit_code: str | None = None, *, con=None) -> pd.DataFrame:
    """Confirmed points in the month by category, gains and deductions apart (mart
    unit_points_by_category)."""
    code = _unit(scope, unit_code)
    return _q(
        con,
        """select unit_code, category, gained, deducted, records from unit_points_by_category
           where period = $p and unit_code = $u and starts_with(unit_code, $s)
           order by gained desc nulls last, category""",
        {"p": period, "u": code, "s": scope.code},
    )


def village_participation(scope: Scope, period: str, unit_code: str | None = None, *, con=None) -> pd.DataFrame:
    """Points participation rate and points per household by village for the month."""
    code = _unit(scope, unit_code)
    return _q(
        con,
        f"""with {_LABELS_CTE}
           select v.village_code, v.label as name,
                  max(i.value) filter (where i.indicator_id = 'points_participation_rate') as participation,
                  max(i.low_n) filter (where i.indicator_id = 'points_participation_rate') as low_n,
                  max(i.value) filter (where i.indicator_id = 'points_per_household') as points_per_household
           from labels v left join indicator_values i
             on i.unit_code = v.village_code and i.period = $p
           where starts_with(v.village_code, $u) and starts_with(v.village_code, $s)
           group by all order by v.village_code""",
        {"p": period, "u": code, "s": scope.code},
    )


def star_households(scope: Scope, year: int, unit_code: str | None = None, *, con=None) -> pd.DataFrame:
    """Star households 星级文明户 per village for the year: counts of 5, 4 and 3 stars (mart
    village_star_counts)."""
    code = _unit(scope, unit_code)
    return _q(
        con,
        f"""with {_LABELS_CTE}
           select s.village_code, l.label as name, s.households, s.stars5, s.stars4, s.stars3, s.total_points
           from village_star_counts s join labels l using (village_code)
           where s.year = $y and starts_with(s.village_code, $u) and starts_with(s.village_code, $s)
           order by s.village_code""",
        {"y": int(year), "u": code, "s": scope.code},
    )


def redemptions(scope: Scope, unit_code: str | None = None, *, con=None) -> pd.DataFrame:
    """Redemptions by month and item for the unit (mart unit_redemptions)."""
    code = _unit(scope, unit_code)
    return _q(
        con,
        """select period, unit_code, item, redemptions, points_spent from unit_redemptions
           where unit_code = $u and starts_with(unit_code, $s) order by period, item""",
        {"u": code, "s": scope.code},
    )


# ---------------------------------------------------------------------------------------------
# 数据质量 Data quality


def _county_only(scope: Scope, sql: str, params: dict, con) -> pd.DataFrame:
    """Load bookkeeping has no division code: county accounts see it, others get an empty frame."""
    df = _q(con, sql, params)
    return df if scope.role == "county" else df.iloc[0:0]


def load_batches(scope: Scope, *, con=None) -> pd.DataFrame:
    return _county_only(
        scope,
        """select b.batch_id, b.started_at, b.finished_at, b.status,
                  count(f.file_name) as files, sum(f.rows_read) as rows_read, sum(f.rows_loaded) as rows_loaded,
                  sum(f.rows_quarantined) as rows_quarantined
           from load_batches b left join load_files f using (batch_id)
           group by all order by b.started_at desc""",
        {},
        con,
    )


def load_files(scope: Scope, batch_id: str | None = None, *, con=None) -> pd.DataFrame:
    return _county_only(
        scope,
        """select batch_id, file_name, source_kind, profile, rows_read, rows_loaded, rows_quarantined,
                  rows_duplicate, rows_non_data, status, reason
           from load_files where $b is null or batch_id = $b order by batch_id desc, file_name""",
        {"b": batch_id},
        con,
    )


def quarantine_by_reason(scope: Scope, batch_id: str | None = None, *, con=None) -> pd.DataFrame:
    return _county_only(
        scope,
        """select source_kind, reason_code, count(*) as rows, any_value(reason_detail) as example
           from quarantine where $b is null or batch_id = $b
           group by all order by rows desc, source_kind, reason_code""",
        {"b": batch_id},
        con,
    )


QUARANTINE_ROWS_SHOWN = 2000  # the page lists the first rows; the reason table above counts them all


def quarantine_rows(scope: Scope, latest_only: bool = True, *, con=None) -> pd.DataFrame:
    """Quarantined rows one by one (#14 defect 10): file, sheet, row number, reason code and the
    reason's detail (it names the field and the value), of the latest batch or of every batch."""
    return _county_only(
        scope,
        """select q.batch_id, q.file_name, q.sheet, q.row_number, q.source_kind, q.reason_code,
                  q.reason_detail as reason
           from quarantine q
           where not $latest or q.batch_id = (select batch_id from load_batches order by started_at desc limit 1)
           order by q.batch_id desc, q.file_name, q.sheet, q.row_number
           limit $n""",
        {"latest": bool(latest_only), "n": QUARANTINE_ROWS_SHOWN},
        con,
    )

def validation_results(scope: Scope, batch_id: str | None = None, *, con=None) -> pd.DataFrame:
    return _county_only(
        scope,
        """select batch_id, suite, expectation, success, unexpected_count
           from validation_results where $b is null or batch_id = $b
           order by success, suite, expectation""",
        {"b": batch_id},
        con,
    )


def reporting_by_grid(scope: Scope, period: str, unit_code: str | None = None, *, con=None) -> pd.DataFrame:
    """Reporting completeness and timeliness by grid for the month: visits, events, whether the grid
    was active, key-household visit rate, and the share of records entered in time (mart
    grid_month_reporting; the rule: int_entry_lags, the published cfg_setting's
    entry_timeliness_days, SPEC §5: 3 calendar days)."""
    code = _unit(scope, unit_code)
    return _q(
        con,
        """select g.grid_code, g.grid_name, g.village_code, v.name as village_name, g.grid_head,
                  coalesce(r.visits, 0) as visits, coalesce(r.events, 0) as events,
                  coalesce(r.active, false) as active,
                  k.value as key_visit_rate, k.low_n as key_visit_low_n, r.timely_rate
           from dim_grid g
           left join dim_village v on v.village_code = g.village_code
           left join grid_month_reporting r on r.grid_code = g.grid_code and r.period = $p
           left join indicator_values k on k.unit_code = g.grid_code and k.period = $p
             and k.indicator_id = 'key_visit_rate'
           where starts_with(g.grid_code, $u) and starts_with(g.grid_code, $s)
           order by active, timely_rate nulls first, g.grid_code""",
        {"p": period, "u": code, "s": scope.code},
    )


# ---------------------------------------------------------------------------------------------
# 月度考评 Monthly pack (pipelines/report): the few queries the pack needs beyond the pages'


def score_trend(scope: Scope, unit_code: str | None = None, *, con=None) -> pd.DataFrame:
    """Composite score per month and township for the unit's villages: villages scored, mean, min
    and max score, and how many were on the red and black boards or vetoed."""
    code = _unit(scope, unit_code)
    return _q(
        con,
        """select s.period, $u as unit_code, s.township_code, t.name as township_name, count(s.score) as villages,
                  avg(s.score) as score_mean, min(s.score) as score_min, max(s.score) as score_max,
                  count(*) filter (where s.board = 'red') as red, count(*) filter (where s.board = 'black') as black,
                  count(*) filter (where s.veto) as vetoes
           from village_scores s left join dim_township t on t.township_code = s.township_code
           where starts_with(s.village_code, $u) and starts_with(s.village_code, $s)
           group by all order by s.period, s.township_code""",
        {"u": code, "s": scope.code},
    )


def snapshot(scope: Scope, *, con=None) -> pd.DataFrame:
    """The latest load batch in the published copy (its id and times identify the data snapshot).
    Batch ids and times carry no division data, so every account may see them."""
    return _q(
        con,
        """select batch_id, started_at, finished_at, status from load_batches
           order by finished_at desc nulls last, started_at desc limit 1""",
        {},
    )


# Files that brought records dated in the month (snapshot sources: the export holding the kept
# state), plus every rejected file, since a rejected file's month is unknown.
_PERIOD_FILES = """with pf as (
    select file_name from fct_visit where strftime(visited_at, '%Y-%m') = $p
    union select file_name from fct_event where strftime(reported_at, '%Y-%m') = $p
    union select file_name from fct_dispute where strftime(registered_on, '%Y-%m') = $p
    union select file_name from fct_points where strftime(occurred_on, '%Y-%m') = $p
    union select file_name from fct_redemption where strftime(redeemed_on, '%Y-%m') = $p)"""


def period_files(scope: Scope, period: str, *, con=None) -> pd.DataFrame:
    """Load accounting of the files behind the month's records (county accounts only)."""
    return _county_only(
        scope,
        _PERIOD_FILES + """
           select batch_id, file_name, source_kind, rows_read, rows_loaded, rows_quarantined,
                  rows_duplicate, rows_non_data, status, reason
           from load_files where file_name in (select file_name from pf) or status = 'rejected'
           order by source_kind, file_name, batch_id""",
        {"p": period},
        con,
    )


def period_quarantine(scope: Scope, period: str, *, con=None) -> pd.DataFrame:
    """Quarantined rows by source and reason in the files behind the month (county accounts only)."""
    return _county_only(
        scope,
        _PERIOD_FILES + """
           select source_kind, reason_code, count(*) as rows, any_value(reason_detail) as example
           from quarantine where file_name in (select file_name from pf)
           group by all order by rows desc, source_kind, reason_code""",
        {"p": period},
        con,
    )


# --- grid workers (page 8) ---
# 网格员考评 (SPEC §6.1): the published grid_worker_scores mart, with names for display and last
# month's total and rank of the same worker (grid_code, worker_name) for the change columns.

def _worker_columns() -> str:
    from pipelines.catalogue import WORKER_ITEMS  # the eight items, in the mart's column order

    return ", ".join(f"s.{c}" for c in (*WORKER_ITEMS, *(f"{i}_points" for i in WORKER_ITEMS)))


_WORKER_COLUMNS = _worker_columns()


def worker_league(scope: Scope, period: str, unit_code: str | None = None, *, con=None) -> pd.DataFrame:
    """The month's grid workers of the unit, per township by rank: items, points, total, grade,
    rank_in_township, last month's total and rank (NULL when the worker had no row then), the change
    in total and in rank (prev_rank − rank: positive = improved)."""
    code = _unit(scope, unit_code)
    return _q(
        con,
        f"""select s.period, s.township_code, t.name as township_name, s.village_code, v.name as village_name,
                   s.grid_code, g.grid_name, s.worker_name, {_WORKER_COLUMNS}, s.total, s.grade,
                   s.rank_in_township, p.total as prev_total, p.rank_in_township as prev_rank,
                   s.total - p.total as total_change, p.rank_in_township - s.rank_in_township as rank_change
            from grid_worker_scores s
            left join grid_worker_scores p
              on p.grid_code = s.grid_code and p.worker_name = s.worker_name and p.period = $prev
            left join dim_grid g on g.grid_code = s.grid_code
            left join dim_village v on v.village_code = s.village_code
            left join dim_township t on t.township_code = s.township_code
            where s.period = $p and starts_with(s.grid_code, $u) and starts_with(s.grid_code, $s)
            order by s.township_code, s.rank_in_township, s.village_code, s.grid_code, s.worker_name""",
        {"p": period, "prev": _prev_period(period), "u": code, "s": scope.code},
    )


def worker_history(scope: Scope, grid_code: str, worker_name: str, *, con=None) -> pd.DataFrame:
    """One worker's (grid, name) rows over every month: items, points, total, grade and rank."""
    scope.check(grid_code)
    return _q(
        con,
        f"""select s.period, s.grid_code, s.village_code, s.township_code, s.worker_name, {_WORKER_COLUMNS},
                   s.total, s.grade, s.rank_in_township
            from grid_worker_scores s
            where s.grid_code = $g and s.worker_name = $w and starts_with(s.grid_code, $s)
            order by s.period""",
        {"g": grid_code, "w": worker_name, "s": scope.code},
    )


def worker_villages(scope: Scope, period: str, unit_code: str | None = None, *, con=None) -> pd.DataFrame:
    """Villages of the unit with at least one assessed worker in the month (one 张榜公示 sheet each)."""
    code = _unit(scope, unit_code)
    return _q(
        con,
        """select s.village_code, v.name, s.township_code, t.name as township_name, count(*) as workers
           from grid_worker_scores s
           left join dim_village v on v.village_code = s.village_code
           left join dim_township t on t.township_code = s.township_code
           where s.period = $p and starts_with(s.village_code, $u) and starts_with(s.village_code, $s)
           group by all order by s.village_code""",
        {"p": period, "u": code, "s": scope.code},
    )
# ---------------------------------------------------------------------------------------------
# Province view over a Parquet lake (SPEC §4.1, issue #17): the same scoped, read-only queries,
# on a connection whose tables are views over the lake's Parquet files instead of a DuckDB file.
# A county account sees its own county's rows; a province account (role province, 2-digit code)
# sees every county of its province.


def lake_connection(lake: Path | str) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with one view per published lake table (dims, marts, cfg_*).

    Read-only by construction: the views read Parquet; nothing here can write the lake.
    """
    from pipelines.lake import layout

    lake = Path(lake)
    manifest = layout.read_manifest(lake)
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    for table, spec in manifest["tables"].items():
        if not (table.startswith(("dim_", "cfg_")) or table in {"indicator_values", "village_scores",
                                                                  "household_stars", "grid_worker_scores"}):
            continue
        if not any((lake / table).rglob("*.parquet")):
            continue
        cols = ", ".join(f'"{c}"' for c in spec["columns"])
        glob = str(lake / table / "**" / "*.parquet").replace("'", "''")
        con.execute(f'create view "{table}" as select {cols} from read_parquet(\'{glob}\', '
                    "hive_partitioning = true, hive_types_autocast = false, union_by_name = true)")
    return con


def county_league(scope: Scope, period: str, *, con) -> pd.DataFrame:
    """Counties of the lake ranked by the mean score of their scored villages in the month (ties share
    the best rank), with red/black board and veto counts; rows of the scope only (ranks are province-wide)."""
    return _q(
        con,
        """with scored as (
               select substr(village_code, 1, 6) as county_code, count(score) as villages_scored,
                      avg(score) as mean_score, count(*) filter (where board = 'red') as red,
                      count(*) filter (where board = 'black') as black,
                      count(*) filter (where veto) as vetoed
               from village_scores where period = $p group by all),
           ranked as (
               select rank() over (order by s.mean_score desc nulls last) as rank, c.county_code, c.name,
                      s.villages_scored, s.mean_score, s.red, s.black, s.vetoed
               from dim_county c left join scored s using (county_code))
           select * from ranked where starts_with(county_code, $s) order by rank, county_code""",
        {"p": period, "s": scope.code},
    )


def county_indicators(scope: Scope, period: str, *, con) -> pd.DataFrame:
    """Every county's indicator values in the month (long, with names and lights), scope only."""
    df = _q(
        con,
        """select i.unit_code as county_code, c.name, i.period, i.unit_code, i.indicator_id, i.numerator,
                  i.denominator, i.value, i.low_n
           from indicator_values i join dim_county c on c.county_code = i.unit_code
           where i.period = $p and i.unit_level = 'county' and starts_with(i.unit_code, $s)
           order by i.unit_code""",
        {"p": period, "s": scope.code},
    )
    return _with_catalogue(df)


def county_villages(scope: Scope, period: str, unit_code: str | None = None, *, con) -> pd.DataFrame:
    """The villages of a county (or any unit) in the month as its own marts rank them: the province
    view's drill-down from the county league (score, rank within its county, board, veto)."""
    code = _unit(scope, unit_code)
    return _q(
        con,
        """select s.rank, s.village_code, v.name, t.name as township_name, s.score, s.board, s.veto
           from village_scores s
           join dim_village v on v.village_code = s.village_code
           left join dim_township t on t.township_code = s.township_code
           where s.period = $p and starts_with(s.village_code, $c) and starts_with(s.village_code, $s)
           order by s.rank nulls last, s.village_code""",
        {"p": period, "c": code, "s": scope.code},
    )


# --- cases and drill-through (pages 9, 10) ---
# Case lists (page 9), the records behind every indicator value (drill-through), and the what-if
# league (page 10). Records are selected exactly as the marts count them (pipelines/models/marts:
# events and visits in the village of their grid through dim_grid, households in their registry
# grid, disputes in their village, points in the household's village), so a list's count equals the
# numerator or denominator in indicator_values.

_CLOSED = "('已办结', '已回访')"
_EVENT_COLS = """e.event_id as record_id, e.grid_code, g.village_code, g.township_code, g.grid_name,
       e.category, e.source, e.handling_level, e.status, e.reported_at, e.accepted_at, e.deadline,
       e.closed_at, e.satisfaction,
       round(date_diff('second', e.reported_at, e.closed_at) / 3600.0, 2) as handle_hours"""
_EVENT_FROM = """fct_event e join dim_grid g using (grid_code)
  where e.village_code between $vlo and $vhi and starts_with(e.grid_code, $u) and starts_with(e.grid_code, $s)"""
_EVENTS_REPORTED = f"""select 'event' as record_kind, {_EVENT_COLS}, {{num}} as in_numerator,
       ({{num}})::double as numerator_part, {{den}} as denominator_part
  from {_EVENT_FROM} and e.reported_at >= $m0 and e.reported_at < $m1"""
_EVENTS_CLOSED = f"""select 'event' as record_kind, {_EVENT_COLS}, {{num}} as in_numerator,
       ({{num}})::double as numerator_part, 1.0 as denominator_part
  from {_EVENT_FROM} and e.status in {_CLOSED} and e.closed_at >= $m0 and e.closed_at < $m1{{extra}}"""
_DISPUTE_COLS = """d.case_id as record_id, d.village_code, d.township_code, d.registered_on, d.dispute_type,
       d.parties_masked, d.party_count, d.amount, d.mediation_org, d.result, d.concluded_on, d.is_petition"""
_DISPUTE_FROM = """fct_dispute d join dim_village v using (village_code)
  where d.village_code between $vlo and $vhi and starts_with(d.village_code, $u) and starts_with(d.village_code, $s)"""
_HOUSEHOLDS = """select 'household' as record_kind, h.household_key as record_id, h.grid_code, g.village_code,
       g.township_code, g.grid_name, h.head_name_masked, h.key_type, h.is_key,
       hv.last_visit, {num} as in_numerator, ({num})::double as numerator_part, 1.0 as denominator_part
  from dim_household h join dim_grid g using (grid_code)
  left join (select household_key, max(last_visit) as last_visit from household_visit_months
             where month_start >= {start} and month_start < $m1 and village_code between $vlo and $vhi
               and starts_with(grid_code, $u) and starts_with(grid_code, $s)
             group by household_key) hv using (household_key)
  where starts_with(h.grid_code, $u) and starts_with(h.grid_code, $s) and {which}"""
_POINT_HOUSEHOLDS = """with hh as (
       select household_key, village_code, grid_code, head_name_masked, is_key from dim_household
       where starts_with(village_code, $u) and starts_with(village_code, $s)),
     pts as (  -- confirmed points only: the mart (int_confirmed_points) says which records count
       select household_key, any_value(village_code) as village_code, sum(records)::bigint as records,
              sum(confirmed_points) as confirmed_points, sum(positive_points) as positive_points
       from household_month_points where period = $p and village_code between $vlo and $vhi
         and starts_with(village_code, $u) and starts_with(village_code, $s) and village_code in (select village_code from dim_village)
       group by household_key),
     red as (
       select household_key, any_value(village_code) as village_code, sum(points_spent) as redeemed_points
       from fct_redemption where village_code between $vlo and $vhi and redeemed_on >= $m0 and redeemed_on < $m1
         and starts_with(village_code, $u) and starts_with(village_code, $s) and village_code in (select village_code from dim_village)
       group by household_key)
select 'household' as record_kind, household_key as record_id, hh.grid_code,
       coalesce(hh.village_code, pts.village_code, red.village_code) as village_code, hh.head_name_masked, hh.is_key,
       coalesce(pts.records, 0) as points_records, coalesce(pts.confirmed_points, 0) as confirmed_points,
       coalesce(pts.positive_points, 0) as positive_points, coalesce(red.redeemed_points, 0) as redeemed_points,
       {num} as in_numerator, ({num_part})::double as numerator_part, ({den_part})::double as denominator_part
from hh full join pts using (household_key) full join red using (household_key)
where {where}
order by record_id"""

# indicator id → the records it counts. Rates: the denominator set, in_numerator marking the
# numerator; counts and medians: the numerator set. numerator_part / denominator_part sum to the
# published numerator / denominator (for point sums they carry the points).
_DRILL_SQL: dict[str, str] = {
    "grid_active_rate": """select 'grid' as record_kind, g.grid_code as record_id, g.grid_code, g.village_code,
            g.township_code, g.grid_name, g.grid_head, coalesce(v.visits, 0) as visits, coalesce(e.events, 0) as events,
            coalesce(v.visits, 0) + coalesce(e.events, 0) > 0 as in_numerator,
            (coalesce(v.visits, 0) + coalesce(e.events, 0) > 0)::double as numerator_part, 1.0 as denominator_part
        from dim_grid g
        left join (select grid_code, count(*) as visits from fct_visit where village_code between $vlo and $vhi
                   and visited_at >= $m0 and visited_at < $m1 group by grid_code) v using (grid_code)
        left join (select grid_code, count(*) as events from fct_event where village_code between $vlo and $vhi
                   and reported_at >= $m0 and reported_at < $m1 group by grid_code) e using (grid_code)
        where starts_with(g.grid_code, $u) and starts_with(g.grid_code, $s)""",
    "key_visit_rate": _HOUSEHOLDS.format(num="hv.last_visit is not null", start="$m0", which="coalesce(h.is_key, false)"),
    "ordinary_visit_rate_qtd": _HOUSEHOLDS.format(num="hv.last_visit is not null", start="$q0",
                                                  which="not coalesce(h.is_key, false)"),
    "events_reported": _EVENTS_REPORTED.format(num="true", den="null::double"),
    "event_closure_rate": _EVENTS_REPORTED.format(num=f"e.status in {_CLOSED}", den="1.0"),
    "on_time_rate": _EVENTS_CLOSED.format(num="coalesce(e.closed_at <= e.deadline, false)", extra=""),
    "median_handle_hours": _EVENTS_CLOSED.format(num="true", extra=" and e.closed_at is not null"),
    "grid_resolution_rate": _EVENTS_CLOSED.format(num="coalesce(e.handling_level = '网格', false)", extra=""),
    "village_resolution_rate": _EVENTS_CLOSED.format(num="coalesce(e.handling_level in ('网格', '村'), false)",
                                                     extra=""),
    "satisfaction_rate": _EVENTS_CLOSED.format(
        num="e.satisfaction in ('满意', '基本满意')",
        extra=" and e.satisfaction in ('满意', '基本满意', '不满意')"),
    "disputes_registered": f"""select 'dispute' as record_kind, {_DISPUTE_COLS}, true as in_numerator,
            1.0 as numerator_part, null::double as denominator_part
        from {_DISPUTE_FROM} and d.registered_on >= $m0 and d.registered_on < $m1""",
    "petitions": f"""select 'dispute' as record_kind, {_DISPUTE_COLS}, true as in_numerator,
            1.0 as numerator_part, null::double as denominator_part
        from {_DISPUTE_FROM} and d.registered_on >= $m0 and d.registered_on < $m1 and d.is_petition""",
    "mediation_success_rate": f"""select 'dispute' as record_kind, {_DISPUTE_COLS},
            d.result = '调解成功' as in_numerator, (d.result = '调解成功')::double as numerator_part,
            1.0 as denominator_part
        from {_DISPUTE_FROM} and d.concluded_on >= $m0 and d.concluded_on < $m1
          and d.result in ('调解成功', '调解不成功', '移交')""",
    "points_participation_rate": _POINT_HOUSEHOLDS.format(
        num="pts.records is not null", num_part="pts.records is not null", den_part="hh.household_key is not null",
        where="hh.household_key is not null or pts.records is not null"),
    "points_per_household": _POINT_HOUSEHOLDS.format(
        num="pts.records is not null", num_part="coalesce(pts.confirmed_points, 0)",
        den_part="hh.household_key is not null", where="hh.household_key is not null or pts.records is not null"),
    "redemption_rate": _POINT_HOUSEHOLDS.format(
        num="red.redeemed_points is not null", num_part="coalesce(red.redeemed_points, 0)",
        den_part="coalesce(pts.positive_points, 0)", where="pts.records is not null or red.redeemed_points is not null"),
    "entry_timeliness_rate": """with recs as (
            select 'visit' as record_kind, r.record_id, r.grid_code, g.village_code, r.visit_type as record_type,
                   r.visited_at as occurred_at, r.entered_at from fct_visit r join dim_grid g using (grid_code)
            where r.village_code between $vlo and $vhi and r.visited_at >= $m0 and r.visited_at < $m1 and starts_with(r.grid_code, $u) and starts_with(r.grid_code, $s)
            union all
            select 'event', r.event_id, r.grid_code, g.village_code, r.category, r.reported_at, r.entered_at
            from fct_event r join dim_grid g using (grid_code)
            where r.village_code between $vlo and $vhi and r.reported_at >= $m0 and r.reported_at < $m1 and starts_with(r.grid_code, $u) and starts_with(r.grid_code, $s)
            union all
            select 'points', p.record_id, null, p.village_code, p.item, p.occurred_on::timestamp, p.entered_on::timestamp
            from fct_points p join dim_village v using (village_code)
            where p.village_code between $vlo and $vhi and p.occurred_on >= $m0 and p.occurred_on < $m1 and starts_with(p.village_code, $u) and starts_with(p.village_code, $s))
        select *, date_diff('day', occurred_at::date, entered_at::date) as lag_days,
               coalesce(date_diff('day', occurred_at::date, entered_at::date) <= $days, false) as in_numerator,
               coalesce(date_diff('day', occurred_at::date, entered_at::date) <= $days, false)::double as numerator_part,
               1.0 as denominator_part
        from recs""",
}
_DRILL_SQL["disputes_per_1000"] = _DRILL_SQL["disputes_registered"]  # denominator: population, not records


def _village_range(code: str) -> dict[str, str]:
    """Bounds on village_code for a unit code: the facts are sorted by (village_code, time), so a
    range predicate lets DuckDB skip row groups (starts_with cannot). Codes are digits, below '~'."""
    return {"vlo": code[:12], "vhi": code[:12] + "~"}


def _quarter_start(period: str) -> date:
    y, m = int(period[:4]), int(period[5:7])
    return date(y, (m - 1) // 3 * 3 + 1, 1)


def drill_records(scope: Scope, period: str, indicator_id: str, unit_code: str | None = None, *,
                  con=None) -> pd.DataFrame:
    """The records behind one indicator value of a unit and month (drill-through from a KPI card or
    a league-table cell). Rates list their denominator set with ``in_numerator`` marking the
    numerator (e.g. on_time_rate: the events closed in the month, on-time ones marked); counts and
    medians list their numerator set. ``numerator_part`` / ``denominator_part`` sum to the
    indicator's numerator / denominator (disputes_per_1000's denominator is the population)."""
    if indicator_id not in _DRILL_SQL:
        raise ValueError(f"unknown indicator {indicator_id!r}")
    code = _unit(scope, unit_code)
    sql = _DRILL_SQL[indicator_id]
    df = _q(con, f"select * from ({sql}) order by record_id",
            {"p": period, "m0": _month_bounds(period)[0], "m1": _month_bounds(period)[1],
             "u": code, "s": scope.code, "q0": _quarter_start(period), **_village_range(code),
             "days": catalogue().settings.entry_timeliness_days})
    return df


_OVERDUE_BANDS = ((7, "1–7"), (30, "8–30"), (90, "31–90"))


def _events_sql(where: str) -> str:
    """Events of the unit with their lifecycle, whether they closed late and, when still open, how
    many days past the deadline they are as of the county's latest export: rows of the read model
    event_case_list (the columns and the rules are written there). It is ordered by report time, so
    a month prunes row groups and a village range would not (_village_range is for the facts)."""
    return f"""select * from main.event_case_list e
        where starts_with(e.grid_code, $u) and starts_with(e.grid_code, $s)
          {where}"""


# A case list shows at most this many rows on the page (the first by its order); the download has
# them all. A county's month is ~4,300 events: every row on screen cost 30-40 ms a run (issue #18).
CASE_LIST_ROWS = 500


def _event_where(period: str | None, filtered: bool = True) -> str:
    where = "and ($c is null or e.category = $c) and ($st is null or e.status = $st)" if filtered else ""
    if period:  # a fixed clause, chosen, not formatted with values
        where += " and e.reported_at >= $m0 and e.reported_at < $m1"
    return where


def event_cases(scope: Scope, period: str | None, unit_code: str | None = None, category: str | None = None,
                status: str | None = None, overdue: bool = False, limit: int | None = None, *,
                con=None) -> pd.DataFrame:
    """Events reported in the month (all months when period is None) for the unit, filtered by
    category and status; ``overdue`` keeps open events past their deadline and late closures;
    ``limit``: the first rows only (newest first), as the page shows them."""
    code = _unit(scope, unit_code)
    df = _q(con, f"select * from ({_events_sql(_event_where(period))}) where (not $o or overdue_open or closed_late) "
                 "order by reported_at desc, event_id limit $lim",
            {"p": period, "u": code, "s": scope.code, "c": category, "st": status, "o": bool(overdue),
             "lim": limit})
    return df


def event_case_counts(scope: Scope, period: str | None, unit_code: str | None = None, category: str | None = None,
                      status: str | None = None, overdue: bool = False, *, con=None) -> pd.DataFrame:
    """What the events tab says above its list, without fetching it, as one row for the unit: the
    events matching the filters (n, closed, closed late, open past the deadline) and the categories
    and statuses there are to filter by (of the unit's events in the period, whatever the filters)."""
    code = _unit(scope, unit_code)
    return _q(con, f"""with ev as (select * from ({_events_sql(_event_where(period, filtered=False))})),
                           sel as (select * from ev where ($c is null or category = $c) and ($st is null or status = $st)
                                   and (not $o or overdue_open or closed_late))
                      select $u::varchar as unit_code,
                             (select count(*) from sel) as n,
                             (select count(*) filter (where is_closed) from sel) as closed,
                             (select count(*) filter (where closed_late) from sel) as late,
                             (select count(*) filter (where overdue_open) from sel) as overdue,
                             (select coalesce(list(distinct category order by category), [])
                                from ev where category is not null) as categories,
                             (select coalesce(list(distinct status order by status), [])
                                from ev where status is not null) as statuses""",
              {"p": period, "u": code, "s": scope.code, "c": category, "st": status, "o": bool(overdue)})


def _band_counts() -> str:
    """One count per age band (the same bands as _band), as SQL columns named by the band."""
    cols, low = [], None
    for top, name in _OVERDUE_BANDS:
        cond = f"days_overdue <= {top}" if low is None else f"days_overdue > {low} and days_overdue <= {top}"
        cols.append(f'count(*) filter (where {cond}) as "{name}"')
        low = top
    cols.append(f'count(*) filter (where days_overdue > {low}) as ">90"')
    return ", ".join(cols)


_BAND_COUNTS = _band_counts()  # from the fixed table above, never from input


def _band(days: Any) -> str | None:
    if days is None or days != days:
        return None
    for top, name in _OVERDUE_BANDS:
        if days <= top:
            return name
    return ">90"


def overdue_events(scope: Scope, unit_code: str | None = None, limit: int | None = None, *, con=None) -> pd.DataFrame:
    """Open events past their deadline (超期未办结), whatever month they were reported in, oldest
    first, with an age band of days past the deadline (1–7, 8–30, 31–90, >90); ``limit``: the
    first rows only, as the page shows them (overdue_summary counts them all)."""
    code = _unit(scope, unit_code)
    df = _q(con, f"select * from ({_events_sql('')}) where overdue_open order by days_overdue desc, event_id "
                 "limit $lim",
            {"u": code, "s": scope.code, "lim": limit})
    df["age_band"] = df["days_overdue"].map(_band)
    return df


def overdue_summary(scope: Scope, unit_code: str | None = None, *, con=None) -> pd.DataFrame:
    """超期未办结 counted by village and grid and age band (one row per grid with any)."""
    code = _unit(scope, unit_code)
    return _q(con, f"""select grid_code, grid_name, village_code, village_name, count(*) as overdue, {_BAND_COUNTS}
                       from ({_events_sql('')}) where overdue_open
                       group by grid_code, grid_name, village_code, village_name
                       order by overdue desc, grid_code""",
              {"u": code, "s": scope.code})


def dispute_cases(scope: Scope, period: str | None, unit_code: str | None = None, dispute_type: str | None = None,
                  result: str | None = None, *, con=None) -> pd.DataFrame:
    """Dispute cases registered in the month (all months when period is None): state (调解中 / 移交
    / 调解不成功 / 调解成功), party count, amount, mediation organisation; parties stay masked."""
    code = _unit(scope, unit_code)
    when = "and d.registered_on >= $m0 and d.registered_on < $m1" if period else ""
    return _q(
        con,
        """select d.case_id, d.village_code, v.name as village_name, d.township_code, d.registered_on,
                  d.dispute_type, d.parties_masked, d.party_count, d.amount, d.mediation_org, d.mediator,
                  d.result, d.concluded_on, date_diff('day', d.registered_on, d.concluded_on) as days_to_conclude,
                  d.is_petition, d.related_event_id
           from fct_dispute d left join dim_village v using (village_code)
           where d.village_code between $vlo and $vhi and starts_with(d.village_code, $u)
             and starts_with(d.village_code, $s)
             and ($dt is null or d.dispute_type = $dt) and ($r is null or d.result = $r) """ + when + """
           order by d.registered_on desc, d.case_id""",
        {"p": period, "u": code, "s": scope.code, "dt": dispute_type, "r": result, **_village_range(code)},
    )


_PARTS_SQL = (Path(__file__).parent / "models" / "marts" / "village_score_parts.sql").read_text(encoding="utf-8")
# The scores of SPEC §6 (village_score_parts, village_scores) for one month, with the weights and the
# board share bound: the same arithmetic as the marts, term by term (weights summed as decimal(18, 6),
# each contribution rounded to decimal(18, 10), the score their decimal sum, ranks over the decimal
# score per county, k = ceil(round(share × n, 9))), over the month's published village cells
# (unit_indicator_cells: attainment, low n, veto), so official weights give village_scores exactly
# (tests/test_cases_drill.py). One flat statement with the official league and the labels: the marts'
# own SQL nested here took ~20 ms just to bind (issue #18 item 1). One aggregation per village (the
# terms as a list, each rounded with the village's counted weight) and the weights looked up in the
# bound lists: ~15 % less than three aggregations and a join to the unnested weights.
_WHATIF_SQL = f"""with
share as (select coalesce($share, value) as board_share from main.cfg_setting where key = 'board_share'),
cells as (
    select c.unit_code as village_code,
           coalesce(list_extract($ws::double[], list_position($ids::varchar[], c.indicator_id)), c.weight) as weight,
           c.attainment, c.veto, c.value, c.value is not null and not c.low_n as counted
    from main.unit_indicator_cells c
    where c.period = $p and c.unit_level = 'village'),
village_totals as (
    select village_code,
           bool_or(counted) filter (where weight > 0) as any_counted,
           sum(weight::decimal(18, 6)) filter (where counted and weight > 0)::double as counted_weight,
           list(struct_pack(w := weight, a := attainment)) filter (where counted and weight > 0) as terms,
           bool_or(value > 0) filter (where veto) as veto
    from cells group by village_code),
village_months as (
    select v.village_code, v.county_code,
           case when t.any_counted then list_sum(list_transform(t.terms,
               lambda x: (100.0 * x.w * x.a / t.counted_weight)::decimal(18, 10))) end as score,
           coalesce(t.veto, false) as veto
    from main.dim_village v left join village_totals t using (village_code)),
ranked as (
    select village_code,
           rank() over (partition by county_code order by score desc) as rank,
           rank() over (partition by county_code order by score asc) - 1 as n_lower,
           ceil(round(share.board_share * count(*) over (partition by county_code), 9))::bigint as k
    from village_months cross join share where score is not null),
whatif as (
    select m.village_code, m.score::double as score, r.rank::bigint as rank,
           case when m.veto then 'black' when r.rank is null then null
                when r.rank - 1 < r.k then 'red' when r.n_lower < r.k then 'black' end as board
    from village_months m left join ranked r using (village_code)),
{_LABELS_CTE}
select s.rank, s.village_code, l.label as name, s.township_code, t.name as township_name, s.score,
       s.prev_rank, s.rank_change, s.board, s.veto,
       w.score as wi_score, w.rank as wi_rank, w.board as wi_board,
       coalesce(s.rank, -1) <> coalesce(w.rank, -1) as rank_changed,
       coalesce(s.board, '') <> coalesce(w.board, '') as board_changed,
       w.score - s.score as score_delta
from main.village_scores s
join labels l using (village_code)
left join main.dim_township t on t.township_code = s.township_code
left join whatif w using (village_code)
where s.period = $p and starts_with(s.village_code, $u) and starts_with(s.village_code, $s)
order by w.rank nulls last, s.village_code"""


def whatif_scores(scope: Scope, period: str, weights: dict[str, float] | None = None,
                  board_share: float | None = None, unit_code: str | None = None, *, con=None) -> pd.DataFrame:
    """The league under other weights and board share (page 10), beside the official one: nothing
    is saved. Ranks and boards stay county-wide; rows are the unit's villages. Columns: the
    official score/rank/board, the what-if ones (``wi_``), and whether rank or board changed."""
    code = _unit(scope, unit_code)
    weights = dict(weights or {})
    if board_share is not None and not 0 < float(board_share) <= 0.5:
        raise ValueError("board_share must be in (0, 0.5]")
    if any(float(w) < 0 for w in weights.values()):
        raise ValueError("weights must not be negative")
    return _q(con, _WHATIF_SQL, {"ids": list(weights), "ws": [float(w) for w in weights.values()],
                                 "share": None if board_share is None else float(board_share),
                                 "p": period, "u": code, "s": scope.code})


# ---------------------------------------------------------------------------------------------
# 数据导入 Upload (pipelines/uploads.py): what the upload child needs from the published copy


def household_divisions(scope: Scope, *, con=None) -> pd.DataFrame:
    """household_key → village of every registry household in scope (to tell whose a points row is)."""
    return _q(
        con,
        """select household_key, village_code from dim_household
           where starts_with(village_code, $s) order by village_code, household_key""",
        {"s": scope.code},
    )


def batch_quarantine(scope: Scope, batch_id: str | None = None, *, con=None) -> pd.DataFrame:
    """The quarantined rows of one batch, in file and row order (county accounts only: quarantine rows
    carry no division code; the upload child reads its own batch with the county's scope after
    refusing any file with rows outside the uploader's scope)."""
    return _county_only(
        scope,
        """select batch_id, file_name, sheet, row_number, source_kind, reason_code, reason_detail, raw_row
           from quarantine where $b is null or batch_id = $b
           order by source_kind, file_name, sheet nulls first, row_number""",
        {"b": batch_id},
        con,
    )


# ---------------------------------------------------------------------------------------------
# 总览 at a glance (dashboard-glance, #14 "At a glance"): where a unit stands, who leads, who lags,
# what changed. Every score part comes from the marts' own SQL (village_score_parts): one definition.

_GLANCE_PARTS = f"""with
unit_indicator_cells as (
    select * from main.unit_indicator_cells where period in ($p, $prev) and unit_level = 'village'),
village_score_parts as ({_PARTS_SQL})
select period, village_code, indicator_id, contribution::double as contribution from village_score_parts"""


def league_position(scope: Scope, period: str, unit_code: str | None = None, *, con=None) -> pd.DataFrame:
    """The unit's villages with their county-wide rank and how many villages the county ranked that
    month ("第 4 名 / 共 18 个村"): a village account sees its own rank and the count, no other village."""
    code = _unit(scope, unit_code)
    return _q(
        con,
        f"""with r as (select village_code, township_code, score, rank, board, veto,
                             count(rank) over (partition by left(village_code, 6)) as n_ranked
                      from village_scores where period = $p),
           {_LABELS_CTE}
           select r.village_code, l.label as name, r.township_code, r.score, r.rank, r.n_ranked, r.board, r.veto
           from r join labels l using (village_code)
           where starts_with(r.village_code, $u) and starts_with(r.village_code, $s)
           order by r.rank nulls last, r.village_code""",
        {"p": period, "u": code, "s": scope.code},
    )


STEADY_MIN = 0.05  # points: scores are shown to one decimal, a smaller move without lag is no move


def village_movers(scope: Scope, period: str, unit_code: str | None = None, *, con=None) -> pd.DataFrame:
    """Each village's score and rank against last month, with the part of the score change that is
    lag taken out (#14 defect 5): the contribution change of points rates while ≥ PENDING_MATERIAL of
    the village's month's points records await review, and of quarter-to-date rates (they climb within
    a quarter and restart at its first month, so month on month they say nothing). Columns:
    score_change (as published), lag_change (that lag part), steady_change (the rest: what a leader
    may headline), lag_pending / lag_quarter (whether each kind of lag moved the score)."""
    code = _unit(scope, unit_code)
    prev = _prev_period(period)
    m0, m1 = _month_bounds(period)
    league = league_table(scope, period, code, con=con)
    before = _q(con, """select village_code, score as prev_score from village_scores
                        where period = $prev and starts_with(village_code, $u) and starts_with(village_code, $s)""",
                {"prev": prev, "u": code, "s": scope.code})
    parts = _q(con, _GLANCE_PARTS + " where starts_with(village_code, $u) and starts_with(village_code, $s)",
               {"p": period, "prev": prev, "u": code, "s": scope.code})
    pend = _q(con, """select village_code,
                             count(*) filter (where review_status in ('待审核', '已公示')) / count(*) as share
                      from fct_points where occurred_on >= $m0 and occurred_on < $m1
                        and starts_with(village_code, $u) and starts_with(village_code, $s)
                      group by village_code""",
              {"m0": m0, "m1": m1, "u": code, "s": scope.code})
    pending = {v for v, s in zip(pend["village_code"], pend["share"], strict=True) if s >= PENDING_MATERIAL}
    qtd = {i.id for i in indicators() if i.target_at == "quarter_end"}
    wide = parts.pivot_table(index=["village_code", "indicator_id"], columns="period", values="contribution",
                             aggfunc="sum").reindex(columns=[period, prev])
    delta = (wide[period].fillna(0) - wide[prev].fillna(0)).rename("delta").reset_index()
    delta["pending"] = [i in CONFIRMED_ONLY and v in pending for v, i in zip(delta["village_code"],
                                                                          delta["indicator_id"], strict=True)]
    delta["quarter"] = delta["indicator_id"].isin(qtd)
    moved = delta[(delta["pending"] | delta["quarter"]) & (delta["delta"].abs() > 1e-9)]
    lag = moved.groupby("village_code")["delta"].sum()
    out = league.merge(before, on="village_code", how="left")
    out["score_change"] = out["score"] - out["prev_score"]
    out["lag_change"] = out["village_code"].map(lag).fillna(0.0)
    out["steady_change"] = out["score_change"] - out["lag_change"]
    out["lag_pending"] = out["village_code"].isin(set(moved.loc[moved["pending"], "village_code"]))
    out["lag_quarter"] = out["village_code"].isin(set(moved.loc[moved["quarter"], "village_code"]))
    # What may be headlined (page and pack alike): the move without lag goes the published way, and is
    # a move at the one decimal scores are shown to.
    out["headline"] = (((out["score_change"] > 0) & (out["steady_change"] > STEADY_MIN))
                       | ((out["score_change"] < 0) & (out["steady_change"] < -STEADY_MIN)))
    return out.reset_index(drop=True)


def township_standings(scope: Scope, period: str, *, con=None) -> pd.DataFrame:
    """Townships against townships (county view): villages scored, mean score and last month's, rank
    of the mean among the county's townships, and how many villages are on each board."""
    return _q(
        con,
        """with s as (
             select township_code, period, count(score) as villages, avg(score) as score_mean,
                    count(*) filter (where board = 'red') as red, count(*) filter (where board = 'black') as black,
                    count(*) filter (where veto) as vetoes
             from village_scores where period in ($p, $prev) group by all),
           now as (select *, rank() over (partition by left(township_code, 6) order by score_mean desc nulls last)
                             as rank from s where period = $p)
           select now.township_code, t.name, now.villages, now.score_mean, prev.score_mean as prev_score_mean,
                  now.score_mean - prev.score_mean as score_change, now.rank, now.red, now.black, now.vetoes
           from now left join s as prev on prev.township_code = now.township_code and prev.period = $prev
           left join dim_township t on t.township_code = now.township_code
           where starts_with(now.township_code, $s)
           order by now.rank, now.township_code""",
        {"p": period, "prev": _prev_period(period), "s": scope.code},
    )
