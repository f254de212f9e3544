"""Code the stages of an experiment share, one package per experiment (`helpers.<experiment>`): prompt building,
reply parsing, task data, checkers. No module here is a stage (conf/ names none of them as one); a stage module
lives in `stages.<experiment>` and imports what it needs from here. A sim may import a helper it shares with the
stages (the principle's checker), never the reverse: no helper imports a sim."""
