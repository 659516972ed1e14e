"""Bad rows, one reason each (SPEC §3.6).

Every injector changes exactly one thing in one clean row (or adds one row), chosen so that the injected
reason is the FIRST applicable one in the precedence order: the row has no earlier fault, and the
change cannot create one (a bad enum is never put on a field that decides a conditional requirement;
a time moved into the future cannot break the lifecycle order; an ID conflict reuses an id whose
earlier observation was clean and loaded).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from pipelines.generate import render
from pipelines.generate.activity import DAY, days_in
from pipelines.generate.world import World
from pipelines.generate.writers import BAD, Table
from pipelines.sources import REASON_CODES

BAD_NUMBERS = ("待定", "五", "约3", "不详", "5分左右")
BAD_ENUMS = {
    "visit_type": "座谈",
    "category": "交通事故",
    "source": "微信群",
    "handling_level": "组",
    "satisfaction": "一般",
    "dispute_type": "债务纠纷",
    "mediation_org": "派出所",
    "is_petition": "不详",
    "review_status": "已作废",
    "key_type": "特困户",
}
ENUM_KEYS = {"visit_type": "visit_type", "category": "event_category", "source": "event_source",
             "handling_level": "handling_level", "satisfaction": "satisfaction", "dispute_type": "dispute_type",
             "mediation_org": "mediation_org", "review_status": "review_status", "key_type": "key_type"}
UNKNOWN_VILLAGE_STEMS = ("黄泥塘", "狮子岩", "鸡公岭", "牛角湾", "蛤蟆石", "乌龟潭")
for _k, _v in BAD_ENUMS.items():  # a "bad" enum value that the readers would accept is a generator bug
    assert _k == "is_petition" or not render.is_enum_value(ENUM_KEYS[_k], _v), _v


def fmt_time(sec: int, st: render.Style, date_only: bool) -> str:
    t = dt.datetime.fromtimestamp(int(sec), dt.UTC).replace(tzinfo=None)
    if st.fmt == "xlsx" and st.xlsx_dates != "text":
        return t.strftime(render.ISO_D if date_only else render.ISO_DT)
    fmts = render.DATE_FORMATS if date_only else render.DATETIME_FORMATS
    f = fmts[st.d_format if date_only else st.dt_format]
    return t.strftime(f.replace("%-m", str(t.month)).replace("%-d", str(t.day)).replace("%-H", str(t.hour)))


def bad_date(rng: np.random.Generator, sec: int, st: render.Style, date_only: bool) -> str:
    """A date that cannot be read or does not exist, in the file's own format (2025-06-31, 2025年2月30日)."""
    t = dt.datetime.fromtimestamp(int(sec), dt.UTC)
    if rng.random() < 0.25:
        return str(rng.choice(["待补录", "abc", "2025-13-05", "/"]))
    base = dt.datetime(t.year, t.month, 28, 10, 0)
    text = fmt_time(int(base.replace(tzinfo=dt.UTC).timestamp()), st, date_only)
    return text.replace("28", str(days_in(t.year, t.month) + 1), 1)


