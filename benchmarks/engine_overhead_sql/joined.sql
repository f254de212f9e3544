select k.*, c.mean_adj from kept k join by_category c using (category)
