"""pandas, imported on first use: a command that never builds a table does not pay its start-up.

Every module takes pandas from here (``from .._lazy import pandas as pd``). An
``import pandas`` statement elsewhere, or any attribute of ``pd``, finishes the
import; the object is then pandas itself.
"""

from __future__ import annotations

import importlib.util
import sys


def _lazy(name: str):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


pandas = _lazy("pandas")


def now(module):
    """The module, imported now if it was lazy: before threads start (3.11's lazy modules are not thread-safe)."""
    module.__name__  # any attribute finishes the import
    return module
