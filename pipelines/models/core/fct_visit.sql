-- grain: one row per visit/patrol record; visits are not snapshots, so every loaded row is a record
with
visits as (select * from cur_visits),

grids as (select grid_code, village_code, township_code from dim_grid)

select
    v.record_id,
    v.grid_code,
    g.village_code,
    g.township_code,
    v.worker,
    v.household_key,
    v.visit_type,
    v.visited_at,
    v.entered_at,
    v._batch_id as batch_id,
    v._file_name as file_name,
from visits as v
left join grids as g on g.grid_code = v.grid_code
order by village_code, visited_at
