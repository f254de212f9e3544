select *, score * 2 + n % 7 as adj from events where score is not null
