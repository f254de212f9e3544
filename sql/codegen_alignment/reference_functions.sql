-- one row per task: its reference solution as a program, without the ground-truth tests. Hidden from every
-- model: it is the known-good function of known_good=reference_function and what test sets are scored against.
with checked as (select * from tasks_checked),

final as (
    select [id] as parent_ids, task_id, kind, entry_point, reference as program
    from checked
)

select * from final
