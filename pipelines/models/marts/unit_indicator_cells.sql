-- Read model (issue #18 item 1): the pages' indicator cells. Grain: one row per period × unit ×
-- indicator of indicator_values whose indicator is in the published catalogue (cfg_indicator), with
-- what the overview cards, the league's cells and the trend chart show beside the value, so a page
-- selects rows instead of joining the catalogue and computing lights per call:
--   the catalogue's names, unit, direction, target, target_at, group, weight, tolerance and veto;
--   attainment (SPEC §6, as Indicator.attainment: NULL without a target or direction 'none');
--   light: grey for no value or low n; none for a quarter-end target outside a quarter's last month
--   or without attainment; else green at ≥ 1, amber at ≥ 0.9, red below (warehouse.light);
--   the unit's value one, three and twelve months earlier (环比, the same point of the last quarter, 同比).
-- Ordered by level, month, unit and indicator: one level's month (the league, the what-if, a unit's
-- cards) is contiguous, so their scans read only its rows; a unit's trend reads its level's column
-- of unit codes across the months.
-- by month: period ~ inputs; and 1, 3, 12 months later  (models/runner.py)
with

calendar as (
    select period, month_start from int_calendar
),

cells as (
    select
        indicator_values.*,
        calendar.month_start,
    from indicator_values
    inner join calendar using (period)
),

catalogue as (
    select
        indicator_id,
        ordinal,
        name_zh,
        name_en,
        kind,
        unit,
        direction,
        target,
        target_at,
        grp,
        weight,
        tolerance,
        veto,
    from cfg_indicator
),

attained as (
    select
        cells.*,
        catalogue.ordinal,
        catalogue.name_zh,
        catalogue.name_en,
        catalogue.kind,
        catalogue.unit,
        catalogue.direction,
        catalogue.target,
        catalogue.target_at,
        catalogue.grp,
        catalogue.weight,
        catalogue.tolerance,
        catalogue.veto,
        case
            when cells.value is null or catalogue.target is null or catalogue.direction = 'none' then null
            when catalogue.direction = 'higher' then least(cells.value / catalogue.target, 1.0)
            when cells.value <= catalogue.target then 1.0
            else greatest(0.0, 1.0 - (cells.value - catalogue.target) / catalogue.tolerance)
        end as attainment,
    from cells
    inner join catalogue using (indicator_id)
)

select
    attained.period,
    attained.unit_level,
    attained.unit_code,
    attained.indicator_id,
    attained.ordinal,
    attained.numerator,
    attained.denominator,
    attained.value,
    attained.low_n,
    attained.name_zh,
    attained.name_en,
    attained.kind,
    attained.unit,
    attained.direction,
    attained.target,
    attained.target_at,
    attained.grp,
    attained.weight,
    attained.tolerance,
    attained.veto,
    attained.attainment::double as attainment,
    case
        when attained.value is null or attained.low_n then 'grey'
        when attained.target_at = 'quarter_end' and substr(attained.period, 6, 2)::integer % 3 <> 0
            then 'none'
        when attained.attainment is null then 'none'
        when attained.attainment >= 1.0 then 'green'
        when attained.attainment >= 0.9 then 'amber'
        else 'red'
    end as light,
    last_month.value as prev_month_value,
    last_quarter.value as prev_quarter_value,
    last_year.value as prev_year_value,
from attained
left join cells as last_month
    on last_month.unit_code = attained.unit_code
    and last_month.indicator_id = attained.indicator_id
    and last_month.month_start = attained.month_start - interval 1 month
left join cells as last_quarter
    on last_quarter.unit_code = attained.unit_code
    and last_quarter.indicator_id = attained.indicator_id
    and last_quarter.month_start = attained.month_start - interval 3 month
left join cells as last_year
    on last_year.unit_code = attained.unit_code
    and last_year.indicator_id = attained.indicator_id
    and last_year.month_start = attained.month_start - interval 12 month
order by
    case attained.unit_level when 'county' then 1 when 'township' then 2 when 'village' then 3 else 4 end,
    attained.period,
    attained.unit_code,
    attained.ordinal
