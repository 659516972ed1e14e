-- Published mart (总览 record counts). Grain: one row per month × unit (county, township, village)
-- with at least one record that happened in the month: visits (日期时间), events (上报时间), disputes
-- (登记日期), points records of any review state (发生日期) and of those the ones still pending. Visits and events count in the unit their
-- own grid code starts with, disputes and points in their village's; nothing is joined, so every
-- stored record counts. A unit-month without records has no row (the gateway shows 0).
-- by month: period ~ fct_visit.visited_at, fct_event.reported_at, fct_dispute.registered_on, fct_points.occurred_on  (models/runner.py)
with

levels as (
    select
        code_length,
        unit_level
    from int_unit_levels
),

records as (
    select
        substr(grid_code, 1, 12) as village_code,
        strftime(visited_at, '%Y-%m') as period,
        count(*) as visits,
        0 as events,
        0 as disputes,
        0 as points_records,
        0 as points_pending,
    from fct_visit
    group by all
    union all
    select
        substr(grid_code, 1, 12) as village_code,
        strftime(reported_at, '%Y-%m') as period,
        0 as visits,
        count(*) as events,
        0 as disputes,
        0 as points_records,
        0 as points_pending,
    from fct_event
    group by all
    union all
    select
        village_code,
        strftime(registered_on, '%Y-%m') as period,
        0 as visits,
        0 as events,
        count(*) as disputes,
        0 as points_records,
        0 as points_pending,
    from fct_dispute
    group by all
    union all
    select
        village_code,
        strftime(occurred_on, '%Y-%m') as period,
        0 as visits,
        0 as events,
        0 as disputes,
        count(*) as points_records,
        -- awaiting review or posted for objection: the confirmed-only rates will still move
        count(*) filter (where review_status in ('待审核', '已公示')) as points_pending,
    from fct_points
    group by all
)

select
    records.period,
    levels.unit_level,
    substr(records.village_code, 1, levels.code_length) as unit_code,
    sum(records.visits)::bigint as visits,
    sum(records.events)::bigint as events,
    sum(records.disputes)::bigint as disputes,
    sum(records.points_records)::bigint as points_records,
    sum(records.points_pending)::bigint as points_pending,
from records
cross join levels
group by all
order by records.period, unit_code
