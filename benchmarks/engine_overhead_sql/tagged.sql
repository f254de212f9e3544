select *, case when adj > 1.0 then 'hi' else 'lo' end as band from scored
