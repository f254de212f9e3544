-- one row per constraint that cross-validation keeps (AutoIF step 3): at least min_verifiers verifiers compile, at
-- least min_cases distinct cases, kept cases with both a true and a false one (an always-False verifier must not
-- score 1.0), and at least one verifier with accuracy >= min_verifier_accuracy that never tried anything forbidden.
with candidates as (select * from constraints),

verifiers as (select * from verifier_accuracy),

all_cases as (select * from verifier_cases),

kept_cases as (select * from case_agreement),

thresholds as (select * from verification_thresholds),

verifier_counts as (
    select
        v.constraint_id,
        count(*) filter (where v.compiles) as n_verifiers,
        count(*) filter (where v.compiles and v.n_forbidden = 0 and v.accuracy >= t.min_verifier_accuracy) as n_accurate
    from verifiers as v
    cross join thresholds as t
    group by v.constraint_id
),

case_counts as (
    select constraint_id, count(*) as n_cases
    from all_cases
    group by constraint_id
),

kept_case_counts as (
    select
        constraint_id,
        count(*) filter (where expected) as n_true,
        count(*) filter (where not expected) as n_false
    from kept_cases
    group by constraint_id
),

joined as (
    select
        c.id,
        c.parent_ids,
        c.text,
        c.origin,
        c.simulated,
        coalesce(f.n_verifiers, 0) as n_verifiers,
        coalesce(f.n_accurate, 0) as n_accurate,
        coalesce(cc.n_cases, 0) as n_cases,
        coalesce(k.n_true, 0) as n_true,
        coalesce(k.n_false, 0) as n_false,
        t.min_verifiers,
        t.min_cases
    from candidates as c
    cross join thresholds as t
    left join verifier_counts as f on f.constraint_id = c.id
    left join case_counts as cc on cc.constraint_id = c.id
    left join kept_case_counts as k on k.constraint_id = c.id
),

final as (
    select
        id,
        parent_ids,  -- a kept row is the same row as in constraints
        text,
        origin,
        simulated,
        n_verifiers,
        n_accurate,
        n_cases,
        n_true,
        n_false,
        case
            when n_verifiers < min_verifiers then 'too_few_verifiers'
            when n_cases < min_cases then 'too_few_cases'
            when n_true = 0 then 'no_true_case'
            when n_false = 0 then 'no_false_case'
            when n_accurate = 0 then 'no_accurate_verifier'
        end as reason,
        format('{} verifiers compile (min {}), {} cases (min {}), kept cases {} true and {} false, {} accurate',
               n_verifiers, min_verifiers, n_cases, min_cases, n_true, n_false, n_accurate) as detail
    from joined
)

select * from final
