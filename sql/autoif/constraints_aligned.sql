-- one row per constraint whose verifiers all mean what it says (AutoIF step 5): dropped when any back-translation
-- of a surviving verifier contradicts it, or when no back-translation could be judged; with nli_keep = 'entailment'
-- also when any back-translation is not entailed by it (neutral).
with verified as (select * from constraints_verified),

judged as (select * from nli),

thresholds as (select * from verification_thresholds),

labels as (
    select
        constraint_id,
        count(*) as n_judged,
        count(*) filter (where label = 'contradiction') as n_contradictions,
        count(*) filter (where label <> 'entailment') as n_not_entailed,
        first(hypothesis order by id) filter (where label = 'contradiction') as contradicting,
        first(hypothesis order by id) filter (where label <> 'entailment') as not_entailed
    from judged
    group by constraint_id
),

final as (
    select
        v.id,
        v.parent_ids,  -- a kept row is the same row as in constraints_verified
        v.text,
        v.origin,
        v.simulated,
        coalesce(l.n_judged, 0) as n_judged,
        case
            when coalesce(l.n_judged, 0) = 0 then 'not_judged'
            when l.n_contradictions > 0 then 'contradiction'
            when t.nli_keep = 'entailment' and l.n_not_entailed > 0 then 'not_entailed'
        end as reason,
        coalesce(l.contradicting, l.not_entailed) as detail
    from verified as v
    cross join thresholds as t
    left join labels as l on l.constraint_id = v.id
)

select * from final
