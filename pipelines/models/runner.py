"""The model runner: run one layer's SQL models (one `select` per file) in dependency order.

Each `models/<layer>/<name>.sql` becomes `create or replace table <name> as <select>`. Dependencies
are read from the SQL itself: a model depends on every other model of its layer whose name it
mentions, so the order needs no upkeep. Built tables that are in the published contract
(schema.yml) are checked against it, and a mismatch raises before anything is published.

`build_marts` first materialises the indicator catalogue into small tables (`cfg_indicator`,
`cfg_indicator_level`, `cfg_setting`, `cfg_worker_item`,
`cfg_worker_grade`) so that the SQL reads targets, weights and settings from
tables and no target or weight is written into SQL.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from datetime import date
from functools import cache
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

from pipelines.models import contract
from pipelines.sql_literals import month_literal, table_columns

MODELS_DIR = Path(__file__).parent
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_COMMENT = re.compile(r"--[^\n]*")


class ModelError(RuntimeError):
    """A model failed to build or its table breaks the published contract (a defect, not user input)."""


def model_files(layer: str) -> dict[str, Path]:
    """model name → SQL file for one layer (folder under models/)."""
    if not _NAME.match(layer):
        raise ValueError(f"bad layer name {layer!r}")
    folder = MODELS_DIR / layer
    files = {p.stem: p for p in sorted(folder.glob("*.sql"))}
    for name in files:
        if not _NAME.match(name):
            raise ModelError(f"model file name {name!r} is not a valid table name")
    return files


def dependency_order(layer: str) -> list[str]:
    """Models of a layer ordered so that every model comes after the models it mentions."""
    files = model_files(layer)
    graph = {}
    for name, path in files.items():
        sql = _COMMENT.sub("", path.read_text(encoding="utf-8"))
        graph[name] = {other for other in files if other != name and re.search(rf"\b{other}\b", sql)}
    try:
        # static_order is deterministic for a given graph; sort the input for a stable order.
        return list(TopologicalSorter(dict(sorted(graph.items()))).static_order())
    except CycleError as e:
        raise ModelError(f"models in {layer}/ reference each other in a cycle: {e.args[1]}") from None


# --- models kept by month (issue #12: a month's ingest costs what the month changes) --------------
#
# A model may declare, in a comment line of its SQL,
#     -- by month: <month column> ~ <fact table>.<date column>[, …][; <window>]
# (the month column: an output column holding a row's month, as a DATE of its first day, a 'YYYY-MM'
# VARCHAR, or an INTEGER year for a model kept by year) meaning: the output rows of month m are computed from the rows of those fact tables whose date
# column falls in m, from the rows of month m of the by-month models it reads, and otherwise only
# from tables an incremental batch never changes (reference-built dim_ tables, the catalogue's cfg_
# tables, models reading neither facts nor models that do, such as int_unit_levels). The list after
# `~` is `inputs` when the model reads no fact table itself (it follows its inputs' months). The
# window widens "month m" for models that read other months too (WINDOWS): a change in month c
# changes the quarter to date (c to its quarter's end), the year (rows keyed by the year's first
# day), the months N later (`and 1, 3, 12 months later`: 环比, 同比) or every later month (`onward`).
# After an incremental batch such a model is updated only in the months the batch changed: the
# months of the replaced fact rows, before and after (`months_changed` below), and the months its
# by-month inputs were updated in, widened by its window: its rows of those months are deleted and
# computed again by the model's own SQL filtered to them. An input built in full builds its readers
# in full.
#     -- by month: <month column> ~ itself
# declares a small model built in full every time whose changed months are found by comparing its
# rows before and after (int_calendar: a month added or dropped at either end of the range).
# The declaration is checked against what the SQL reads (month_models); that it is true of the SQL
# is what tests/test_marts_by_month.py proves, holding by-month builds against full builds over
# random batchings. The catalogue's content is part of the build state (_state_hash): a changed
# setting rebuilds every model in full.

_BY_MONTH = re.compile(r"^--\s*by month:\s*(?P<column>[a-z_]+)\s*~\s*(?P<sources>[^\n(]*)", re.M)
_SOURCE = re.compile(r"^(?P<fact>fct_[a-z_]+)\.(?P<column>[a-z_]+)$")
_LATER = re.compile(r"^and (?P<lags>\d+(?:\s*,\s*\d+)*) months? later$")
_CORE_TABLE = re.compile(r"\b(?:fct|dim|cfg)_[a-z_]+\b")
ITSELF = "*"  # the `column` of a model's source when the source is that model's own updated months
WINDOWS = ("month", "quarter to date", "year", "later", "onward")


@dataclass(frozen=True)
class ByMonth:
    column: str  # the output column holding a row's month (DATE, 'YYYY-MM' VARCHAR or INTEGER year)
    sources: frozenset[tuple[str, str]]  # (fact table, date column) or (by-month input model, ITSELF)
    itself: bool = False  # declared `~ itself`: built in full, its changed months found by comparison
    window: str = "month"  # one of WINDOWS
    lags: tuple[int, ...] = ()  # the months of a `later` window


def sql_hash(sql: str) -> str:
    return hashlib.sha256(sql.encode("utf-8")).hexdigest()[:16]


def _reads(files: dict[str, Path], model: str, sql: str) -> set[str]:
    return {other for other in files if other != model and re.search(rf"\b{other}\b", sql)}


def _window(text: str, where: str) -> tuple[str, tuple[int, ...]]:
    text = " ".join(text.split())
    if not text:
        return "month", ()
    if text in WINDOWS and text != "later":
        return text, ()
    m = _LATER.match(text)
    if m:
        return "later", tuple(int(n) for n in m["lags"].split(","))
    raise ModelError(f"{where} over {text!r}: not one of quarter to date, year, and N months later, onward")


@cache
def month_models(layer: str = "marts") -> dict[str, ByMonth]:
    """model → its by-month declaration, for the models that declare one; a declaration the SQL
    contradicts (it reads an undeclared fact table, or a model that is neither kept by month nor
    constant) is a defect and raises."""
    files = model_files(layer)
    out: dict[str, ByMonth] = {}
    constant: set[str] = set()  # models reading no fact table and no model that does
    for model in dependency_order(layer):
        text = files[model].read_text(encoding="utf-8")
        sql = _COMMENT.sub("", text)
        facts = {t for t in _CORE_TABLE.findall(sql) if t.startswith("fct_")}
        reads = _reads(files, model, sql)
        if not facts and reads <= constant:
            constant.add(model)
        m = _BY_MONTH.search(text)
        if not m:
            continue
        where = f"model {layer}/{model}.sql is declared by month"
        listed_text, _, window_text = m["sources"].partition(";")
        window, lags = _window(window_text, where)
        listed = [s.strip() for s in listed_text.split(",") if s.strip()]
        if listed == ["itself"]:
            out[model] = ByMonth(m["column"], frozenset(), itself=True)
            continue
        if listed == ["inputs"]:
            listed = []
        own: set[tuple[str, str]] = set()
        for item in listed:
            src = _SOURCE.match(item)
            if not src:
                raise ModelError(f"{where} of {item!r}: not <fact table>.<date column>")
            own.add((src["fact"], src["column"]))
        for table in facts - {fact for fact, _ in own}:
            raise ModelError(f"{where} of {sorted(own)} but reads {table}")
        for other in sorted(reads - constant):
            if other not in out:
                raise ModelError(f"{where} but reads {other}, which is not")
            own.add((other, ITSELF))
        out[model] = ByMonth(m["column"], frozenset(own), window=window, lags=lags)
    return out


def month_sources(layer: str = "marts") -> set[tuple[str, str]]:
    """(fact table, date column) pairs whose changed months an incremental batch must record."""
    return {s for d in month_models(layer).values() for s in d.sources if s[1] != ITSELF}


def _as_month(value, sql_type: str) -> date | None:
    if value is None:
        return None
    kind = sql_type.split("(")[0].upper()
    if kind == "VARCHAR":
        return date(int(value[:4]), int(value[5:7]), 1)
    if kind in ("INTEGER", "BIGINT", "SMALLINT"):
        return date(int(value), 1, 1)
    return date(value.year, value.month, 1)


def _column_type(con, name: str, column: str) -> str:
    got = dict(table_columns(con, name)).get(column)
    if got is None:
        raise ModelError(f"model {name} is declared by month of column {column}, which it does not have")
    return got


def _add_months(d: date, n: int) -> date:
    years, month = divmod(d.month - 1 + n, 12)
    return date(d.year + years, month + 1, 1)


def _widen(months: set, decl: ByMonth) -> set:
    """The output months a change in `months` reaches through the model's window (not `onward`)."""
    if decl.window == "quarter to date":
        return {_add_months(c, k) for c in months for k in range(3 - (c.month - 1) % 3)}
    if decl.window == "year":
        return {date(c.year, 1, 1) for c in months}
    if decl.window == "later":
        return {_add_months(c, k) for c in months for k in (0, *decl.lags)}
    return set(months)


