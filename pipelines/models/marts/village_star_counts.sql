-- Published mart (星级文明户 per village, the points page's star table). Grain: one row per village
-- × year of household_stars: its registry households, how many hold 5, 4 and 3 stars, and their
-- confirmed points of the year (summed as exact decimals). A page selects rows instead of counting
-- a province's households per call (issue #18 item 1).
-- by month: year ~ inputs  (models/runner.py)
select
    year,
    village_code,
    count(*) as households,
    count(*) filter (where stars = 5) as stars5,
    count(*) filter (where stars = 4) as stars4,
    count(*) filter (where stars = 3) as stars3,
    sum(total_points::decimal(18, 6))::double as total_points,
from household_stars
group by all
order by year, village_code
