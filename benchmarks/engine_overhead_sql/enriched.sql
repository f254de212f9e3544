select *, length(text) as text_len, upper(category) as category_upper from above_mean
