-- one row per train item: the items whose results the meta prompt shows
with items as (select * from items_split),

final as (select * exclude (split) from items where split = 'train')

select * from final
