-- Grain: one row per grid × month of int_calendar, with the numerators and denominators of the
-- four grid-level indicators (SPEC §5). Visits and events count in the unit of their grid; the
-- household visit rates count a household in its registry grid (dim_household.grid_code), so the
-- numerator is always a subset of the denominator. A NULL is_key is an ordinary household.
-- by month: month_start ~ fct_visit.visited_at, fct_event.reported_at; quarter to date  (models/runner.py)
with

calendar as (
    select month_start, period, quarter_start from int_calendar
),

grids as (
    select grid_code, village_code from dim_grid
),

households as (
    select household_key, grid_code, coalesce(is_key, false) as is_key from dim_household
),

visits as (
    select
        grid_code,
        household_key,
        visit_type,
        date_trunc('month', visited_at)::date as month_start,
    from fct_visit
),

events as (
    select grid_code, date_trunc('month', reported_at)::date as month_start from fct_event
),

active_grid_months as (
    select grid_code, month_start from visits
    union
    select grid_code, month_start from events
),

home_visit_months as (
    select distinct household_key, month_start
    from visits
    where visit_type = '走访' and household_key is not null
),

key_visited as (
    select
        households.grid_code,
        home_visit_months.month_start,
        count(*) as key_visited,
    from home_visit_months
    inner join households using (household_key)
    where households.is_key
    group by all
),

-- An ordinary household counts as visited quarter-to-date from the month of its first home visit
-- in a quarter up to that quarter's last month: at most three calendar rows per household-quarter.
ordinary_first_visit as (
    select
        households.grid_code,
        home_visit_months.household_key,
        date_trunc('quarter', home_visit_months.month_start)::date as quarter_start,
        min(home_visit_months.month_start) as first_month,
    from home_visit_months
    inner join households using (household_key)
    where not households.is_key
    group by all
),

ordinary_visited as (
    select
        ordinary_first_visit.grid_code,
        calendar.month_start,
        count(*) as ordinary_visited_qtd,
    from ordinary_first_visit
    inner join calendar
        on calendar.quarter_start = ordinary_first_visit.quarter_start
        and calendar.month_start >= ordinary_first_visit.first_month
    group by all
),

household_counts as (
    select
        grid_code,
        count(*) filter (where is_key) as key_households,
        count(*) filter (where not is_key) as ordinary_households,
    from households
    group by all
),

events_reported as (
    select grid_code, month_start, count(*) as events_reported from events group by all
),

grid_months as (
    select grids.grid_code, grids.village_code, calendar.month_start, calendar.period
    from grids
    cross join calendar
)

select
    grid_months.grid_code,
    grid_months.village_code,
    grid_months.month_start,
    grid_months.period,
    (active_grid_months.grid_code is not null)::bigint as active_grids,
    1::bigint as grids,
    coalesce(key_visited.key_visited, 0) as key_visited,
    coalesce(household_counts.key_households, 0) as key_households,
    coalesce(ordinary_visited.ordinary_visited_qtd, 0) as ordinary_visited_qtd,
    coalesce(household_counts.ordinary_households, 0) as ordinary_households,
    coalesce(events_reported.events_reported, 0) as events_reported,
from grid_months
left join active_grid_months
    on active_grid_months.grid_code = grid_months.grid_code
    and active_grid_months.month_start = grid_months.month_start
left join key_visited
    on key_visited.grid_code = grid_months.grid_code
    and key_visited.month_start = grid_months.month_start
left join ordinary_visited
    on ordinary_visited.grid_code = grid_months.grid_code
    and ordinary_visited.month_start = grid_months.month_start
left join household_counts
    on household_counts.grid_code = grid_months.grid_code
left join events_reported
    on events_reported.grid_code = grid_months.grid_code
    and events_reported.month_start = grid_months.month_start
