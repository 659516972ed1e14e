-- Grain: one row per unit × month × indicator for the rates and counts (medians are recomputed
-- from records in int_median_values). Grid and village rows come from int_grid_month and
-- int_village_month; township and county rows are sums of their villages' numerators and
-- denominators (SPEC §5: never an average of rates). Exact decimals, so the sums are exact.
-- denominator is NULL for counts.
-- by month: period ~ inputs  (models/runner.py)
with

grid_months as (
    select * from int_grid_month
),

village_months as (
    select * from int_village_month
),

grid_parts as (
    select period, grid_code as unit_code, 'grid_active_rate' as indicator_id, active_grids as numerator, grids as denominator from grid_months
    union all
    select period, grid_code, 'key_visit_rate', key_visited, key_households from grid_months
    union all
    select period, grid_code, 'ordinary_visit_rate_qtd', ordinary_visited_qtd, ordinary_households from grid_months
    union all
    select period, grid_code, 'events_reported', events_reported, null from grid_months
),

village_parts as (
    select period, village_code as unit_code, 'grid_active_rate' as indicator_id, active_grids as numerator, grids as denominator from village_months
    union all
    select period, village_code, 'key_visit_rate', key_visited, key_households from village_months
    union all
    select period, village_code, 'ordinary_visit_rate_qtd', ordinary_visited_qtd, ordinary_households from village_months
    union all
    select period, village_code, 'events_reported', events_reported, null from village_months
    union all
    select period, village_code, 'event_closure_rate', events_closed_now, events_reported from village_months
    union all
    select period, village_code, 'on_time_rate', events_closed_on_time, events_closed from village_months
    union all
    select period, village_code, 'grid_resolution_rate', events_closed_in_grid, events_closed from village_months
    union all
    select period, village_code, 'village_resolution_rate', events_closed_in_village, events_closed from village_months
    union all
    select period, village_code, 'satisfaction_rate', events_satisfied, events_with_callback from village_months
    union all
    select period, village_code, 'disputes_registered', disputes_registered, null from village_months
    union all
    select period, village_code, 'disputes_per_1000', disputes_registered, population from village_months
    union all
    select period, village_code, 'mediation_success_rate', disputes_succeeded, disputes_concluded from village_months
    union all
    select period, village_code, 'petitions', petitions, null from village_months
    union all
    select period, village_code, 'points_participation_rate', participating_households, households from village_months
    union all
    select period, village_code, 'points_per_household', confirmed_points, households from village_months
    union all
    select period, village_code, 'redemption_rate', redeemed_points, positive_confirmed_points from village_months
    union all
    select period, village_code, 'entry_timeliness_rate', entry_timely, entry_records from village_months
),

village_rollup as (
    select
        village_parts.*,
        dim_village.township_code,
        dim_village.county_code,
    from village_parts
    inner join dim_village on dim_village.village_code = village_parts.unit_code
),

township_parts as (
    select
        period,
        township_code as unit_code,
        indicator_id,
        sum(numerator) as numerator,
        sum(denominator) as denominator,
    from village_rollup
    group by all
),

county_parts as (
    select
        period,
        county_code as unit_code,
        indicator_id,
        sum(numerator) as numerator,
        sum(denominator) as denominator,
    from village_rollup
    group by all
),

all_parts as (
    select 'grid' as unit_level, * from grid_parts
    union all
    select 'village', * from village_parts
    union all
    select 'township', * from township_parts
    union all
    select 'county', * from county_parts
)

select
    unit_level,
    unit_code,
    period,
    indicator_id,
    numerator::decimal(38, 6) as numerator,
    denominator::decimal(38, 6) as denominator,
from all_parts
