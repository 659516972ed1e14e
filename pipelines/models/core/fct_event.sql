-- grain: one row per event; state from the latest export (cur_events), entry time from the first observation
with
events as (select * from cur_events),

-- a field an export does not carry keeps the latest carrying export's value (_carried; NULL = all
-- fields): a later export without the column does not erase it (absent ≠ present but empty)
carried as (
    select
        event_id,
        arg_max({ 'v': reporter }, _order)
        filter (where _carried is null or contains(_carried, '|reporter|')).v as reporter,
        arg_max({ 'v': source }, _order)
        filter (where _carried is null or contains(_carried, '|source|')).v as source,
        arg_max({ 'v': handling_level }, _order)
        filter (where _carried is null or contains(_carried, '|handling_level|')).v as handling_level,
        arg_max({ 'v': accepted_at }, _order)
        filter (where _carried is null or contains(_carried, '|accepted_at|')).v as accepted_at,
        arg_max({ 'v': closed_at }, _order)
        filter (where _carried is null or contains(_carried, '|closed_at|')).v as closed_at,
        arg_max({ 'v': satisfaction }, _order)
        filter (where _carried is null or contains(_carried, '|satisfaction|')).v as satisfaction,
    from (select *, (_export_time, _seq, _sheet_no, _row, _part) as _order from loaded_events) as o
    group by event_id
),

first_entry as (select event_id, min(entered_at) as entered_at from loaded_events group by event_id),

grids as (select grid_code, village_code, township_code from dim_grid)

select
    e.event_id,
    e.grid_code,
    g.village_code,
    g.township_code,
    k.reporter,
    e.reported_at,
    e.category,
    k.source,
    k.handling_level,
    e.status,
    e.status in ('已办结', '已回访') as is_closed,
    k.accepted_at,
    e.deadline,
    k.closed_at,
    k.satisfaction,
    f.entered_at,
    e._export_time as export_time,
    e._batch_id as batch_id,
    e._file_name as file_name,
from events as e
left join carried as k on k.event_id = e.event_id
left join first_entry as f on f.event_id = e.event_id
left join grids as g on g.grid_code = e.grid_code
order by village_code, reported_at
