select *, adj - mean_adj as dev from joined