def _changed_by_comparison(con, name: str, decl: ByMonth) -> set | None:
    """The months whose rows of `name` differ from the previous build's (`_before_<name>`)."""
    before, typ = f"_before_{name}", _column_type(con, name, decl.column)
    diff = (f'((select * from "{before}" except all select * from "{name}") union all '
            f'(select * from "{name}" except all select * from "{before}"))')
    months = {_as_month(r[0], typ) for r in con.execute(f'select distinct "{decl.column}" from {diff}').fetchall()}
    con.execute(f'drop table "{before}"')
    return None if None in months else months


def _months_in(con, name: str, column: str, typ: str, where: str) -> set:
    return {_as_month(r[0], typ)
            for r in con.execute(f'select distinct "{column}" from "{name}" where {where}').fetchall()}


def _build_by_month(con, name: str, sql: str, decl: ByMonth, months_changed, state: dict,
                    state_hash: str, batch_id: str | None = None) -> set | None:
    """Update a by-month model in the changed months only; returns the months updated, or None
    when it has to be built in full (first build, its SQL or the catalogue changed, marts not built
    for the previous batch, an input built in full, a month unknown)."""
    if months_changed is None or state.get(name) != state_hash:
        return None
    changed: set = set()
    for source in decl.sources:
        got = months_changed.get(source)
        if got is None:  # a fact table rebuilt in full, a changed row without a date, an input built whole
            return None
        changed |= set(got)
    months = set()
    typ = _column_type(con, name, decl.column)
    if changed:
        if decl.window == "onward":  # every month from the first changed one, before and after
            where = f'"{decl.column}" >= {month_literal(min(changed), typ)}'
            months = _months_in(con, name, decl.column, typ, where)
        else:
            months = _widen(changed, decl)
            where = f"\"{decl.column}\" in ({', '.join(sorted(month_literal(m, typ) for m in months))})"
        con.execute(f'delete from "{name}" where {where}')
        con.execute(f'insert into "{name}" select * from (\n{sql}\n) where {where}')
        if decl.window == "onward":
            months |= _months_in(con, name, decl.column, typ, where)
    if batch_id is not None:  # for publish (reg_month_delta): exactly these months changed
        con.executemany("insert into reg_month_delta values (?, ?, ?)",
                        [[batch_id, name, None]] + [[batch_id, name, m] for m in sorted(months)])
    return months


