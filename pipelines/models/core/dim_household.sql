-- grain: one row per registry household, pseudonymised: key = HMAC(户编号), names masked, ids hashed.
-- Each field is the latest export's value among the exports that carried the field (_carried; NULL =
-- every field): a file without a column (天阙 has no 重点户类型) does not erase what another gave.
with
-- every loaded observation of a current household (cur_households: one row each, the latest)
observations as (
    select
        *,
        (_export_time, _seq, _sheet_no, _row, _part) as _order,
    from loaded_households
    where household_key in (select c.household_key from cur_households as c)
),

households as (
    select
        household_key,
        arg_max({ 'v': grid_code }, _order)
        filter (where _carried is null or contains(_carried, '|grid_code|')).v as grid_code,
        arg_max({ 'v': head_name }, _order)
        filter (where _carried is null or contains(_carried, '|head_name|')).v as head_name,
        arg_max({ 'v': _head_key }, _order)
        filter (where _carried is null or contains(_carried, '|head_name|')).v as head_name_key,
        arg_max({ 'v': id_number }, _order)
        filter (where _carried is null or contains(_carried, '|id_number|')).v as id_number,
        arg_max({ 'v': phone }, _order)
        filter (where _carried is null or contains(_carried, '|phone|')).v as phone,
        arg_max({ 'v': members }, _order)
        filter (where _carried is null or contains(_carried, '|members|')).v as members,
        arg_max({ 'v': key_type }, _order)
        filter (where _carried is null or contains(_carried, '|key_type|')).v as key_type,
    from observations
    group by household_key
),

grids as (select grid_code, village_code, township_code from dim_grid)

select
    h.household_key,
    h.grid_code,
    g.village_code,
    g.township_code,
    h.head_name as head_name_masked,
    h.id_number as id_number_hash,
    h.phone as phone_hash,
    h.members,
    nullif(h.key_type, '普通户') as key_type,
    coalesce(nullif(h.key_type, '普通户') is not null, false) as is_key,
    -- keyed hash of the head's name: what a record naming its household by its head matches on
    h.head_name_key,
from households as h
left join grids as g on g.grid_code = h.grid_code
order by village_code, household_key
