-- one row per scored prompt in the pool after this epoch: the pool before it plus this epoch's candidates
with earlier as (select * from pool_prev),

new as (select * from candidates_scored),

combined as (
    select * from earlier
    union all by name
    select * from new
),

-- lists that were empty or all-null in Python arrive untyped; give them their types before they meet
final as (
    select * replace (
        parent_prompt_ids::varchar[] as parent_prompt_ids,
        train_results::struct(item_id varchar, answer varchar, letter varchar, cross_entropy double)[]
            as train_results
    )
    from combined
)

select * from final
