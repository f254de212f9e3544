-- one row per verifier case: how many of its constraint's functions give its expected output.
-- A verdict is only a real boolean: a crash, a timeout or a value like "True" is no verdict, so it never agrees.
-- Kept when at least one function agrees (AutoIF step 3).
with matrix as (select * from verifier_matrix),

cases as (select * from verifier_cases),

verdicts as (
    select
        case_id,
        func_id,
        case when status = 'ok' and value in ('true', 'false') then value = 'true' end as verdict
    from matrix
),

per_case as (
    select
        c.id as case_id,
        c.parent_ids,
        c.constraint_id,
        c.expected,
        count(v.func_id) as n_funcs,
        count(v.func_id) filter (where v.verdict = c.expected) as n_agree
    from cases as c
    left join verdicts as v on v.case_id = c.id
    group by all
),

final as (
    select
        case_id as id,
        parent_ids,  -- a kept row is the same case as in verifier_cases
        constraint_id,
        expected,
        n_funcs,
        n_agree,
        case when n_agree = 0 then 'no_function_agrees' end as reason,
        format('0 of {} functions agree with expected {}', n_funcs, expected) as detail
    from per_case
)

select * from final
