"""The one place that imports pgmpy, so a rename upstream touches one file.

pgmpy is slow to import (it pulls in scikit-learn and statsmodels), so callers
import this module lazily, inside the functions that need it.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    # pgmpy 1.1 warns about its own deprecations at import time.
    warnings.simplefilter("ignore", FutureWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.inference import CausalInference, VariableElimination
    from pgmpy.models import DiscreteBayesianNetwork
    from pgmpy.readwrite import (
        BIFReader,
        BIFWriter,
        NETReader,
        NETWriter,
        XDSLReader,
        XDSLWriter,
        XMLBIFReader,
        XMLBIFWriter,
    )
    from pgmpy.utils import get_example_model as _get_example_model


def get_example_model(name: str) -> DiscreteBayesianNetwork:
    """One of pgmpy's bundled example networks (asia, alarm, child, ...), offline."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return _get_example_model(name)


__all__ = [
    "BIFReader",
    "BIFWriter",
    "CausalInference",
    "DiscreteBayesianNetwork",
    "NETReader",
    "NETWriter",
    "TabularCPD",
    "VariableElimination",
    "XDSLReader",
    "XDSLWriter",
    "XMLBIFReader",
    "XMLBIFWriter",
    "get_example_model",
]
