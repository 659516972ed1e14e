-- grain: one row per grid (15-digit code) of the current grids reference
with
grids as (select * from cur_grids),

villages as (select village_code, township_code from dim_village)

select
    g.grid_code,
    g.grid_name,
    g.village_code,
    v.township_code,
    g.households,
    g.population,
    g.grid_head,
    g.worker_count,
    g.geometry,
    g._centroid_lon as centroid_lon,
    g._centroid_lat as centroid_lat,
from grids as g
left join villages as v on v.village_code = g.village_code
order by grid_code
