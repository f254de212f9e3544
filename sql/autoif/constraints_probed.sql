-- one row per aligned constraint whose surviving verifiers agree with its boundary probes (stage probes): they must
-- reject at least probe_min_caught of the probes written to break it (else not_discriminating: a check that
-- accepts almost anything, as for "be friendly") and give the probe's label on at least probe_accuracy of all
-- probes (else probe_disagreement: verifiers and their own cases sharing one misreading of the constraint). A
-- probe passes as a response does: when at least pass_threshold of the verifiers pass it. With both thresholds 0
-- every constraint is kept; with either above 0, a constraint without probes of both kinds is not_probed.
with aligned as (select * from constraints_aligned),

probe_rows as (select * from probes),

checks as (select * from probe_checks),

thresholds as (select * from verification_thresholds),

verdicts as (
    select
        p.constraint_id,
        p.expected,
        c.pass_rate >= t.pass_threshold as passes
    from probe_rows as p
    inner join checks as c on c.response_id = p.id
    cross join thresholds as t
),

per_constraint as (
    select
        constraint_id,
        count(*) as n_probes,
        count(*) filter (where not expected) as n_breaking,
        count(*) filter (where not expected and not passes) as n_caught,
        count(*) filter (where passes = expected) as n_agree
    from verdicts
    group by constraint_id
),

final as (
    select
        a.id,
        a.parent_ids,  -- a kept row is the same row as in constraints_aligned
        a.text,
        a.origin,
        a.simulated,
        coalesce(p.n_probes, 0) as n_probes,
        coalesce(p.n_breaking, 0) as n_breaking,
        coalesce(p.n_caught, 0) as n_caught,
        coalesce(p.n_agree, 0) as n_agree,
        case
            when t.probe_accuracy = 0 and t.probe_min_caught = 0 then null
            when coalesce(p.n_breaking, 0) = 0 or p.n_breaking = p.n_probes then 'not_probed'
            when p.n_caught < t.probe_min_caught * p.n_breaking then 'not_discriminating'
            when p.n_agree < t.probe_accuracy * p.n_probes then 'probe_disagreement'
        end as reason,
        format('{} probes ({} breaking): verifiers reject {} breaking ones and agree on {}', coalesce(p.n_probes, 0),
               coalesce(p.n_breaking, 0), coalesce(p.n_caught, 0), coalesce(p.n_agree, 0)) as detail
    from aligned as a
    cross join thresholds as t
    left join per_constraint as p on p.constraint_id = a.id
)

select * from final
