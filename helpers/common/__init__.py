"""Helpers shared by the stages of more than one experiment."""
