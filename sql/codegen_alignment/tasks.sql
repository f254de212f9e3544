-- one row per task, with only what a model may see (a program task's statement, examples and limits): the hidden
-- reference, ground truth and hidden tests stay behind
with checked as (select * from tasks_checked),

final as (
    select [id] as parent_ids, task_id, dataset, kind, prompt, entry_point, docstring_asserts,
           public_tests, time_limit_s, memory_mb
    from checked
)

select * from final
