-- one row per (side, generator): a generator is one (model role, prompt variant) pair of the crowd; tasks it
-- helped align, and how often its aligned pairs were right (their function passes the hidden ground truth)
with first_alignments as (select * from alignment where aligned_now),

generated_functions as (select * from functions),

generated_tests as (select * from test_sets),

scored as (select * from functions_scored),

task_count as (select count(*) as n_tasks from tasks),

pairs as (
    select task_id, unnest(aligned_function_ids) as function_id, unnest(aligned_test_set_ids) as test_set_id
    from first_alignments
),

pair_truth as (
    select p.task_id, f.generator as function_generator, t.generator as test_generator, s.gt_passed
    from pairs as p
    join generated_functions as f on f.id = p.function_id
    join generated_tests as t on t.id = p.test_set_id
    join scored as s on s.function_id = p.function_id
),

made as (
    select 'functions' as side, generator, any_value(role) as role, any_value(prompt) as prompt,
           count(*) as n_generated
    from generated_functions group by generator
    union all
    select 'tests' as side, generator, any_value(role) as role, any_value(prompt) as prompt, count(*) as n_generated
    from generated_tests group by generator
),

aligned as (
    select 'functions' as side, function_generator as generator, count(distinct task_id) as tasks_aligned,
           count(*) as aligned_pairs, avg(gt_passed::int) as precision
    from pair_truth group by function_generator
    union all
    select 'tests' as side, test_generator as generator, count(distinct task_id) as tasks_aligned,
           count(*) as aligned_pairs, avg(gt_passed::int) as precision
    from pair_truth group by test_generator
),

final as (
    select m.side, m.generator, m.role, m.prompt, m.n_generated,
           coalesce(a.tasks_aligned, 0) as tasks_aligned,
           coalesce(a.tasks_aligned, 0) / nullif((select n_tasks from task_count), 0) as alignment_rate,
           coalesce(a.aligned_pairs, 0) as aligned_pairs,
           a.precision
    from made as m
    left join aligned as a on a.side = m.side and a.generator = m.generator
)

select * from final order by side, generator
