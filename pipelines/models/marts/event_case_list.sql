-- Read model (the cases page's event lists and the 超期未办结 list and summary; issue #18 item 1).
-- Grain: one row per event of fct_event whose grid is in dim_grid, with its lifecycle (reported →
-- accepted → closed → callback) as the list shows it: hours to accept and to close, whether it
-- closed late and, while open, whether and by how many days it is past its deadline as of the
-- county's latest export (the snapshot its open state comes from: the latest export time of the
-- county's events, else their latest report time). Grid workers' names are public (SPEC §3.7);
-- anyone else who reported is shown masked as 张**. Ordered by report time: a month's events are
-- contiguous.
with

snapshot as (
    select
        substr(grid_code, 1, 6) as county_code,
        coalesce(max(export_time), max(reported_at)) as as_of,
    from fct_event
    group by all
),

events as (
    select
        fct_event.*,
        dim_grid.grid_name,
        dim_grid.village_code as grid_village_code,
        dim_grid.township_code as grid_township_code,
        dim_village.name as village_name,
        snapshot.as_of,
        not fct_event.is_closed and fct_event.deadline < snapshot.as_of as overdue_open,
    from fct_event
    inner join dim_grid using (grid_code)
    left join dim_village on dim_grid.village_code = dim_village.village_code
    inner join snapshot on substr(fct_event.grid_code, 1, 6) = snapshot.county_code
)

select
    event_id,
    grid_code,
    grid_name,
    grid_village_code as village_code,
    village_name,
    grid_township_code as township_code,
    category,
    source,
    handling_level,
    status,
    case
        when source = '网格员巡查' then reporter
        when reporter is not null then left(reporter, 1) || '**'
    end as reporter,
    reported_at,
    accepted_at,
    deadline,
    closed_at,
    satisfaction,
    round(date_diff('second', reported_at, accepted_at) / 3600.0, 2) as hours_to_accept,
    round(date_diff('second', reported_at, closed_at) / 3600.0, 2) as hours_to_close,
    is_closed,
    is_closed and closed_at > deadline as closed_late,
    overdue_open,
    case when overdue_open then date_diff('day', deadline::date, as_of::date) end as days_overdue,
    as_of,
from events
order by reported_at, event_id
