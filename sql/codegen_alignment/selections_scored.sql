-- one row per (task, strategy): the chance that the strategy's pick passes the hidden ground truth
-- (a uniform pick among its tied candidates, as CodeT scores ties)
with selection as (select * from selections),

scored as (select * from functions_scored),

candidates as (
    select id as selection_id, unnest(candidates) as function_id
    from selection
),

expected as (
    select c.selection_id,
           count(*) as n_candidates,
           avg(coalesce(s.gt_passed, false)::double) as expected_pass
    from candidates as c
    left join scored as s on s.function_id = c.function_id
    group by c.selection_id
),

final as (
    select [sel.id] as parent_ids, sel.task_id, sel.strategy, sel.fallback, sel.score,
           coalesce(e.n_candidates, 0) as n_candidates,
           coalesce(e.expected_pass, 0.0) as expected_pass
    from selection as sel
    left join expected as e on e.selection_id = sel.id
)

select * from final
