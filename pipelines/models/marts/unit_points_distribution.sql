-- Published mart (积分 distribution of households by points). Grain: one row per month of
-- int_calendar × unit (county, township, village of the registry household) × points value, with
-- the number of registry households whose confirmed points dated in the month sum to that value
-- (0 for a household without confirmed records). Σ households of a unit-month = its registry
-- households, so the page's count, zero share, total and histogram need no household rows.
-- by month: period ~ inputs  (models/runner.py)
with

levels as (
    select
        code_length,
        unit_level
    from int_unit_levels
),

calendar as (
    select month_start, period from int_calendar
),

households as (
    select household_key, village_code from dim_household
),

household_months as (
    select
        households.village_code,
        int_household_points.household_key,
        int_household_points.month_start,
        sum(int_household_points.confirmed_points) as points,
    from int_household_points
    inner join households using (household_key)
    group by all
),

with_points as (
    select
        village_code,
        month_start,
        points,
        count(*) as households,
    from household_months
    group by all
),

registry as (
    select
        village_code,
        count(*) as households,
    from households
    group by all
),

with_records as (
    select
        village_code,
        month_start,
        sum(households) as households,
    from with_points
    group by all
),

without_records as (
    select
        registry.village_code,
        calendar.month_start,
        0::decimal(18, 6) as points,
        registry.households - coalesce(with_records.households, 0) as households,
    from registry
    cross join calendar
    left join with_records
        on with_records.village_code = registry.village_code
        and with_records.month_start = calendar.month_start
),

village_rows as (
    select * from with_points
    union all
    select * from without_records
)

select
    calendar.period,
    levels.unit_level,
    substr(village_rows.village_code, 1, levels.code_length) as unit_code,
    village_rows.points::double as points,
    sum(village_rows.households)::bigint as households,
from village_rows
inner join calendar using (month_start)
cross join levels
group by all
having sum(village_rows.households) > 0
order by calendar.period, unit_code, points
