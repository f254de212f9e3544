"""The sim teacher of codegen_alignment: `teacher.HANDLERS` answers its tasks, `teacher.DEFAULTS` its error rates."""
