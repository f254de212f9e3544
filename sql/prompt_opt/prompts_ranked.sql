-- one row per prompt ever scored: the iteration that proposed it (null: an initial prompt), its parents, its train
-- scores and its rank by them (train_rank 1: the prompt chosen; the held-out split never ranks: heldout_scored)
with pool as (select * from pool_last),

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
        row_number() over (order by p.train_accuracy desc, p.train_cross_entropy nulls last, p.id) as train_rank
    from pool as p
)

select * from final order by train_rank
