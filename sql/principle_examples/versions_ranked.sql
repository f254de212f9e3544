-- one row per version, ranked by validation pass rate (then fewer examples, then the earlier version); rank 1 is
-- the best version. Versions are measured on validation only: the test split never chooses, and only the chosen
-- version is measured on it, once, after the rounds (evaluation_test, chosen_version_test), so its test figure
-- is an unbiased estimate.
with versions as (select * from versions),

ranked as (
    select *, row_number() over (
        order by validation_pass_rate desc nulls last, examples, version
    ) as validation_rank
    from versions
),

final as (
    select
        * exclude (iteration),
        validation_rank = 1 as is_best
    from ranked
)

select * from final
