-- grain: one row per dispute case; latest export's state; village resolved from its name (chk_disputes)
with
cases as (select * from cur_disputes),

-- a field an export does not carry keeps the latest carrying export's value (_carried; NULL = all
-- fields): a later export without the column does not erase it (absent ≠ present but empty)
carried as (
    select
        case_id,
        arg_max({ 'v': parties }, _order)
        filter (where _carried is null or contains(_carried, '|parties|')).v as parties,
        arg_max({ 'v': party_count }, _order)
        filter (where _carried is null or contains(_carried, '|party_count|')).v as party_count,
        arg_max({ 'v': amount }, _order)
        filter (where _carried is null or contains(_carried, '|amount|')).v as amount,
        arg_max({ 'v': mediation_org }, _order)
        filter (where _carried is null or contains(_carried, '|mediation_org|')).v as mediation_org,
        arg_max({ 'v': mediator }, _order)
        filter (where _carried is null or contains(_carried, '|mediator|')).v as mediator,
        arg_max({ 'v': concluded_on }, _order)
        filter (where _carried is null or contains(_carried, '|concluded_on|')).v as concluded_on,
        arg_max({ 'v': is_petition }, _order)
        filter (where _carried is null or contains(_carried, '|is_petition|')).v as is_petition,
        arg_max({ 'v': related_event_id }, _order)
        filter (where _carried is null or contains(_carried, '|related_event_id|')).v as related_event_id,
    from (select *, (_export_time, _seq, _sheet_no, _row, _part) as _order from loaded_disputes) as o
    group by case_id
),

villages as (select village_code, township_code from dim_village)

select
    c.case_id,
    c.registered_on,
    c._village_code as village_code,
    v.township_code,
    c.dispute_type,
    k.parties as parties_masked,
    k.party_count,
    k.amount,
    k.mediation_org,
    k.mediator,
    c.result,
    k.concluded_on,
    coalesce(k.is_petition, false) as is_petition,
    k.related_event_id,
    c._export_time as export_time,
    c._batch_id as batch_id,
    c._file_name as file_name,
from cases as c
left join carried as k on k.case_id = c.case_id
left join villages as v on v.village_code = c._village_code
order by village_code, registered_on
