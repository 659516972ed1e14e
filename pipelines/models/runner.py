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
from dataclasses import dataclass
from functools import cache
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

from pipelines.models import contract

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
#     -- by month: <month of an output row> ~ <fact table>.<date column>
# meaning: the output rows of month m are computed from the fact rows whose date column falls in m
# (and from reference-built dim_ tables, which an incremental batch never changes), and from nothing
# else. After an incremental batch such a model is updated only in the months the batch changed
# (`months_changed` below: the months of the replaced fact rows, before and after): those months'
# rows are deleted and computed again by the model's own SQL filtered to them. The declaration is
# checked against what the SQL reads (month_models); that it is true of the SQL is what
# tests/test_marts_by_month.py proves, holding by-month builds against full builds over random
# batchings.

_BY_MONTH = re.compile(r"^--\s*by month:\s*(?P<expr>.+?)\s*~\s*(?P<fact>fct_[a-z_]+)\.(?P<column>[a-z_]+)\b", re.M)
_CORE_TABLE = re.compile(r"\b(?:fct|dim|cfg)_[a-z_]+\b")


@dataclass(frozen=True)
class ByMonth:
    expr: str  # SQL over the model's output columns giving an output row's month (a date)
    fact: str  # the fact table whose rows' months say which months changed
    column: str  # that table's date column


def sql_hash(sql: str) -> str:
    return hashlib.sha256(sql.encode("utf-8")).hexdigest()[:16]


@cache
def month_models(layer: str = "marts") -> dict[str, ByMonth]:
    """model → its by-month declaration, for the models that declare one; a declaration the SQL
    contradicts (it reads another fact table, the catalogue, or a model not kept by the same
    month) is a defect and raises."""
    files = model_files(layer)
    out: dict[str, ByMonth] = {}
    for model in dependency_order(layer):
        text = files[model].read_text(encoding="utf-8")
        m = _BY_MONTH.search(text)
        if not m:
            continue
        decl = ByMonth(m["expr"], m["fact"], m["column"])
        sql = _COMMENT.sub("", text)
        for table in set(_CORE_TABLE.findall(sql)):
            if table != decl.fact and not table.startswith("dim_"):
                raise ModelError(f"model {layer}/{model}.sql is declared by month of {decl.fact} but reads {table}")
        for other in files:
            if other != model and re.search(rf"\b{other}\b", sql):
                if other not in out or out[other].fact != decl.fact or out[other].column != decl.column:
                    raise ModelError(f"model {layer}/{model}.sql is declared by month of {decl.fact}.{decl.column} "
                                     f"but reads {other}, which is not")
        out[model] = decl
    return out


def month_sources(layer: str = "marts") -> set[tuple[str, str]]:
    """(fact table, date column) pairs whose changed months an incremental batch must record."""
    return {(d.fact, d.column) for d in month_models(layer).values()}


def _month_list(months: list) -> str:
    return ", ".join(f"date '{m.isoformat()}'" for m in months)


def _build_by_month(con, name: str, sql: str, decl: ByMonth, months_changed, state: dict,
                    batch_id: str | None = None) -> bool:
    """Update a by-month model in the changed months only; False when it has to be built in full
    (first build, its SQL changed, marts not built for the previous batch, a month unknown)."""
    if months_changed is None or state.get(name) != sql_hash(sql):
        return False
    months = months_changed.get((decl.fact, decl.column))
    if months is None:  # the fact table was rebuilt in full, or a changed row has no date
        return False
    if months:
        where = f"({decl.expr}) in ({_month_list(months)})"
        con.execute(f'delete from "{name}" where {where}')
        con.execute(f'insert into "{name}" select * from (\n{sql}\n) where {where}')
    if batch_id is not None:  # for publish (reg_month_delta): exactly these months changed
        con.executemany("insert into reg_month_delta values (?, ?, ?)",
                        [[batch_id, name, None]] + [[batch_id, name, m] for m in months])
    return True


def run_models(con, layer: str, order: list[str] | None = None, months_changed=None,
               batch_id: str | None = None) -> dict[str, int]:
    """Build every model of `layer` (or just `order`, in that order); returns table → row count.

    months_changed ((fact table, date column) → the months whose fact rows the batch changed, or
    None for "all"; given only when the marts were built for the previous batch, see build_marts):
    models declared by month are updated in those months only."""
    files = model_files(layer)
    order = order if order is not None else dependency_order(layer)
    counts: dict[str, int] = {}
    contract_tables = contract.tables()
    by_month = month_models(layer) if layer == "marts" else {}
    state = _mart_state(con) if by_month and months_changed is not None else {}
    for name in order:
        if name not in files:
            raise ModelError(f"no model {layer}/{name}.sql")
        sql = files[name].read_text(encoding="utf-8").strip().rstrip(";")
        try:
            if not (name in by_month and _build_by_month(con, name, sql, by_month[name], months_changed, state, batch_id)):
                con.execute(f'create or replace table "{name}" as\n{sql}')
        except Exception as e:  # DuckDB raises several error classes; name the model that failed
            raise ModelError(f"model {layer}/{name}.sql failed: {e}") from e
        if name in contract_tables:
            problems = contract.check(con, name)
            if problems:
                raise ModelError(f"model {layer}/{name}.sql breaks the contract: " + "; ".join(problems))
        counts[name] = con.execute(f'select count(*) from "{name}"').fetchall()[0][0]
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
    counts = run_models(con, "marts", months_changed=months_changed,
                        batch_id=batch_id if months_changed is not None else None)
    files = model_files("marts")
    con.execute(f"delete from {MART_STATE}")
    con.executemany(f"insert into {MART_STATE} values (?, ?, ?)",
                    [[m, sql_hash(files[m].read_text(encoding="utf-8").strip().rstrip(";")), batch_id]
                     for m in counts])
    return counts
