-- Grain: one row per calendar month from the first to the last month in which any source has an
-- occurrence date (SPEC §5): visits' 日期时间, events' 上报时间, disputes' 登记日期, points' 发生日期,
-- redemptions' 兑换日期. Entry times, closing times and conclusion dates do not extend the range.
-- by month: month_start ~ itself  (models/runner.py)
with

visits as (
    select min(visited_at)::date as first_day, max(visited_at)::date as last_day from fct_visit
),

events as (
    select min(reported_at)::date as first_day, max(reported_at)::date as last_day from fct_event
),

disputes as (
    select min(registered_on) as first_day, max(registered_on) as last_day from fct_dispute
),

points as (
    select min(occurred_on) as first_day, max(occurred_on) as last_day from fct_points
),

redemptions as (
    select min(redeemed_on) as first_day, max(redeemed_on) as last_day from fct_redemption
),

occurrences as (
    select * from visits
    union all
    select * from events
    union all
    select * from disputes
    union all
    select * from points
    union all
    select * from redemptions
),

bounds as (
    select
        date_trunc('month', min(first_day))::date as first_month,
        date_trunc('month', max(last_day))::date as last_month,
    from occurrences
),

months as (
    select unnest(generate_series(first_month, last_month, interval 1 month))::date as month_start
    from bounds
    where first_month is not null
)

select
    month_start,
    strftime(month_start, '%Y-%m') as period,
    date_trunc('quarter', month_start)::date as quarter_start,
    year(month_start) as year,
from months
order by month_start
