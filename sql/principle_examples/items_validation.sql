-- one row per validation item: the only items whose prompts generation stages may see
with items as (select * from items),

final as (
    select id as item_id, human_prompt, assistant_answer, [id] as parent_ids
    from items
    where split = 'validation'
)

select * from final
