-- one row per prompt ever scored: the iteration that proposed it (null: an initial prompt), its parents, train
-- scores and, where measured, held-out scores
with pool as (select * from pool_last),

heldout as (select * from heldout_scored),

heldout_per_prompt as (
    select
        prompt_id,
        any_value(heldout_n) as heldout_n,
        any_value(heldout_accuracy) as heldout_accuracy,
        any_value(heldout_compliance) as heldout_compliance,
        any_value(heldout_cross_entropy) as heldout_cross_entropy,
        list(distinct role order by role) as picked_as
    from heldout, unnest(picked_as) as r(role)
    group by prompt_id
),

final as (
    select
        p.id,
        p.parent_ids,
        p.prompt_iteration,
        p.origin,
        p.prompt,
        p.parent_prompt_ids,
        p.train_accuracy,
        p.train_compliance,
        p.train_cross_entropy,
        p.train_unanswered,
        p.train_ce_missing,
        p.train_ce_source,
        h.heldout_n,
        h.heldout_accuracy,
        h.heldout_compliance,
        h.heldout_cross_entropy,
        coalesce(h.picked_as, []) as picked_as,
        row_number() over (order by p.train_accuracy desc, p.train_cross_entropy nulls last, p.id) as train_rank
    from pool as p
    left join heldout_per_prompt as h on h.prompt_id = p.id
)

select * from final order by train_rank
