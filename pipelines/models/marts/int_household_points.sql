-- Grain: one row per household × month with at least one confirmed points record (int_confirmed_points)
-- dated (发生日期) in the month: the month's confirmed sum and its positive part, as exact decimals,
-- and the number of records.
-- Shared by points participation (a row = a participating household), points per household,
-- the redemption-rate denominator and star households, so the 1–2 M points records are grouped
-- by household once. village_code is the household's village (fct_points contract).
-- by month: month_start ~ fct_points.occurred_on  (models/runner.py)
select
    household_key,
    village_code,
    month_start,
    sum(points::decimal(18, 6)) as confirmed_points,
    coalesce(sum(points::decimal(18, 6)) filter (where points > 0), 0) as positive_confirmed_points,
    count(*) as records,
from int_confirmed_points
group by all
