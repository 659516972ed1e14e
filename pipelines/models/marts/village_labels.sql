-- Read model (issue #14 defect 3, #18 item 1). Grain: one row per village of dim_village with the
-- label every page and the pack name it by: its name, or "村名（乡镇）" where another village of
-- the warehouse has the same name (the township's name, else the first nine digits of the code).
-- Repeats are counted over the whole warehouse, not a scope, so a village has one label for every
-- account and in every pack. The one place this rule is written.
select
    dim_village.village_code,
    case
        when count(*) over (partition by dim_village.county_code, dim_village.name) > 1
            then
                dim_village.name
                || '（' || coalesce(nullif(dim_township.name, ''), left(dim_village.village_code, 9)) || '）'
        else dim_village.name
    end as label,
from dim_village
left join dim_township using (township_code)
order by dim_village.village_code
