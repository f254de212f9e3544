-- one row per constraint whose verifiers all mean what it says (AutoIF step 5): dropped when any back-translation
-- of a surviving function contradicts it, or when no back-translation could be judged.
with verified as (select * from constraints_verified),

judged as (select * from nli),

labels as (
    select
        constraint_id,
        count(*) as n_judged,
        count(*) filter (where label = 'contradiction') as n_contradictions,
        first(hypothesis order by id) filter (where label = 'contradiction') as contradicting
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
        end as reason,
        l.contradicting as detail
    from verified as v
    left join labels as l on l.constraint_id = v.id
)

select * from final
