"""The NATO phonetic speller: ``speller`` (plain functions), ``services``, ``views``."""
