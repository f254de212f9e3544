-- one row per verifier: whether it compiles and its accuracy on its constraint's kept cases, where a cell without
-- a verdict (verifier_matrix.verdict: a crash, a timeout, a non-boolean value) counts as a wrong answer (AutoIF
-- step 3). n_forbidden counts the cases on which it tried something the sandbox forbids or ran out of memory, on
-- any case, kept or not.
with samples as (select * from verifier_samples),

matrix as (select * from verifier_matrix),

kept_cases as (select * from case_agreement),

cells as (
    select
        m.verifier_id,
        m.status,
        k.expected,
        m.verdict
    from matrix as m
    inner join kept_cases as k on k.id = m.case_id
),

per_verifier as (
    select
        verifier_id,
        count(*) as n_cases,
        count(*) filter (where verdict = expected) as n_correct,
        count(*) filter (where status = 'ok' and verdict is null) as n_non_bool,
        count(*) filter (where status <> 'ok') as n_failed
    from cells
    group by verifier_id
),

compiled as (
    select
        verifier_id,
        bool_or(status not in ('syntax', 'forbidden')) as compiles,
        count(*) filter (where status in ('forbidden', 'memory')) as n_forbidden
    from matrix
    group by verifier_id
),

final as (
    select
        s.id,
        s.parent_ids,  -- the same row as in verifier_samples, with its scores
        s.constraint_id,
        s.code,
        s.llm_key,
        s.simulated,
        coalesce(c.compiles, false) as compiles,
        coalesce(c.n_forbidden, 0) as n_forbidden,
        coalesce(p.n_cases, 0) as n_cases,
        coalesce(p.n_correct, 0) as n_correct,
        coalesce(p.n_non_bool, 0) as n_non_bool,
        coalesce(p.n_failed, 0) as n_failed,
        case when p.n_cases > 0 then p.n_correct / p.n_cases end as accuracy
    from samples as s
    left join compiled as c on c.verifier_id = s.id
    left join per_verifier as p on p.verifier_id = s.id
)

select * from final
