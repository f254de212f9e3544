-- one row per selection strategy: its pass@1 over all tasks, and how often it had nothing to go on
with scored as (select * from selections_scored),

final as (
    select strategy,
           count(*) as n_tasks,
           avg(expected_pass) as pass_at_1,
           avg(fallback::int) as fallback_rate
    from scored
    group by strategy
)

select * from final order by pass_at_1 desc, strategy
