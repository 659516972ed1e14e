-- grain: one row per township (层级 乡镇); its county is its parent code
with units as (select * from cur_admin_units)
select
    code as township_code,
    name,
    parent_code as county_code,
    households,
    population,
    lon,
    lat,
from units
where level = '乡镇'
order by township_code
