-- Grain: one row per period × village × weighted indicator (weight > 0 in the catalogue): the
-- attainment and the points each indicator contributes to the composite score (SPEC §6). The score
-- in village_scores is the sum of `contribution`, and the explain query reads this table, so the
-- drill-down always adds up to the published score.
--   higher-better: a = min(value / target, 1)
--   lower-better:  a = 1 if value <= target else max(0, 1 - (value - target) / tolerance)
--   counted: the value is defined and not low n; contribution = 100 * w * a / (sum of counted w),
--   an exact decimal (10 places) so equal inputs give identical scores and ties are exact.
-- by month: period ~ inputs  (models/runner.py)
with

-- Attainment is computed in one place, the read model unit_indicator_cells (the formula above);
-- here only the weighted indicators' village cells.
attained as (
    select
        period,
        unit_code as village_code,
        indicator_id,
        ordinal,
        numerator,
        denominator,
        value,
        low_n,
        direction,
        target,
        tolerance,
        weight,
        attainment,
        value is not null and not low_n as counted,
    from unit_indicator_cells
    where unit_level = 'village' and weight > 0
),

counted_weights as (
    select
        period,
        village_code,
        sum(weight::decimal(18, 6)) filter (where counted)::double as counted_weight,
    from attained
    group by all
)

select
    attained.period,
    attained.village_code,
    attained.indicator_id,
    attained.ordinal,
    attained.numerator,
    attained.denominator,
    attained.value,
    attained.low_n,
    attained.direction,
    attained.target,
    attained.tolerance,
    attained.weight,
    attained.attainment,
    attained.counted,
    case
        when attained.counted
            then (100.0 * attained.weight * attained.attainment / counted_weights.counted_weight)::decimal(18, 10)
    end as contribution,
    case
        when attained.counted then null
        when attained.value is null then 'no_value'
        else 'low_n'
    end as why_not_counted,
from attained
inner join counted_weights using (period, village_code)
order by attained.period, attained.village_code, attained.ordinal
