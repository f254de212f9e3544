-- one row per constraint in the catalogue: the verifiable singles and the compounds built from them
with singles as (select * from constraints_verifiable),

compound as (select * from compounds),

final as (
    select id, parent_ids, text, [family] as families from singles
    union all
    select id, parent_ids, text, families from compound
)

select * from final
