-- Published mart (SPEC §6.1 网格员月度考评). Grain: one row per worker (grid_code, worker_name) and
-- month of int_calendar in which at least one item count is not 0 (int_worker_item_counts).
-- Item points: count × points per unit of cfg_worker_item, held to the cap (at most the cap for a
-- reward, at least it for a lapse); total = worker_base + Σ item points, clipped to 0–100, nothing
-- rounded. grade: the first grade of cfg_worker_grade whose min the total rounded to 4 decimals
-- reaches (the last grade has none). rank_in_township: by the rounded total, descending, within the
-- township and month; ties share the best rank (1, 2, 2, 4).
-- by month: period ~ inputs  (models/runner.py)
with

counts as (
    select * from int_worker_item_counts
),

items as (
    select item, points, cap from cfg_worker_item
),

settings as (
    select value as base from cfg_setting where key = 'worker_base'
),

-- The sheet has exactly four grades, best first (pipelines/catalogue.py checks it).
grade_cuts as (
    select
        max(min_total) filter (where ordinal = 0) as cut_1,
        max(min_total) filter (where ordinal = 1) as cut_2,
        max(min_total) filter (where ordinal = 2) as cut_3,
        max(grade) filter (where ordinal = 0) as grade_1,
        max(grade) filter (where ordinal = 1) as grade_2,
        max(grade) filter (where ordinal = 2) as grade_3,
        max(grade) filter (where ordinal = 3) as grade_4,
    from cfg_worker_grade
),

grids as (
    select grid_code, village_code, township_code from dim_grid
),

scored as (
    select
        counts.grid_code,
        counts.worker_name,
        counts.month_start,
        counts.item,
        counts.n,
        case
            when items.points >= 0 then least(counts.n * items.points, items.cap)
            else greatest(counts.n * items.points, items.cap)
        end as points,
    from counts
    inner join items using (item)
),

wide as (
    select
        grid_code,
        worker_name,
        month_start,
        coalesce(sum(n) filter (where item = 'households_visited'), 0)::integer as households_visited,
        coalesce(sum(n) filter (where item = 'key_households_visited'), 0)::integer as key_households_visited,
        coalesce(sum(n) filter (where item = 'patrols'), 0)::integer as patrols,
        coalesce(sum(n) filter (where item = 'talks'), 0)::integer as talks,
        coalesce(sum(n) filter (where item = 'events_reported'), 0)::integer as events_reported,
        coalesce(sum(n) filter (where item = 'events_resolved_in_grid'), 0)::integer as events_resolved_in_grid,
        coalesce(sum(n) filter (where item = 'overdue_events'), 0)::integer as overdue_events,
        coalesce(sum(n) filter (where item = 'late_entries'), 0)::integer as late_entries,
        coalesce(sum(points) filter (where item = 'households_visited'), 0)::double as households_visited_points,
        coalesce(sum(points) filter (where item = 'key_households_visited'), 0)::double as key_households_visited_points,
        coalesce(sum(points) filter (where item = 'patrols'), 0)::double as patrols_points,
        coalesce(sum(points) filter (where item = 'talks'), 0)::double as talks_points,
        coalesce(sum(points) filter (where item = 'events_reported'), 0)::double as events_reported_points,
        coalesce(sum(points) filter (where item = 'events_resolved_in_grid'), 0)::double as events_resolved_in_grid_points,
        coalesce(sum(points) filter (where item = 'overdue_events'), 0)::double as overdue_events_points,
        coalesce(sum(points) filter (where item = 'late_entries'), 0)::double as late_entries_points,
        sum(points) as item_points,
    from scored
    group by all
),

totals as (
    select
        wide.*,
        greatest(0, least(100, settings.base + wide.item_points)) as total,
    from wide
    cross join settings
),

graded as (
    select
        totals.*,
        round(totals.total, 4) as total_4dp,
        grids.village_code,
        grids.township_code,
        case
            when round(totals.total, 4) >= grade_cuts.cut_1 then grade_cuts.grade_1
            when round(totals.total, 4) >= grade_cuts.cut_2 then grade_cuts.grade_2
            when round(totals.total, 4) >= grade_cuts.cut_3 then grade_cuts.grade_3
            else grade_cuts.grade_4
        end as grade,
    from totals
    inner join grids using (grid_code)
    cross join grade_cuts
)

select
    strftime(graded.month_start, '%Y-%m') as period,
    graded.grid_code,
    graded.village_code,
    graded.township_code,
    graded.worker_name,
    graded.households_visited,
    graded.key_households_visited,
    graded.patrols,
    graded.talks,
    graded.events_reported,
    graded.events_resolved_in_grid,
    graded.overdue_events,
    graded.late_entries,
    graded.households_visited_points,
    graded.key_households_visited_points,
    graded.patrols_points,
    graded.talks_points,
    graded.events_reported_points,
    graded.events_resolved_in_grid_points,
    graded.overdue_events_points,
    graded.late_entries_points,
    graded.total::double as total,
    graded.grade,
    rank() over (partition by graded.month_start, graded.township_code order by graded.total_4dp desc)::integer
        as rank_in_township,
from graded
order by period, township_code, rank_in_township, grid_code, worker_name
