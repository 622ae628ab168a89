"""Stage 5 — updating the priors with phase-2 cases: case files, EM, refinement, new priors folders."""

from .cases import read_cases
from .em import UpdateResult, expected_counts, update_priors
from .refinement import compare_models, data_conflict, refine
from .simulate import set_link_weight, simulate_cases
from .write import write_priors

__all__ = [
    "UpdateResult",
    "compare_models",
    "data_conflict",
    "expected_counts",
    "read_cases",
    "refine",
    "set_link_weight",
    "simulate_cases",
    "update_priors",
    "write_priors",
]
