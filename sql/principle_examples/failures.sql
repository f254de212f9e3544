-- one row per validation item the working version failed; test items never pass this point, so no generation
-- prompt (analysis, new prompts, candidates) can show them
with evaluation_prev as (select * from evaluation_prev),

final as (
    select item_id, version, human_prompt, letters, [id] as parent_ids
    from evaluation_prev
    where split = 'validation' and not passed
)

select * from final
