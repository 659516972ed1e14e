-- Grain: one row per village × month of int_calendar, with every numerator and denominator the
-- village-level rates and counts need (medians: int_median_values). Visits and events count in the
-- village of their grid (through dim_grid, as the grid rows they roll up from), points and
-- redemptions in the village of their household (fct_points/fct_redemption.village_code, which the
-- contract defines as the household's village: no 2 M-row join to dim_household), disputes in their
-- own village (SPEC §5). Point sums are exact decimals so that roll-ups and ties are exact.
-- by month: month_start ~ fct_event.reported_at, fct_event.closed_at, fct_dispute.registered_on, fct_dispute.concluded_on, fct_redemption.redeemed_on
with

calendar as (
    select month_start, period from int_calendar
),

villages as (
    select village_code, township_code, county_code, coalesce(population, 0) as population
    from dim_village
),

grid_months as (
    select
        village_code,
        month_start,
        sum(active_grids) as active_grids,
        sum(grids) as grids,
        sum(key_visited) as key_visited,
        sum(key_households) as key_households,
        sum(ordinary_visited_qtd) as ordinary_visited_qtd,
        sum(ordinary_households) as ordinary_households,
        sum(events_reported) as events_reported,
    from int_grid_month
    group by all
),

events as (
    select
        dim_grid.village_code,
        fct_event.status in ('已办结', '已回访') as is_closed,
        date_trunc('month', fct_event.reported_at)::date as reported_month,
        case
            when fct_event.status in ('已办结', '已回访')
                then date_trunc('month', fct_event.closed_at)::date
        end as closed_month,
        coalesce(fct_event.closed_at <= fct_event.deadline, false) as on_time,
        fct_event.handling_level,
        fct_event.satisfaction,
    from fct_event
    inner join dim_grid using (grid_code)
),

events_by_report as (
    select
        village_code,
        reported_month as month_start,
        count(*) filter (where is_closed) as events_closed_now,
    from events
    group by all
),

events_by_closure as (
    select
        village_code,
        closed_month as month_start,
        count(*) as events_closed,
        count(*) filter (where on_time) as events_closed_on_time,
        count(*) filter (where handling_level = '网格') as events_closed_in_grid,
        count(*) filter (where handling_level in ('网格', '村')) as events_closed_in_village,
        count(*) filter (where satisfaction in ('满意', '基本满意', '不满意')) as events_with_callback,
        count(*) filter (where satisfaction in ('满意', '基本满意')) as events_satisfied,
    from events
    where closed_month is not null
    group by all
),

disputes_by_registration as (
    select
        village_code,
        date_trunc('month', registered_on)::date as month_start,
        count(*) as disputes_registered,
        count(*) filter (where is_petition) as petitions,
    from fct_dispute
    group by all
),

disputes_by_conclusion as (
    select
        village_code,
        date_trunc('month', concluded_on)::date as month_start,
        count(*) as disputes_concluded,
        count(*) filter (where result = '调解成功') as disputes_succeeded,
    from fct_dispute
    where result in ('调解成功', '调解不成功', '移交') and concluded_on is not null
    group by all
),

household_counts as (
    select village_code, count(*) as households from dim_household group by all
),

confirmed_points as (
    select
        village_code,
        month_start,
        count(*) as participating_households,
        sum(confirmed_points) as confirmed_points,
        sum(positive_confirmed_points) as positive_confirmed_points,
    from int_household_points
    group by all
),

redemptions as (
    select
        village_code,
        date_trunc('month', redeemed_on)::date as month_start,
        sum(points_spent::decimal(18, 6)) as redeemed_points,
    from fct_redemption
    group by all
),

-- Entry timeliness by the month the record happened (the rule: int_entry_lags).
entry_timeliness as (
    select
        village_code,
        month_start,
        -- records of a format without entry time (SPEC §3.8) are left out of both counts
        sum(entry_records)::bigint as entry_records,
        sum(entry_timely)::bigint as entry_timely,
    from int_entry_lags
    group by all
),

village_months as (
    select villages.*, calendar.month_start, calendar.period
    from villages
    cross join calendar
)

select
    village_months.village_code,
    village_months.township_code,
    village_months.county_code,
    village_months.month_start,
    village_months.period,
    coalesce(grid_months.active_grids, 0) as active_grids,
    coalesce(grid_months.grids, 0) as grids,
    coalesce(grid_months.key_visited, 0) as key_visited,
    coalesce(grid_months.key_households, 0) as key_households,
    coalesce(grid_months.ordinary_visited_qtd, 0) as ordinary_visited_qtd,
    coalesce(grid_months.ordinary_households, 0) as ordinary_households,
    coalesce(grid_months.events_reported, 0) as events_reported,
    coalesce(events_by_report.events_closed_now, 0) as events_closed_now,
    coalesce(events_by_closure.events_closed, 0) as events_closed,
    coalesce(events_by_closure.events_closed_on_time, 0) as events_closed_on_time,
    coalesce(events_by_closure.events_closed_in_grid, 0) as events_closed_in_grid,
    coalesce(events_by_closure.events_closed_in_village, 0) as events_closed_in_village,
    coalesce(events_by_closure.events_with_callback, 0) as events_with_callback,
    coalesce(events_by_closure.events_satisfied, 0) as events_satisfied,
    coalesce(disputes_by_registration.disputes_registered, 0) as disputes_registered,
    coalesce(disputes_by_registration.petitions, 0) as petitions,
    coalesce(disputes_by_conclusion.disputes_concluded, 0) as disputes_concluded,
    coalesce(disputes_by_conclusion.disputes_succeeded, 0) as disputes_succeeded,
    village_months.population,
    coalesce(household_counts.households, 0) as households,
    coalesce(confirmed_points.participating_households, 0) as participating_households,
    coalesce(confirmed_points.confirmed_points, 0) as confirmed_points,
    coalesce(confirmed_points.positive_confirmed_points, 0) as positive_confirmed_points,
    coalesce(redemptions.redeemed_points, 0) as redeemed_points,
    coalesce(entry_timeliness.entry_records, 0) as entry_records,
    coalesce(entry_timeliness.entry_timely, 0) as entry_timely,
from village_months
left join grid_months
    on grid_months.village_code = village_months.village_code
    and grid_months.month_start = village_months.month_start
left join events_by_report
    on events_by_report.village_code = village_months.village_code
    and events_by_report.month_start = village_months.month_start
left join events_by_closure
    on events_by_closure.village_code = village_months.village_code
    and events_by_closure.month_start = village_months.month_start
left join disputes_by_registration
    on disputes_by_registration.village_code = village_months.village_code
    and disputes_by_registration.month_start = village_months.month_start
left join disputes_by_conclusion
    on disputes_by_conclusion.village_code = village_months.village_code
    and disputes_by_conclusion.month_start = village_months.month_start
left join household_counts
    on household_counts.village_code = village_months.village_code
left join confirmed_points
    on confirmed_points.village_code = village_months.village_code
    and confirmed_points.month_start = village_months.month_start
left join redemptions
    on redemptions.village_code = village_months.village_code
    and redemptions.month_start = village_months.month_start
left join entry_timeliness
    on entry_timeliness.village_code = village_months.village_code
    and entry_timeliness.month_start = village_months.month_start
