-- grain: one row per village (层级 村); township from the parent code, county from the township;
-- outline from ref_boundaries (dissolved from the village's grids at ingest)
with
units as (select * from cur_admin_units),

townships as (select code, parent_code from cur_admin_units where level = '乡镇'),

outlines as (select * from ref_boundaries where level = 'village')

select
    v.code as village_code,
    v.name,
    v.parent_code as township_code,
    coalesce(t.parent_code, left(v.code, 6)) as county_code,
    v.households,
    v.population,
    coalesce(v.lon, o.label_lon) as lon,
    coalesce(v.lat, o.label_lat) as lat,
    o.geometry,
from units as v
left join townships as t on t.code = v.parent_code
left join outlines as o on o.code = v.code
where v.level = '村'
order by village_code
