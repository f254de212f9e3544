-- one row per test generator: how its test sets fare on the tasks' reference solutions
with scored as (select * from test_sets_scored),

final as (
    select generator,
           count(*) as n_test_sets,
           avg((not nontrivial)::int) as trivial_rate,
           avg(passes_reference::int) as correct_rate,
           -- a trivial set passes any function: the share of the non-trivial ones that are correct is what
           -- alignment against a known-good function can reach
           avg(passes_reference::int) filter (where nontrivial) as nontrivial_correct_rate,
           sum(n_passed) / nullif(sum(n_asserts), 0) as assert_correct_rate,
           count(*) filter (where status <> 'ok') as n_not_finished
    from scored
    group by generator
)

select * from final order by generator
