-- one row per held-out item: never shown to the generator, only used to report the best prompts
with items as (select * from items_split),

final as (select * exclude (split) from items where split = 'heldout')

select * from final