def _build_compared(con, name: str, sql: str, decl: ByMonth, months_changed: dict | None) -> None:
    """Build a `~ itself` model in full; with months_changed, note the months its rows changed in."""
    exists = con.execute("select count(*) from duckdb_tables() where table_name = ? and not temporary "
                         "and database_name = current_database()", [name]).fetchone()[0]
    if months_changed is not None and exists:
        con.execute(f'create or replace temp table "_before_{name}" as select * from "{name}"')
    con.execute(f'create or replace table "{name}" as\n{sql}')
    if months_changed is not None:
        months_changed[(name, ITSELF)] = _changed_by_comparison(con, name, decl) if exists else None


def catalogue_fingerprint(con) -> str:
    """A hash of the cfg_ tables' content: part of every model's build state."""
    tables = [r[0] for r in con.execute("select table_name from duckdb_tables() where table_name like 'cfg\\_%' "
                                        "escape '\\' and database_name = current_database() "
                                        "order by table_name").fetchall()]
    parts = [t + ":" + str(con.execute(f'select string_agg(r::varchar, chr(10) order by r::varchar) '
                                       f'from "{t}" as r').fetchone()[0]) for t in tables]
    return sql_hash("\n".join(parts))


def _state_hash(sql: str, fingerprint: str) -> str:
    return sql_hash(sql + "\n-- catalogue " + fingerprint)


