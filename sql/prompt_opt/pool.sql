-- one row per scored prompt in the pool after this iteration: the pool before it plus this iteration's
-- candidates
with earlier as (select * from pool_prev),

new as (select * from candidates_scored),

combined as (
    select * from earlier
    union all by name
    select * from new
),

-- columns that were empty or all-null in Python arrive untyped (the initial prompts' null prompt_iteration);
-- give them their types
final as (
    select * replace (
        prompt_iteration::integer as prompt_iteration,
        parent_prompt_ids::varchar[] as parent_prompt_ids,
        train_results::struct(item_id varchar, answer varchar, letter varchar, cross_entropy double)[]
            as train_results
    )
    from combined
)

select * from final
