-- grain: one row per village (层级 村); township from the parent code, county from the township
with
units as (select * from cur_admin_units),
townships as (select code, parent_code from cur_admin_units where level = '乡镇')
select
    v.code as village_code,
    v.name,
    v.parent_code as township_code,
    coalesce(t.parent_code, left(v.code, 6)) as county_code,
    v.households,
    v.population,
    v.lon,
    v.lat,
from units as v
left join townships as t on t.code = v.parent_code
where v.level = '村'
order by village_code
