-- grain: one row per dispute case; latest export's state; village resolved from its name (chk_disputes)
with
cases as (select * from cur_disputes),
villages as (select village_code, township_code from dim_village)
select
    c.case_id,
    c.registered_on,
    c._village_code as village_code,
    v.township_code,
    c.dispute_type,
    c.parties as parties_masked,
    c.party_count,
    c.amount,
    c.mediation_org,
    c.mediator,
    c.result,
    c.concluded_on,
    coalesce(c.is_petition, false) as is_petition,
    c.related_event_id,
    c._export_time as export_time,
    c._batch_id as batch_id,
    c._file_name as file_name,
from cases as c
left join villages as v on v.village_code = c._village_code
order by village_code, registered_on
