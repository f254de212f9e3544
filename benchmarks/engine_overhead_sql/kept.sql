select *, case when band = 'lo' and n % 3 = 0 then 'low_band' end as reason from tagged
