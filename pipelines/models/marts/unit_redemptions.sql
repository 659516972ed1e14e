-- Published mart (积分 redemptions). Grain: one row per month of 兑换日期 × unit (county, township,
-- village of the household) × item with at least one redemption: redemptions and points spent
-- (summed as exact decimals).
-- by month: period ~ fct_redemption.redeemed_on  (models/runner.py)
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
        strftime(redeemed_on, '%Y-%m') as period,
        item,
        count(*) as redemptions,
        sum(points_spent::decimal(18, 6)) as points_spent,
    from fct_redemption
    group by all
)

select
    village_rows.period,
    levels.unit_level,
    substr(village_rows.village_code, 1, levels.code_length) as unit_code,
    village_rows.item,
    sum(village_rows.redemptions)::bigint as redemptions,
    sum(village_rows.points_spent)::double as points_spent,
from village_rows
cross join levels
group by all
order by village_rows.period, unit_code, village_rows.item
