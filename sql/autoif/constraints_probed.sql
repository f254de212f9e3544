-- one row per aligned constraint whose surviving verifiers agree with its boundary probes (stage probes): they must
-- reject at least probe_min_caught of the probes written to break it (else not_discriminating: a check that
-- accepts almost anything, as for "be friendly") and give the probe's label on at least probe_accuracy of all
-- probes (else probe_disagreement: verifiers and their own cases sharing one misreading of the constraint). A
-- probe passes as a response does: when at least pass_threshold of the verifiers pass it. Each prober's set is
-- judged on its own and every set must pass (one prober sharing the misreading must not dilute another's
-- disagreement); the reason is that of the first failing set. With both thresholds 0 every constraint is kept;
-- with either above 0, a constraint lacking, from any prober, probes of both kinds is not_probed.
with aligned as (select * from constraints_aligned),

probe_rows as (select * from probes),

checks as (select * from probe_checks),

thresholds as (select * from verification_thresholds),

verdicts as (
    select
        p.constraint_id,
        p.prober,
        p.expected,
        c.pass_rate >= t.pass_threshold as passes
    from probe_rows as p
    inner join checks as c on c.response_id = p.id
    cross join thresholds as t
),

per_set as (
    select
        constraint_id,
        prober,
        count(*) as n_probes,
        count(*) filter (where not expected) as n_breaking,
        count(*) filter (where not expected and not passes) as n_caught,
        count(*) filter (where passes = expected) as n_agree
    from verdicts
    group by constraint_id, prober
),

set_reasons as (
    select
        s.*,
        case
            when s.n_breaking = 0 or s.n_breaking = s.n_probes then 'not_probed'
            when s.n_caught < t.probe_min_caught * s.n_breaking then 'not_discriminating'
            when s.n_agree < t.probe_accuracy * s.n_probes then 'probe_disagreement'
        end as reason
    from per_set as s
    cross join thresholds as t
),

per_constraint as (
    select
        constraint_id,
        sum(n_probes) as n_probes,
        sum(n_breaking) as n_breaking,
        sum(n_caught) as n_caught,
        sum(n_agree) as n_agree,
        count(*) as n_sets,
        -- the first failing set's reason, in a fixed order of severity
        min(case reason when 'not_probed' then 1 when 'not_discriminating' then 2 when 'probe_disagreement' then 3
            end) as worst,
        string_agg(format('{}: {} of {} breaking rejected, {} of {} agree', prober, n_caught, n_breaking, n_agree,
                          n_probes), '; ' order by prober) as per_prober
    from set_reasons
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
            when p.constraint_id is null or p.n_sets < t.n_probers then 'not_probed'
            when p.worst = 1 then 'not_probed'
            when p.worst = 2 then 'not_discriminating'
            when p.worst = 3 then 'probe_disagreement'
        end as reason,
        coalesce(p.per_prober, 'no probes') as detail
    from aligned as a
    cross join thresholds as t
    left join per_constraint as p on p.constraint_id = a.id
)

select * from final
