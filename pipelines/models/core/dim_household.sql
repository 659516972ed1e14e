-- grain: one row per registry household, pseudonymised: key = HMAC(户编号), names masked, ids hashed
with
households as (select * from cur_households),
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
from households as h
left join grids as g on g.grid_code = h.grid_code
order by village_code, household_key
