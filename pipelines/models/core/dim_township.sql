-- grain: one row per township (层级 乡镇); its county is its parent code; outline from ref_boundaries
with
units as (select * from cur_admin_units),

outlines as (select * from ref_boundaries where level = 'township')

select
    u.code as township_code,
    u.name,
    u.parent_code as county_code,
    u.households,
    u.population,
    coalesce(u.lon, o.label_lon) as lon,
    coalesce(u.lat, o.label_lat) as lat,
    o.geometry,
from units as u
left join outlines as o on o.code = u.code
where u.level = '乡镇'
order by township_code
