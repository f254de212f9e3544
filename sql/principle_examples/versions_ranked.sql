-- one row per version, ranked by validation pass rate (then fewer examples, then the earlier version); rank 1 is
-- the best version. The test split never chooses: its figures are given for the chosen version only, once, so
-- they are an unbiased estimate (choosing by test would make the best version's test figure optimistic).
with versions as (select * from versions),

ranked as (
    select *, row_number() over (
        order by validation_pass_rate desc nulls last, examples, version
    ) as validation_rank
    from versions
),

final as (
    select
        * exclude (iteration, test_passed, test_pass_rate, test_low, test_high),
        validation_rank = 1 as is_best,
        case when validation_rank = 1 then test_passed end as test_passed,
        case when validation_rank = 1 then test_pass_rate end as test_pass_rate,
        case when validation_rank = 1 then test_low end as test_low,
        case when validation_rank = 1 then test_high end as test_high
    from ranked
)

select * from final
