-- one row per task, with only what a model may see: the hidden reference and ground truth stay behind
with checked as (select * from tasks_checked),

final as (
    select [id] as parent_ids, task_id, dataset, prompt, entry_point, docstring_asserts
    from checked
)

select * from final
