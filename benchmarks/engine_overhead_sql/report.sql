select band, category_upper, count(*) as n_rows, avg(dev) as mean_dev from enriched group by all
