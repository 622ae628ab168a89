"""Figures: thin display helpers that take result frames and an optional ``ax``.

Nothing in the computing modules imports seaborn or matplotlib; these do.
"""
