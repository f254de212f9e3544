-- one row per constraint family, with the constraints that belong to it
with constraints as (select * from constraints_verifiable),

final as (
    select family, count(*) as n_constraints, list(id order by id) as parent_ids
    from constraints
    group by family
)

select * from final order by n_constraints desc, family