# model → seconds of its last build in this process (how it was built: "full", "months", "compared"),
# for the benchmarks' per-model profile (benchmarks/ingest_child.py).
LAST_BUILD: dict[str, tuple[float, str]] = {}


def run_models(con, layer: str, order: list[str] | None = None, months_changed=None,
               batch_id: str | None = None, fingerprint: str | None = None) -> dict[str, int]:
    """Build every model of `layer` (or just `order`, in that order); returns table → row count.

    months_changed ((fact table, date column) → the months whose fact rows the batch changed, or
    None for "all"; given only when the marts were built for the previous batch, see build_marts):
    models declared by month are updated in those months only. `fingerprint`: the catalogue's
    (catalogue_fingerprint), when the caller has it."""
    files = model_files(layer)
    order = order if order is not None else dependency_order(layer)
    counts: dict[str, int] = {}
    contract_tables = contract.tables()
    by_month = month_models(layer) if layer == "marts" else {}
    state = _mart_state(con) if by_month and months_changed is not None else {}
    if fingerprint is None:
        fingerprint = catalogue_fingerprint(con) if state else ""
    months_changed = dict(months_changed) if months_changed is not None else None  # models' own added below
    for name in order:
        if name not in files:
            raise ModelError(f"no model {layer}/{name}.sql")
        sql = files[name].read_text(encoding="utf-8").strip().rstrip(";")
        decl = by_month.get(name)
        started, how = time.perf_counter(), "full"
        try:
            if decl is not None and decl.itself:
                _build_compared(con, name, sql, decl, months_changed)
                how = "compared"
            else:
                updated = None if decl is None else _build_by_month(
                    con, name, sql, decl, months_changed, state, _state_hash(sql, fingerprint), batch_id)
                if updated is None:
                    con.execute(f'create or replace table "{name}" as\n{sql}')
                else:
                    how = f"{len(updated)} months"
                if decl is not None and months_changed is not None:  # what its readers follow
                    months_changed[(name, ITSELF)] = updated
        except Exception as e:  # DuckDB raises several error classes; name the model that failed
            raise ModelError(f"model {layer}/{name}.sql failed: {e}") from e
        if name in contract_tables:
            problems = contract.check(con, name)
            if problems:
                raise ModelError(f"model {layer}/{name}.sql breaks the contract: " + "; ".join(problems))
        counts[name] = con.execute(f'select count(*) from "{name}"').fetchall()[0][0]
        LAST_BUILD[name] = (time.perf_counter() - started, how)
    return counts


