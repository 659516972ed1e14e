-- Grain: one row per visit, event and points record, with its entry lag (SPEC §5 entry timeliness):
-- calendar days from the occurrence date to the entry date, and whether it is timely (lag at most
-- entry_timeliness_days). This is the one place the rule is written. A record of a format without
-- entry time (SPEC §3.8) has no lag and is neither timely nor late (timely is NULL).
-- Visits and events: their own grid and that grid's village (through dim_grid, as the indicators);
-- points: the household's village, no grid.
with

settings as (
    select value::integer as timeliness_days from cfg_setting where key = 'entry_timeliness_days'
),

entries as (
    select
        'visit' as kind,
        fct_visit.grid_code,
        dim_grid.village_code,
        date_trunc('month', fct_visit.visited_at)::date as month_start,
        date_diff('day', fct_visit.visited_at::date, fct_visit.entered_at::date) as lag_days,
    from fct_visit
    inner join dim_grid using (grid_code)
    union all
    select
        'event' as kind,
        fct_event.grid_code,
        dim_grid.village_code,
        date_trunc('month', fct_event.reported_at)::date as month_start,
        date_diff('day', fct_event.reported_at::date, fct_event.entered_at::date) as lag_days,
    from fct_event
    inner join dim_grid using (grid_code)
    union all
    select
        'points' as kind,
        null::varchar as grid_code,
        village_code,
        date_trunc('month', occurred_on)::date as month_start,
        date_diff('day', occurred_on, entered_on) as lag_days,
    from fct_points
)

select
    entries.kind,
    entries.grid_code,
    entries.village_code,
    entries.month_start,
    entries.lag_days,
    entries.lag_days <= settings.timeliness_days as is_timely,
from entries
cross join settings
