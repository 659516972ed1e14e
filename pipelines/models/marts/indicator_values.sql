-- Published mart (SPEC §4–5). Grain: one row per period × unit × indicator, for every unit of the
-- indicator's levels (cfg_indicator_level, from the catalogue) and every month of int_calendar.
-- Counts are 0 when nothing happened; rates are NULL when the denominator is 0 and medians when no
-- record defines them. value = scale × numerator / denominator for rates (scale 1000 for
-- disputes_per_1000). low_n: a village-level rate whose denominator is below the catalogue's
-- threshold; township, county and grid rows, counts and medians are never low n.
-- by month: period ~ inputs  (models/runner.py)
with

calendar as (
    select period from int_calendar
),

settings as (
    select value as low_n_threshold from cfg_setting where key = 'low_n_threshold'
),

indicators as (
    select
        cfg_indicator_level.indicator_id,
        cfg_indicator_level.unit_level,
        cfg_indicator.ordinal,
        cfg_indicator.kind,
        cfg_indicator.scale,
    from cfg_indicator_level
    inner join cfg_indicator using (indicator_id)
),

parts as (
    select * from int_indicator_parts
),

medians as (
    select * from int_median_values
),

units as (
    select 'grid' as unit_level, grid_code as unit_code from dim_grid
    union
    select 'village', village_code from dim_village
    union
    select 'township', township_code from dim_township
    union
    select 'township', township_code from dim_village
    union
    select 'county', county_code from dim_county
    union
    select 'county', county_code from dim_township
    union
    select 'county', county_code from dim_village
),

frame as (
    select
        calendar.period,
        units.unit_level,
        units.unit_code,
        indicators.indicator_id,
        indicators.ordinal,
        indicators.kind,
        indicators.scale,
    from units
    cross join calendar
    inner join indicators on indicators.unit_level = units.unit_level
    where units.unit_code is not null
),

measured as (
    select
        frame.*,
        case
            when frame.kind = 'median' then coalesce(medians.numerator, 0)
            else coalesce(parts.numerator, 0)
        end::double as numerator,
        case when frame.kind = 'rate' then coalesce(parts.denominator, 0) end::double as denominator,
        medians.value as median_value,
    from frame
    left join parts
        on parts.unit_level = frame.unit_level
        and parts.unit_code = frame.unit_code
        and parts.period = frame.period
        and parts.indicator_id = frame.indicator_id
    left join medians
        on medians.unit_level = frame.unit_level
        and medians.unit_code = frame.unit_code
        and medians.period = frame.period
        and medians.indicator_id = frame.indicator_id
)

select
    measured.period,
    measured.unit_level,
    measured.unit_code,
    measured.indicator_id,
    measured.numerator,
    measured.denominator,
    case
        when measured.kind = 'rate' and measured.denominator > 0
            then measured.scale * measured.numerator / measured.denominator
        when measured.kind = 'count' then measured.numerator
        when measured.kind = 'median' then measured.median_value
    end::double as value,
    coalesce(
        measured.unit_level = 'village'
        and measured.kind = 'rate'
        and measured.denominator < settings.low_n_threshold,
        false
    ) as low_n,
from measured
cross join settings
order by
    measured.period,
    case measured.unit_level when 'county' then 1 when 'township' then 2 when 'village' then 3 else 4 end,
    measured.unit_code,
    measured.ordinal
