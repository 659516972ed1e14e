-- Published mart (地图 dispute sites). Grain: one row per month × village of dim_village with at
-- least one dispute case registered (登记日期) in the month: cases, petitions, the most frequent
-- dispute type (ties: the type registered first in the month, then by case id), and a position:
-- the village's coordinates, else the mean of its grid centroids.
-- by month: period ~ fct_dispute.registered_on  (models/runner.py)
with

disputes as (
    select
        village_code,
        strftime(registered_on, '%Y-%m') as period,
        dispute_type,
        registered_on,
        case_id,
        is_petition,
    from fct_dispute
),

types as (
    select
        village_code,
        period,
        dispute_type,
        count(*) as cases,
        min(registered_on) as first_on,
        min(case_id) as first_case,
    from disputes
    group by all
),

top_types as (
    select
        village_code,
        period,
        dispute_type as top_type,
        row_number() over (
            partition by village_code, period order by cases desc, first_on asc, first_case asc
        ) as type_rank,
    from types
),

totals as (
    select
        village_code,
        period,
        count(*) as disputes,
        count(*) filter (where is_petition) as petitions,
    from disputes
    group by all
),

centroids as (
    select
        village_code,
        avg(centroid_lon) as grid_lon,
        avg(centroid_lat) as grid_lat,
    from dim_grid
    group by all
)

select
    totals.period,
    totals.village_code,
    dim_village.township_code,
    totals.disputes,
    totals.petitions,
    top_types.top_type,
    coalesce(dim_village.lon, centroids.grid_lon) as lon,
    coalesce(dim_village.lat, centroids.grid_lat) as lat,
from totals
inner join dim_village on dim_village.village_code = totals.village_code
inner join top_types
    on top_types.village_code = totals.village_code
    and top_types.period = totals.period
    and top_types.type_rank = 1
left join centroids on centroids.village_code = totals.village_code
order by totals.period, totals.village_code
