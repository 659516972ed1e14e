"""Grids given by name (SPEC §3.8), resolved load-side within their township or village.

Exports of other systems name the grid ("王家村第一网格", or its full name "云岭县石门乡王家村第一网格")
instead of giving its code. The loader calls these to build the name table after dim_grid and to
resolve staged rows in the checked view: a name that matches exactly one grid in its scope becomes
the row's grid_code; one matching none or several stays as text in grid_code, so the row is
quarantined UNKNOWN_GRID with a detail saying which (名称未找到 / 对应 N 个网格).
SQL only: no parsing here.
"""

from __future__ import annotations

from pipelines.ingest.tables import ROW_KEY_SQL, row_key_sql
from pipelines.sources import HEAD_NAME_KINDS, SOURCES

# Kinds whose rows may name their grid (sources.py gives them grid_name, township_name, village_name).
KINDS = tuple(k for k, s in SOURCES.items() if "grid_name" in s.names and "grid_code" in s.names
              and k != "grids")
# Columns that only serve the resolution: compared as the resolved grid_code (ingest.dispositions.RESOLVED_COLUMNS).
NAME_COLUMNS = ("grid_name", "township_name", "village_name")


def _suffix_rx() -> str:
    from pipelines.normalise import _ALL_SUFFIXES

    return "(" + "|".join(_ALL_SUFFIXES) + ")+$"


def name_key_sql(expr: str) -> str:
    """A name without spaces, lower case (values are NFKC already: normalise did that)."""
    return f"lower(regexp_replace({expr}, '\\s+', '', 'g'))"


def unit_key_sql(expr: str) -> str:
    """normalise.village_key in SQL: the run of 村/社区/村委会/乡/镇/街道… suffixes stripped, never to nothing."""
    k = name_key_sql(expr)
    stripped = f"regexp_replace({k}, '{_suffix_rx()}', '')"
    return f"(case when {stripped} = '' then {k} else {stripped} end)"


def grid_names_sql() -> str:
    """ref_grid_names: every way a grid's name may be written — its own name, optionally preceded by
    its county, township and village names in that order (8 forms)."""
    parts = []
    for c in (False, True):
        for t in (False, True):
            for v in (False, True):
                pieces = [p for p, on in (("c.name", c), ("t.name", t), ("v.name", v)) if on] + ["g.grid_name"]
                parts.append(" || ".join(f"coalesce({p}, '')" for p in pieces))
    forms = ", ".join(parts)
    return f"""
        create or replace table ref_grid_names as
        select distinct g.grid_code, {name_key_sql('form')} as name_key,
               {unit_key_sql('t.name')} as township_key, {unit_key_sql('v.name')} as village_key
        from dim_grid as g
        left join dim_village as v on v.village_code = g.village_code
        left join dim_township as t on t.township_code = g.township_code
        left join (select code, name from cur_admin_units where level = '县') as c on c.code = t.county_code,
        unnest([{forms}]) as u(form)
        where g.grid_name is not null"""


def source_relation(kind: str, staged: str | None = None) -> str:
    """What the checked view reads instead of stg_<kind> (or `staged`, a relation of some of its rows):
    the staged rows with grid_code resolved from grid_name where the export gave a name and no code,
    then the household from its head's name where the export gave a name and no 户编号. Both are
    resolved row by row, so resolving a subset of the rows gives those rows' values."""
    return household_relation(kind, grid_relation(kind, staged or f"stg_{kind}"))


# The village that scopes a household named by its head: the record's grid's, or its village code.
_HEAD_SCOPE = {"visits": "(select g.village_code from dim_grid as g where g.grid_code = s2.grid_code)",
               "points": "s2.village_code", "redemptions": "s2.village_code"}


def household_relation(kind: str, rel: str) -> str:
    """`rel` with household_key resolved from the head's name (`_head_key`, a keyed hash: the name is
    never in clear) within the record's village, or county-wide when the row gives no village. One
    household matched → its key; none or several → household_id says so (户主 张**（…未找到）/
    （…对应 N 户）) and the row is quarantined UNKNOWN_HOUSEHOLD with that text: a name shared by
    two households of a village is never guessed."""
    if kind not in HEAD_NAME_KINDS:
        return rel
    scope = _HEAD_SCOPE[kind]
    return f"""(
        select h0.* replace (
               -- unresolved: a key no household has, so that the row is UNKNOWN_HOUSEHOLD
               coalesce(h0.household_key, hm.household_key, case when h0._head_key is not null
                        and h0.household_id is null then '?' end) as household_key,
               coalesce(h0.household_id, case when h0._head_key is not null then
                   '户主 ' || coalesce(h0.head_name, '') || case
                       when hm.matches = 1 then ''
                       when hm.matches > 1 then '（户主姓名在本村对应 ' || hm.matches || ' 户，无法确定是哪一户）'
                       else '（户主姓名在户籍台账中未找到）' end end) as household_id)
        from {rel} as h0
        left join (
            select {row_key_sql('s2')}, count(distinct h.household_key) as matches,
                   case when count(distinct h.household_key) = 1 then any_value(h.household_key) end
                       as household_key
            from {rel} as s2
            join dim_household as h on h.head_name_key = s2._head_key
                and ({scope} is null or h.village_code = {scope})
            where s2.household_key is null and s2.household_id is null and s2._head_key is not null
            group by all
        ) as hm using ({ROW_KEY_SQL}))"""


def grid_relation(kind: str, staged: str) -> str:
    """`staged` (stg_<kind> or some of its rows) with grid_code resolved from grid_name where the
    export gave a name and no code."""
    if kind not in KINDS:
        return staged
    s_t, s_v = unit_key_sql("s2.township_name"), unit_key_sql("s2.village_name")
    return f"""(
        select s0.* replace (coalesce(s0.grid_code, gm.grid_code, case when s0.grid_name is not null then
                   s0.grid_name || case when gm.matches > 1 then '（名称对应 ' || gm.matches || ' 个网格）'
                                        else '（名称未找到）' end end) as grid_code)
        from {staged} as s0
        left join (
            select {row_key_sql('s2')}, count(distinct n.grid_code) as matches,
                   case when count(distinct n.grid_code) = 1 then any_value(n.grid_code) end as grid_code
            from {staged} as s2
            join ref_grid_names as n on n.name_key = {name_key_sql('s2.grid_name')}
                and (s2.township_name is null or n.township_key = {s_t})
                and (s2.village_name is null or n.village_key = {s_v})
            where s2.grid_code is null and s2.grid_name is not null
            group by all
        ) as gm using ({ROW_KEY_SQL}))"""
