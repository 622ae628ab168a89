"""The what-if page in the browser (``bayes-cmo serve``); needs the ``app`` extra (Shiny for Python).

:mod:`.state` (the computation, no web framework) is importable without it.
"""
