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

import re
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


def run_models(con, layer: str, order: list[str] | None = None) -> dict[str, int]:
    """Build every model of `layer` (or just `order`, in that order); returns table → row count."""
    files = model_files(layer)
    order = order if order is not None else dependency_order(layer)
    counts: dict[str, int] = {}
    contract_tables = contract.tables()
    for name in order:
        if name not in files:
            raise ModelError(f"no model {layer}/{name}.sql")
        sql = files[name].read_text(encoding="utf-8").strip().rstrip(";")
        try:
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


def build_marts(con, catalogue=None) -> dict[str, int]:
    """Rebuild indicator_values, village_scores, household_stars (and their intermediates).

    Reads the core tables (dim_*, fct_*) on `con`; returns table → row count. Raises CatalogueError
    for a broken catalogue and ModelError for a model that fails or breaks the contract.
    """
    from pipelines.catalogue import load_catalogue

    catalogue = catalogue if catalogue is not None else load_catalogue()
    materialise_catalogue(con, catalogue)
    return run_models(con, "marts")
