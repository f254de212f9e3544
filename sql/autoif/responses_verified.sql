-- one row per response whose share of passing verifiers is at least pass_threshold (AutoIF step 7); a crash or a
-- timeout of a verifier counts as a failure.
with checks as (select * from response_checks),

thresholds as (select * from verification_thresholds),

final as (
    select
        c.*,
        case when c.pass_rate < t.pass_threshold then 'below_pass_threshold' end as reason,
        format('{} of {} verifiers pass (threshold {})', c.n_pass, c.n_verifiers, t.pass_threshold) as detail
    from checks as c
    cross join thresholds as t
)

select * from final
