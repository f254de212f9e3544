-- one row per version, ranked by test pass rate (then validation pass rate, then fewer examples); rank 1 is the
-- best version. Choosing by test makes its test figure optimistic: compare it with the validation figure.
with versions as (select * from versions),

ranked as (
    select *, row_number() over (
        order by test_pass_rate desc nulls last, validation_pass_rate desc nulls last, examples, version
    ) as test_rank
    from versions
),

final as (
    select * exclude (iteration), test_rank = 1 as is_best
    from ranked
)

select * from final
