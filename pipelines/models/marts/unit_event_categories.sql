-- Published mart (趋势 events by category). Grain: one row per month of 上报时间 × unit (county,
-- township, village: the prefix of the event's own grid code) × category with at least one event.
-- by month: period ~ fct_event.reported_at  (models/runner.py)
with

levels as (
    select
        code_length,
        unit_level
    from int_unit_levels
),

village_rows as (
    select
        substr(grid_code, 1, 12) as village_code,
        strftime(reported_at, '%Y-%m') as period,
        category,
        count(*) as events,
    from fct_event
    group by all
)

select
    village_rows.period,
    levels.unit_level,
    substr(village_rows.village_code, 1, levels.code_length) as unit_code,
    village_rows.category,
    sum(village_rows.events)::bigint as events,
from village_rows
cross join levels
group by all
order by village_rows.period, unit_code, village_rows.category
