"""Helpers the prompt_opt stages share: no module here is a stage (conf/ names none as one)."""
