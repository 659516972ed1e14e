-- Grain: one row per village, township and county × month that has at least one event closed in
-- the month: median_handle_hours recomputed from the records at each level (SPEC §5), with the
-- number of records as its numerator. DuckDB's median is quantile_cont(0.5): the mean of the two
-- middle values when their count is even. Hours are whole seconds / 3600.
-- by month: period ~ fct_event.closed_at  (models/runner.py)
with

calendar as (
    select month_start, period from int_calendar
),

closed_events as (
    select
        dim_village.village_code,
        dim_village.township_code,
        dim_village.county_code,
        date_trunc('month', fct_event.closed_at)::date as month_start,
        date_diff('second', fct_event.reported_at, fct_event.closed_at) / 3600.0 as hours,
    from fct_event
    inner join dim_grid using (grid_code)
    inner join dim_village on dim_village.village_code = dim_grid.village_code
    where fct_event.status in ('已办结', '已回访') and fct_event.closed_at is not null
),

in_calendar as (
    select closed_events.*, calendar.period
    from closed_events
    inner join calendar using (month_start)
),

village_medians as (
    select 'village' as unit_level, village_code as unit_code, period, count(*) as numerator, median(hours) as value
    from in_calendar
    group by all
),

township_medians as (
    select 'township' as unit_level, township_code as unit_code, period, count(*) as numerator, median(hours) as value
    from in_calendar
    group by all
),

county_medians as (
    select 'county' as unit_level, county_code as unit_code, period, count(*) as numerator, median(hours) as value
    from in_calendar
    group by all
)

select *, 'median_handle_hours' as indicator_id from village_medians
union all
select *, 'median_handle_hours' from township_medians
union all
select *, 'median_handle_hours' from county_medians
