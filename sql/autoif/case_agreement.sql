-- one row per verifier case: how many of its constraint's verifiers give its expected output (a verdict is
-- verifier_matrix.verdict: a crash, a timeout or a value like "True" is none, so it never agrees).
-- Kept when at least one verifier agrees (AutoIF step 3).
with verdicts as (select * from verifier_matrix),

cases as (select * from verifier_cases),

per_case as (
    select
        c.id as case_id,
        c.parent_ids,
        c.constraint_id,
        c.expected,
        count(v.verifier_id) as n_verifiers,
        count(v.verifier_id) filter (where v.verdict = c.expected) as n_agree
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
        n_verifiers,
        n_agree,
        case when n_agree = 0 then 'no_verifier_agrees' end as reason,
        format('0 of {} verifiers agree with expected {}', n_verifiers, expected) as detail
    from per_case
)

select * from final
