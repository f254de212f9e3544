select category, count(*) as n_rows, avg(adj) as mean_adj from kept group by category
