"""The sim teacher of prompt_opt: `teacher.HANDLERS` answers its tasks, `teacher.DEFAULTS` are its error rates."""
