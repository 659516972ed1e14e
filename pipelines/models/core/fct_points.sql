-- grain: one row per points record; review state from the latest export; counted in the household's village
with
records as (select * from cur_points),

-- a field an export does not carry keeps the latest carrying export's value (_carried; NULL = all
-- fields): a later export without the column does not erase it (absent ≠ present but empty)
carried as (
    select
        record_id,
        arg_max({ 'v': category }, _order)
        filter (where _carried is null or contains(_carried, '|category|')).v as category,
    from (select *, (_export_time, _seq, _sheet_no, _row, _part) as _order from loaded_points) as o
    group by record_id
),

first_entry as (select record_id, min(entered_on) as entered_on from loaded_points group by record_id),

households as (select household_key, village_code, township_code from dim_household)

select
    r.record_id,
    r.household_key,
    h.village_code,
    h.township_code,
    r.item,
    k.category,
    r.points,
    r.occurred_on,
    f.entered_on,
    r.review_status,
    r._export_time as export_time,
    r._batch_id as batch_id,
    r._file_name as file_name,
from records as r
left join carried as k on k.record_id = r.record_id
left join first_entry as f on f.record_id = r.record_id
left join households as h on h.household_key = r.household_key
order by village_code, occurred_on
