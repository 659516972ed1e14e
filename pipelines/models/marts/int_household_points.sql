-- Grain: one row per household × month with at least one 已确认 (confirmed) points record dated
-- (发生日期) in the month: the month's confirmed sum and its positive part, as exact decimals.
-- Shared by points participation (a row = a participating household), points per household,
-- the redemption-rate denominator and star households, so the 1–2 M points records are grouped
-- by household once. village_code is the household's village (fct_points contract).
select
    household_key,
    village_code,
    date_trunc('month', occurred_on)::date as month_start,
    sum(points::decimal(18, 6)) as confirmed_points,
    coalesce(sum(points::decimal(18, 6)) filter (where points > 0), 0) as positive_confirmed_points,
from fct_points
where review_status = '已确认'
group by all
