"""Loom's companions for papermill (a parameter translator) and Pygments (a lexer)."""

__version__ = "0.1.0"
