-- Published mart (趋势 disputes by type). Grain: one row per month of 登记日期 × unit (county,
-- township, village of the case) × dispute type with at least one case: cases, and those whose
-- result is 调解成功.
-- by month: period ~ fct_dispute.registered_on  (models/runner.py)
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
        strftime(registered_on, '%Y-%m') as period,
        dispute_type,
        count(*) as disputes,
        count(*) filter (where result = '调解成功') as mediated,
    from fct_dispute
    group by all
)

select
    village_rows.period,
    levels.unit_level,
    substr(village_rows.village_code, 1, levels.code_length) as unit_code,
    village_rows.dispute_type,
    sum(village_rows.disputes)::bigint as disputes,
    sum(village_rows.mediated)::bigint as mediated,
from village_rows
cross join levels
group by all
order by village_rows.period, unit_code, village_rows.dispute_type
