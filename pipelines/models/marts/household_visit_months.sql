-- Published mart (drill-through of the household visit rates). Grain: one row per registry household
-- × month with at least one home visit (走访) recorded for it, by any worker of any grid, as the visit
-- rates count them (int_grid_month): the last visit's time. grid_code and village_code are the
-- household's registry grid and village, so a unit's list reads one slice of the sorted table.
-- by month: month_start ~ fct_visit.visited_at  (models/runner.py)
select
    date_trunc('month', fct_visit.visited_at)::date as month_start,
    dim_household.grid_code,
    dim_household.village_code,
    fct_visit.household_key,
    max(fct_visit.visited_at) as last_visit,
from fct_visit
inner join dim_household using (household_key)
where fct_visit.visit_type = '走访'
group by all
order by month_start, dim_household.village_code, dim_household.grid_code, fct_visit.household_key
