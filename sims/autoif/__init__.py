"""The sim teacher of autoif: `teacher.HANDLERS` answers its tasks, `teacher.DEFAULTS` are its error rates."""
