-- grain: one row per county (层级 县) in the current admin-units reference
with units as (select * from cur_admin_units)

select
    code as county_code,
    name,
    households,
    population,
    lon,
    lat,
from units
where level = '县'
order by county_code
