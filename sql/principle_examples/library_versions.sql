-- one row per (version, example): version 0 (the seed library) and every version the rounds froze
with library_seed as (select * from library_seed),

library as (select * from library),

final as (
    select id as example_id, parent_ids, version, added_in_version, human_prompt, assistant_answer, critique, rewrite, letters,
        simulated
    from library_seed
    union all
    select id as example_id, parent_ids, version, added_in_version, human_prompt, assistant_answer, critique, rewrite, letters,
        simulated
    from library
)

select * from final
