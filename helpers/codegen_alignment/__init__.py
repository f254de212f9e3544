"""Helpers the codegen_alignment stages share: no module here is a stage (conf/ names none as one)."""
