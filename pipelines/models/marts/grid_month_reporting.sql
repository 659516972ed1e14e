-- Published mart (数据质量 reporting by grid). Grain: one row per grid of dim_grid × month of
-- int_calendar: the visits and events recorded in the grid in the month, whether it reported at all
-- (active), and entry timeliness as int_entry_lags defines it: timely records over records with an
-- entry time (NULL when none).
-- by month: period ~ inputs  (models/runner.py)
with

calendar as (
    select month_start, period from int_calendar
),

entries as (
    select
        grid_code,
        month_start,
        sum(records) filter (where kind = 'visit')::bigint as visits,
        sum(records) filter (where kind = 'event')::bigint as events,
        sum(entry_records)::bigint as entry_records,
        sum(entry_timely)::bigint as entry_timely,
    from int_entry_lags
    where grid_code is not null
    group by all
)

select
    calendar.period,
    dim_grid.grid_code,
    dim_grid.village_code,
    dim_grid.township_code,
    coalesce(entries.visits, 0) as visits,
    coalesce(entries.events, 0) as events,
    coalesce(entries.visits, 0) + coalesce(entries.events, 0) > 0 as active,
    coalesce(entries.entry_records, 0) as entry_records,
    coalesce(entries.entry_timely, 0) as entry_timely,
    case when entries.entry_records > 0 then entries.entry_timely / entries.entry_records end as timely_rate,
from dim_grid
cross join calendar
left join entries
    on entries.grid_code = dim_grid.grid_code
    and entries.month_start = calendar.month_start
order by calendar.period, dim_grid.grid_code
