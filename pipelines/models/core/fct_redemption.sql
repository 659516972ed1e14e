-- grain: one row per redemption; counted in the household's village
with
redemptions as (select * from cur_redemptions),

households as (select household_key, village_code, township_code from dim_household)

select
    r.redemption_id,
    r.household_key,
    h.village_code,
    h.township_code,
    r.item,
    r.points_spent,
    r.redeemed_on,
    r._batch_id as batch_id,
    r._file_name as file_name,
from redemptions as r
left join households as h on h.household_key = r.household_key
order by village_code, redeemed_on
