-- The three unit levels a village row rolls up to, by the length of the unit's code (county 6,
-- township 9, village 12 digits): the published per-unit marts join their village rows to it.
select
    6 as code_length,
    'county' as unit_level
union all
select
    9 as code_length,
    'township' as unit_level
union all
select
    12 as code_length,
    'village' as unit_level
