-- Grain: one row per worker × month × item of the scoring sheet whose count is above 0 (SPEC §6.1).
-- A worker is (grid_code, worker_name): the 网格员 of a visit, or the 上报人 of an event whose 来源 is
-- 网格员巡查; staging already made every run of spaces one space, so removing ' ' removes them all
-- ("王 伟" = "王伟"). A record with no name counts for no worker; a record counts in its own grid.
-- Months: those of int_calendar (SPEC §5's range) only; nothing counts outside it.
-- Overdue: an event not closed by its deadline (closed at it is on time, as in on_time_rate; a bare
-- date deadline is stored as 23:59:59 of its day) counts in the month of its deadline, or of its
-- report if later, and in each later month at whose end it is still not closed.
-- Late entry: as int_entry_lags counts it (entry date more than entry_timeliness_days calendar days
-- after the occurrence date; a record without an entry time is never late), in the month the record
-- happened.
-- by month: month_start ~ fct_visit.visited_at, fct_event.reported_at, fct_event.closed_at; onward  (models/runner.py)
with

calendar as (
    select month_start from int_calendar
),

key_households as (
    select household_key from dim_household where is_key
),

visits as (
    select
        grid_code,
        nullif(replace(worker, ' ', ''), '') as worker_name,
        household_key,
        visit_type,
        date_trunc('month', visited_at)::date as month_start,
    from fct_visit
),

events as (
    select
        grid_code,
        nullif(replace(reporter, ' ', ''), '') as worker_name,
        handling_level,
        date_trunc('month', reported_at)::date as reported_month,
        status in ('已办结', '已回访') and closed_at is not null as is_closed,
        case when status in ('已办结', '已回访') then date_trunc('month', closed_at)::date end as closed_month,
        coalesce(status in ('已办结', '已回访') and closed_at <= deadline, false) as on_time,
        date_trunc('month', greatest(deadline, reported_at))::date as overdue_from,
    from fct_event
    where source = '网格员巡查'
),

worker_visits as (
    select * from visits where worker_name is not null
),

worker_events as (
    select * from events where worker_name is not null
),

visited_households as (
    select distinct grid_code, worker_name, month_start, household_key
    from worker_visits
    where visit_type = '走访' and household_key is not null
),

home_visit_counts as (
    select
        visited_households.grid_code,
        visited_households.worker_name,
        visited_households.month_start,
        count(*) as households_visited,
        count(key_households.household_key) as key_households_visited,
    from visited_households
    left join key_households using (household_key)
    group by all
),

visit_counts as (
    select
        grid_code,
        worker_name,
        month_start,
        count(*) filter (where visit_type = '巡查') as patrols,
        count(*) filter (where visit_type = '宣讲') as talks,
    from worker_visits
    group by all
),

reported_counts as (
    select
        grid_code,
        worker_name,
        reported_month as month_start,
        count(*) as events_reported,
    from worker_events
    group by all
),

resolved_counts as (
    select
        grid_code,
        worker_name,
        closed_month as month_start,
        count(*) as events_resolved_in_grid,
    from worker_events
    where is_closed and handling_level = '网格'
    group by all
),

overdue_counts as (
    select
        worker_events.grid_code,
        worker_events.worker_name,
        calendar.month_start,
        count(*) as overdue_events,
    from worker_events
    inner join calendar
        on calendar.month_start >= worker_events.overdue_from
    where
        not worker_events.on_time
        and (
            calendar.month_start = worker_events.overdue_from
            or not worker_events.is_closed
            or worker_events.closed_month > calendar.month_start
        )
    group by all
),

long_counts as (
    select grid_code, worker_name, month_start, 'households_visited' as item, households_visited as n from home_visit_counts
    union all
    select grid_code, worker_name, month_start, 'key_households_visited', key_households_visited from home_visit_counts
    union all
    select grid_code, worker_name, month_start, 'patrols', patrols from visit_counts
    union all
    select grid_code, worker_name, month_start, 'talks', talks from visit_counts
    union all
    select grid_code, worker_name, month_start, 'events_reported', events_reported from reported_counts
    union all
    select grid_code, worker_name, month_start, 'late_entries', late_entries from int_entry_lags
    where worker_name is not null and kind in ('visit', 'event')
    union all
    select grid_code, worker_name, month_start, 'events_resolved_in_grid', events_resolved_in_grid from resolved_counts
    union all
    select grid_code, worker_name, month_start, 'overdue_events', overdue_events from overdue_counts
)

select
    long_counts.grid_code,
    long_counts.worker_name,
    long_counts.month_start,
    long_counts.item,
    sum(long_counts.n)::integer as n,
from long_counts
inner join calendar using (month_start)
group by all
having sum(long_counts.n) > 0
