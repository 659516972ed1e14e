-- grain: one row per event; state from the latest export (cur_events), entry time from the first observation
with
events as (select * from cur_events),
first_entry as (select event_id, min(entered_at) as entered_at from loaded_events group by event_id),
grids as (select grid_code, village_code, township_code from dim_grid)
select
    e.event_id,
    e.grid_code,
    g.village_code,
    g.township_code,
    e.reporter,
    e.reported_at,
    e.category,
    e.source,
    e.handling_level,
    e.status,
    e.status in ('已办结', '已回访') as is_closed,
    e.accepted_at,
    e.deadline,
    e.closed_at,
    e.satisfaction,
    f.entered_at,
    e._export_time as export_time,
    e._batch_id as batch_id,
    e._file_name as file_name,
from events as e
left join first_entry as f on f.event_id = e.event_id
left join grids as g on g.grid_code = e.grid_code
order by village_code, reported_at
