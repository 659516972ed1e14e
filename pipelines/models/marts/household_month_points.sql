-- Published mart (积分 per household; drill-through of the points rates). Grain: one row per
-- household × month of 发生日期 with at least one confirmed record (int_household_points): records,
-- the confirmed sum and its positive part. village_code is the household's village as the points
-- records carry it (fct_points contract); registry households without a row had no confirmed points.
-- by month: period ~ fct_points.occurred_on  (models/runner.py)
select
    strftime(month_start, '%Y-%m') as period,
    household_key,
    village_code,
    records,
    confirmed_points::double as confirmed_points,
    positive_confirmed_points::double as positive_points,
from int_household_points
order by period, village_code, household_key