def materialise_catalogue(con, catalogue) -> None:
    """Write the catalogue into cfg_* tables the SQL joins to (values bound, never formatted in)."""
    con.execute(
        """
        create or replace table cfg_indicator (
            indicator_id varchar, ordinal integer, name_zh varchar, name_en varchar, unit varchar,
            grp varchar, kind varchar, scale double, direction varchar, target double,
            tolerance double, weight double, veto boolean,
            definition_zh varchar, definition_en varchar, target_at varchar
        )
        """
    )
    con.executemany(
        "insert into cfg_indicator values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [i.id, n, i.name_zh, i.name_en, i.unit, i.group, i.kind, i.scale, i.direction, i.target,
             i.tolerance, i.weight, i.veto, i.definition_zh, i.definition_en, i.target_at]
            for n, i in enumerate(catalogue.indicators)
        ],
    )
    # Everything else of the catalogue too, so that every reader downstream of publish (pages, pack,
    # notebooks) can rebuild the exact catalogue the scores used (catalogue.from_tables).
    con.execute("create or replace table cfg_group (group_id varchar, ordinal integer, name_zh varchar, "
                "name_en varchar)")
    con.executemany("insert into cfg_group values (?, ?, ?, ?)",
                    [[g.id, n, g.name_zh, g.name_en] for n, g in enumerate(catalogue.groups)])
    con.execute("create or replace table cfg_indicator_level (indicator_id varchar, unit_level varchar)")
    con.executemany(
        "insert into cfg_indicator_level values (?, ?)",
        [[i.id, level] for i in catalogue.indicators for level in i.levels],
    )
    con.execute("create or replace table cfg_setting (key varchar, value double)")
    con.executemany(
        "insert into cfg_setting values (?, ?)",
        [[k, float(v)] for k, v in vars(catalogue.settings).items()]
        + [["worker_base", float(catalogue.workers.base)]],
    )
    # The grid workers' scoring sheet (SPEC §6.1): points per unit and cap per item, grade thresholds.
    con.execute(
        "create or replace table cfg_worker_item (item varchar, ordinal integer, name_zh varchar, "
        "name_en varchar, points double, cap double, unit_zh varchar)"
    )
    con.executemany(
        "insert into cfg_worker_item values (?, ?, ?, ?, ?, ?, ?)",
        [[i.item, n, i.name_zh, i.name_en, i.points, i.cap, i.unit_zh]
         for n, i in enumerate(catalogue.workers.items)],
    )
    con.execute("create or replace table cfg_worker_grade (grade varchar, ordinal integer, min_total double, "
                "name_en varchar)")
    con.executemany(
        "insert into cfg_worker_grade values (?, ?, ?, ?)",
        [[g.grade, n, g.min, g.name_en] for n, g in enumerate(catalogue.workers.grades)],
    )


# The marts' build state (one row per model: the hash of the SQL it was built with, and the batch it
# was built for). A by-month model is updated in place only if it was built by the same SQL for the
# batch just before this one; anything else (a new release, a batch loaded without marts, a warehouse
# from before) builds it in full.
MART_STATE = "reg_mart_state"


def _mart_state(con) -> dict[str, str]:
    con.execute(f"create table if not exists {MART_STATE} (model varchar, sql_hash varchar, batch_id varchar)")
    return {m: h for m, h in con.execute(f"select model, sql_hash from {MART_STATE}").fetchall()}


def build_marts(con, catalogue=None, batch_id: str | None = None, previous_batch: str | None = None,
                months_changed=None) -> dict[str, int]:
    """Rebuild indicator_values, village_scores, household_stars (and their intermediates).

    Reads the core tables (dim_*, fct_*) on `con`; returns table → row count. Raises CatalogueError
    for a broken catalogue and ModelError for a model that fails or breaks the contract.
    An ingest passes its batch, the batch loaded before it and the months it changed
    (run_models): by-month models built for `previous_batch` are then updated in those months only.
    """
    from pipelines.catalogue import load_catalogue

    catalogue = catalogue if catalogue is not None else load_catalogue()
    materialise_catalogue(con, catalogue)
    _mart_state(con)
    built_for = {r[0] for r in con.execute(f"select distinct batch_id from {MART_STATE}").fetchall()}
    if previous_batch is None or built_for != {previous_batch}:
        months_changed = None
    fingerprint = catalogue_fingerprint(con)  # the models read the cfg_ tables, never write them
    counts = run_models(con, "marts", months_changed=months_changed,
                        batch_id=batch_id if months_changed is not None else None, fingerprint=fingerprint)
    files = model_files("marts")
    con.execute(f"delete from {MART_STATE}")
    con.executemany(f"insert into {MART_STATE} values (?, ?, ?)",
                    [[m, _state_hash(files[m].read_text(encoding="utf-8").strip().rstrip(";"), fingerprint), batch_id]
                     for m in counts])
    return counts