@dataclass
class FileCtx:
    """What an injector may look at for one file (or sheet)."""

    world: World
    rng: np.random.Generator
    st: render.Style
    export: int  # epoch seconds
    table: Table
    typed: pl.DataFrame  # same row order as table.rows
    prev_ids: set[str] = field(default_factory=set)  # ids accepted from an earlier export (clean)
    prev_rows: pl.DataFrame | None = None  # non-snapshot: clean rendered rows of the previous file
    unknown_counter: list[int] = field(default_factory=lambda: [0])
    turns: dict = field(default_factory=dict)  # shared across a run's files: whose turn it is
    _cache: dict = field(default_factory=dict)

    def pick(self, mask: np.ndarray | None = None) -> int | None:
        """A random row satisfying mask that no injector or duplicate has taken yet (O(1) expected:
        bad rows are a small share, so random draws from the candidates rarely hit a taken row)."""
        key = ("cand", id(mask))
        if key not in self._cache:
            cand = np.arange(self.table.n) if mask is None else np.flatnonzero(mask)
            self._cache[key] = (mask, cand)  # keep the mask alive so its id stays unique
        cand = self._cache[key][1]
        if len(cand) == 0:
            return None
        used = self.table.used
        for _ in range(64):
            i = int(cand[int(self.rng.integers(len(cand)))])
            if not used[i]:
                return i
        free = cand[~used[cand]]
        return int(free[int(self.rng.integers(len(free)))]) if len(free) else None

    def col(self, name: str) -> np.ndarray:
        if name not in self._cache:
            self._cache[name] = self.typed[name].to_numpy()
        return self._cache[name]

    def flag(self, name: str) -> np.ndarray:
        key = ("flag", name)
        if key not in self._cache:
            self._cache[key] = self.col(name).astype(bool)
        return self._cache[key]

    def present(self, name: str) -> np.ndarray:
        key = ("present", name)
        if key not in self._cache:
            v = self.col(name).astype(float)
            self._cache[key] = ~np.isnan(v) & (v > 0)
        return self._cache[key]

    def notnull(self, name: str) -> np.ndarray:
        key = ("notnull", name)
        if key not in self._cache:
            self._cache[key] = self.table.rows[name].is_not_null().to_numpy()
        return self._cache[key]

    def seen_before(self, id_col: str) -> np.ndarray:
        """Rows whose id was accepted from an earlier export."""
        key = ("seen", id_col)
        if key not in self._cache:
            prev = pl.Series(sorted(self.prev_ids), dtype=pl.Utf8)
            self._cache[key] = self.typed[id_col].is_in(prev.implode()).to_numpy()
        return self._cache[key]

    def n_unknown(self) -> int:
        self.unknown_counter[0] += 1
        return self.unknown_counter[0]


Injector = Callable[[FileCtx], bool]


def missing(fields: list[tuple[str, str | None]]) -> Injector:
    """Empty one required field; (field, condition column) where the condition column must be truthy.

    Fields are taken in turn, conditional ones (required only when…) first, so that even a source with
    few bad rows shows each kind of missing value."""
    fields = sorted(fields, key=lambda x: x[1] is None)
    key = ("missing", tuple(n for n, _ in fields))

    def f(c: FileCtx) -> bool:
        k = c.turns.get(key, 0)
        c.turns[key] = k + 1
        name, cond = fields[k % len(fields)]
        i = c.pick(c.flag(cond) if cond else None)
        if i is None:
            return False
        c.table.mutate(i, {name: None}, "MISSING_REQUIRED", name)
        return True
    return f


def bad_date_in(fields: list[tuple[str, str, bool]]) -> Injector:
    """fields: (rendered column, typed seconds column, date_only)."""
    def f(c: FileCtx) -> bool:
        name, tcol, date_only = fields[int(c.rng.integers(len(fields)))]
        vals = c.col(tcol)
        i = c.pick(c.present(tcol))
        if i is None:
            return False
        c.table.mutate(i, {name: bad_date(c.rng, int(vals[i]), c.st, date_only)}, "BAD_DATE", name)
        return True
    return f


def bad_number(fields: list[str]) -> Injector:
    def f(c: FileCtx) -> bool:
        name = fields[int(c.rng.integers(len(fields)))]
        i = c.pick(c.notnull(name))
        if i is None:
            return False
        c.table.mutate(i, {name: str(c.rng.choice(BAD_NUMBERS))}, "BAD_NUMBER", name)
        return True
    return f


def bad_enum(fields: list[str], cond: str | None = None) -> Injector:
    def f(c: FileCtx) -> bool:
        name = fields[int(c.rng.integers(len(fields)))]
        mask = c.notnull(name)
        if cond:
            key = ("and", name, cond)
            if key not in c._cache:
                c._cache[key] = mask & c.flag(cond)
            mask = c._cache[key]
        i = c.pick(mask)
        if i is None:
            return False
        c.table.mutate(i, {name: BAD_ENUMS[name]}, "BAD_ENUM", name)
        return True
    return f


