-- Grain: one row per kind (visit, event, points) × grid × village × worker × month of occurrence,
-- with its records and how they were entered (SPEC §5 entry timeliness, §6.1 late entries): records
-- with an entry time (the lag in calendar days from the occurrence date to the entry date is known),
-- timely ones (lag at most entry_timeliness_days) and late ones (lag above it). This is the one place
-- the rule is written. A record of a format without entry time (SPEC §3.8) has no lag and is
-- neither timely nor late.
-- Visits and events: their own grid and that grid's village (through dim_grid, as the indicators);
-- points: the household's village, no grid. The worker is the 网格员 of a visit or the 上报人 of an
-- event whose 来源 is 网格员巡查, every space removed (int_worker_item_counts' worker); NULL for
-- anyone else and for points.
-- Counted here, not one row per record: every reader counts by unit and month, and one row per
-- record was ~2.9 M rows rebuilt on every ingest of a 36-month county (issue #12).
-- by month: month_start ~ fct_visit.visited_at, fct_event.reported_at, fct_points.occurred_on  (models/runner.py)
with

settings as (
    select value::integer as timeliness_days from cfg_setting where key = 'entry_timeliness_days'
),

entries as (
    select
        'visit' as kind,
        fct_visit.grid_code,
        dim_grid.village_code,
        nullif(replace(fct_visit.worker, ' ', ''), '') as worker_name,
        date_trunc('month', fct_visit.visited_at)::date as month_start,
        date_diff('day', fct_visit.visited_at::date, fct_visit.entered_at::date) as lag_days,
    from fct_visit
    inner join dim_grid using (grid_code)
    union all
    select
        'event' as kind,
        fct_event.grid_code,
        dim_grid.village_code,
        case when fct_event.source = '网格员巡查' then nullif(replace(fct_event.reporter, ' ', ''), '') end
            as worker_name,
        date_trunc('month', fct_event.reported_at)::date as month_start,
        date_diff('day', fct_event.reported_at::date, fct_event.entered_at::date) as lag_days,
    from fct_event
    inner join dim_grid using (grid_code)
    union all
    select
        'points' as kind,
        null::varchar as grid_code,
        village_code,
        null::varchar as worker_name,
        date_trunc('month', occurred_on)::date as month_start,
        date_diff('day', occurred_on, entered_on) as lag_days,
    from fct_points
)

select
    entries.kind,
    entries.grid_code,
    entries.village_code,
    entries.worker_name,
    entries.month_start,
    count(*) as records,
    count(entries.lag_days) as entry_records,
    count(*) filter (where entries.lag_days <= settings.timeliness_days) as entry_timely,
    count(*) filter (where entries.lag_days > settings.timeliness_days) as late_entries,
from entries
cross join settings
group by entries.kind, entries.grid_code, entries.village_code, entries.worker_name, entries.month_start
