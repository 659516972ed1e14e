-- Published mart (SPEC §6). Grain: one row per period × village (dim_village × int_calendar).
-- score: sum of village_score_parts.contribution, NULL when no weighted indicator is counted.
-- rank: among the villages with a score in the same county and period, by score descending; ties
-- share the best rank (1, 2, 2, 4); vetoed villages are ranked too. prev_rank: the rank in the
-- previous calendar month (NULL in the first month or when unranked then); rank_change =
-- prev_rank - rank. veto: a veto indicator (petitions) > 0. board, with n ranked and
-- k = ceil(board_share * n): vetoed → black; red when fewer than k score strictly higher (checked
-- first, so a village meeting both is red); black when fewer than k score strictly lower.
-- by month: period ~ inputs; and 1 month later  (models/runner.py)
with

calendar as (
    select month_start, period from int_calendar
),

settings as (
    select value as board_share from cfg_setting where key = 'board_share'
),

villages as (
    select village_code, township_code, county_code from dim_village
),

parts as (
    select * from village_score_parts
),

vetoes as (
    select
        indicator_values.period,
        indicator_values.unit_code as village_code,
        bool_or(indicator_values.value > 0) as veto,
    from indicator_values
    inner join cfg_indicator using (indicator_id)
    where cfg_indicator.veto and indicator_values.unit_level = 'village'
    group by all
),

scores as (
    select
        period,
        village_code,
        case when bool_or(counted) then sum(contribution) end as score,
    from parts
    group by all
),

village_months as (
    select
        villages.*,
        calendar.month_start,
        calendar.period,
        scores.score,
        coalesce(vetoes.veto, false) as veto,
    from villages
    cross join calendar
    left join scores
        on scores.village_code = villages.village_code
        and scores.period = calendar.period
    left join vetoes
        on vetoes.village_code = villages.village_code
        and vetoes.period = calendar.period
),

ranked as (
    select
        village_code,
        month_start,
        rank() over (partition by period, county_code order by score desc) as rank,
        rank() over (partition by period, county_code order by score asc) - 1 as n_lower,
        count(*) over (partition by period, county_code) as n_ranked,
    from village_months
    where score is not null
),

-- round() before ceil(): 0.1 * 30 is 3.0000000000000004 in binary floating point.
with_cut as (
    select
        ranked.*,
        ceil(round(settings.board_share * ranked.n_ranked, 9))::bigint as k,
    from ranked
    cross join settings
)

select
    village_months.period,
    village_months.village_code,
    village_months.township_code,
    village_months.score::double as score,
    with_cut.rank::bigint as rank,
    previous.rank::bigint as prev_rank,
    (previous.rank - with_cut.rank)::bigint as rank_change,
    case
        when village_months.veto then 'black'
        when with_cut.rank is null then null
        when with_cut.rank - 1 < with_cut.k then 'red'
        when with_cut.n_lower < with_cut.k then 'black'
    end as board,
    village_months.veto,
from village_months
left join with_cut
    on with_cut.village_code = village_months.village_code
    and with_cut.month_start = village_months.month_start
left join with_cut as previous
    on previous.village_code = village_months.village_code
    and previous.month_start = village_months.month_start - interval 1 month
order by village_months.period, with_cut.rank nulls last, village_months.village_code
