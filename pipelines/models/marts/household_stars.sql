-- Published mart (SPEC §6 star households 星级文明户). Grain: one row per registry household × year
-- (the years of int_calendar). total_points: the household's 已确认 points with 发生日期 in the year
-- (0 when none), summed as exact decimals so equal totals tie exactly. rank: within the village by
-- total descending, ties share the best rank (1, 2, 2, 4). With n = registry households of the
-- village: 5 stars if rank <= ceil(star_share_5 * n), 4 if <= ceil(star_share_4 * n), 3 if
-- <= ceil(star_share_3 * n), and only where the total is above 0; otherwise 0.
-- by month: year ~ inputs; year  (models/runner.py)
with

years as (
    select distinct year from int_calendar
),

settings as (
    select
        max(value) filter (where key = 'star_share_5') as share_5,
        max(value) filter (where key = 'star_share_4') as share_4,
        max(value) filter (where key = 'star_share_3') as share_3,
    from cfg_setting
),

households as (
    select household_key, village_code from dim_household
),

yearly_points as (
    select
        household_key,
        year(month_start) as year,
        sum(confirmed_points) as total_points,
    from int_household_points
    group by all
),

household_years as (
    select
        households.household_key,
        households.village_code,
        years.year,
        coalesce(yearly_points.total_points, 0) as total_points,
    from households
    cross join years
    left join yearly_points
        on yearly_points.household_key = households.household_key
        and yearly_points.year = years.year
),

ranked as (
    select
        *,
        rank() over (partition by year, village_code order by total_points desc) as rank,
        count(*) over (partition by year, village_code) as n,
    from household_years
)

-- round() before ceil(): 0.3 * 10 is 3.0000000000000004 in binary floating point.
select
    ranked.year::integer as year,
    ranked.household_key,
    ranked.village_code,
    ranked.total_points::double as total_points,
    ranked.rank::bigint as rank,
    case
        when ranked.total_points <= 0 then 0
        when ranked.rank <= ceil(round(settings.share_5 * ranked.n, 9)) then 5
        when ranked.rank <= ceil(round(settings.share_4 * ranked.n, 9)) then 4
        when ranked.rank <= ceil(round(settings.share_3 * ranked.n, 9)) then 3
        else 0
    end::integer as stars,
from ranked
cross join settings
order by year, village_code, rank, household_key
