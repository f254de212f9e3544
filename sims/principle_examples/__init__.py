"""The sim teacher of principle_examples: `teacher.HANDLERS` answers its tasks, `teacher.DEFAULTS` its rates."""
