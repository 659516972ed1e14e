-- Published mart (积分 points by category). Grain: one row per month of 发生日期 × unit (county,
-- township, village of the household) × category with at least one confirmed record
-- (int_confirmed_points): points gained (the positive records' sum; NULL when none), points deducted
-- (minus the negative records' sum, so positive; NULL when none), and records. Exact decimal sums.
-- by month: period ~ inputs  (models/runner.py)
with

levels as (
    select
        code_length,
        unit_level
    from int_unit_levels
),

village_rows as (
    select
        village_code,
        strftime(month_start, '%Y-%m') as period,
        category,
        sum(points::decimal(18, 6)) filter (where points > 0) as gained,
        sum(points::decimal(18, 6)) filter (where points < 0) as lost,
        count(*) as records,
    from int_confirmed_points
    group by all
)

select
    village_rows.period,
    levels.unit_level,
    substr(village_rows.village_code, 1, levels.code_length) as unit_code,
    village_rows.category,
    sum(village_rows.gained)::double as gained,
    (-sum(village_rows.lost))::double as deducted,
    sum(village_rows.records)::bigint as records,
from village_rows
cross join levels
group by all
order by village_rows.period, unit_code, village_rows.category