def unknown_grid(c: FileCtx) -> bool:
    i = c.pick()
    if i is None:
        return False
    g = int(c.col("grid")[i])
    code = c.world.v_code[int(c.world.g_village[g])] + f"{900 + c.n_unknown() % 99:03d}"
    c.table.mutate(i, {"grid_code": code}, "UNKNOWN_GRID", "grid_code")
    return True


def unknown_household(cond: str | None = None) -> Injector:
    def f(c: FileCtx) -> bool:
        i = c.pick(c.flag(cond) if cond else None)
        if i is None:
            return False
        hid = str(c.col("household_id")[i])
        c.table.mutate(i, {"household_id": hid[:12] + f"{9000 + c.n_unknown() % 999:04d}"},
                       "UNKNOWN_HOUSEHOLD", "household_id")
        return True
    return f


def unknown_village_code(c: FileCtx) -> bool:
    i = c.pick()
    if i is None:
        return False
    v = int(c.col("village")[i])
    code = c.world.v_code[v][:9] + f"{950 + c.n_unknown() % 49:03d}"
    c.table.mutate(i, {"village_code": code}, "UNKNOWN_VILLAGE", "village_code")
    return True


def future(fields: list[tuple[str, bool]], cond: str | None = None) -> Injector:
    """Move an occurrence/entry time past the export time; (column, date_only)."""
    def f(c: FileCtx) -> bool:
        name, date_only = fields[int(c.rng.integers(len(fields)))]
        i = c.pick(c.flag(cond) if cond else None)
        if i is None:
            return False
        day0 = (c.export // DAY + int(c.rng.integers(2, 6))) * DAY
        c.table.mutate(i, {name: fmt_time(day0 + 10 * 3600, c.st, date_only)}, "FUTURE_DATE", name)
        return True
    return f


def id_conflict_snapshot(id_col: str, field_name: str, alternatives: Callable[[FileCtx, int], str]) -> Injector:
    """A record accepted from an earlier export comes back with a different never-changing field."""
    def f(c: FileCtx) -> bool:
        if not c.prev_ids:
            return False
        i = c.pick(c.seen_before(id_col))
        if i is None:
            return False
        c.table.mutate(i, {field_name: alternatives(c, i)}, "ID_CONFLICT", field_name)
        return True
    return f


def id_conflict_repeat(field_name: str, change: Callable[[FileCtx, dict], str]) -> Injector:
    """Non-snapshot sources: a record of the previous file reappears with one field changed."""
    def f(c: FileCtx) -> bool:
        if c.prev_rows is None or c.prev_rows.height == 0:
            return False
        row = c.prev_rows.row(int(c.rng.integers(c.prev_rows.height)), named=True)
        c.prev_rows = c.prev_rows.filter(pl.col(c.prev_rows.columns[0]) != row[c.prev_rows.columns[0]])
        row = dict(row)
        row[field_name] = change(c, row)
        c.table.add(row, BAD, "ID_CONFLICT", field_name)
        return True
    return f


def inject(c: FileCtx, injectors: dict[str, Injector], n_bad: int, pending: list[str]) -> list[str]:
    """Inject about n_bad bad rows, reasons never yet used first, then round-robin. Returns the reasons used."""
    order = [r for r in REASON_CODES if r in injectors]
    # Reasons this source has not shown yet go first, a few per file so they spread over files.
    todo = [r for r in pending if r in injectors][: max(3, n_bad)]
    k = 0
    used = []
    attempts = 0
    while (len(used) < n_bad or todo) and attempts < n_bad + 3 * len(order):
        attempts += 1
        r = todo.pop(0) if todo else order[(k + int(c.rng.integers(len(order)))) % len(order)]
        k += 1
        if injectors[r](c):
            used.append(r)
    return used
