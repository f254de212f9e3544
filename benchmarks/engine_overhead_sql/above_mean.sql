select * from deviations where dev > 0
