"""Stage 2 — the network: judgements -> CPTs (ordered logit), the Model, file formats, pgmpy.

Every pgmpy call lives in :mod:`bayes_cmo.network._pgmpy`, imported lazily.
"""

from .describe import link_table, summary
from .elicitation import Parameters, build_cpts, draw_parameters, elicited_parameters
from .model import FORMATS, Model, build_model, export_model, load_model, to_pgmpy

__all__ = [
    "FORMATS",
    "Model",
    "Parameters",
    "build_cpts",
    "build_model",
    "draw_parameters",
    "elicited_parameters",
    "export_model",
    "link_table",
    "load_model",
    "summary",
    "to_pgmpy",
]
