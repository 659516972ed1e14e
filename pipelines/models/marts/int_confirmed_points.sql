-- Grain: one row per points record that counts (SPEC §5-6): review state 已确认 (confirmed). This is
-- the one place that says so: records awaiting review (待审核), posted for objection (已公示) or
-- rejected (已驳回) count for no indicator, star or page total. Every points model reads this.
-- by month: month_start ~ fct_points.occurred_on  (models/runner.py)
select
    record_id,
    household_key,
    village_code,
    category,
    points,
    occurred_on,
    date_trunc('month', occurred_on)::date as month_start,
from fct_points
where review_status = '已确认'
