-- one row per verifier that survives cross-validation: its constraint is kept, it compiles, and its
-- accuracy on the kept cases is at least min_verifier_accuracy (AutoIF step 3). One forbidden or memory outcome
-- disqualifies a verifier whatever its accuracy: code that tried os.system on one case would run on every response.
with verifiers as (select * from verifier_accuracy),

kept_constraints as (select * from constraints_verified),

thresholds as (select * from verification_thresholds),

final as (
    select
        v.id,
        v.parent_ids,  -- a kept row is the same row as in verifier_accuracy
        v.constraint_id,
        v.code,
        v.accuracy,
        v.n_cases,
        v.llm_key,
        v.simulated,
        case
            when k.id is null then 'constraint_dropped'
            when v.n_forbidden > 0 then 'forbidden_attempt'
            when not v.compiles then 'does_not_compile'
            when coalesce(v.accuracy, 0) < t.min_verifier_accuracy then 'low_accuracy'
        end as reason,
        format('accuracy {} on {} kept cases ({} non-boolean values, {} crashes or timeouts, {} forbidden or memory)',
               round(coalesce(v.accuracy, 0), 3), v.n_cases, v.n_non_bool, v.n_failed, v.n_forbidden) as detail
    from verifiers as v
    cross join thresholds as t
    left join kept_constraints as k on k.id = v.constraint_id
)

select * from final
