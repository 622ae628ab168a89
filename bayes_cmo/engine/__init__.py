"""Stage 3 — the batched exact engine: pure numpy network arrays, contractions, sampling.

Knows nothing of theories or pgmpy; the network stage hands it arrays.
"""

from .core import (
    NetworkArrays,
    PlanTooLarge,
    ancestral_set,
    deferred,
    differentiate,
    draw_blocks,
    evidence_likelihoods,
    intervene,
    marginals,
    probability_of_evidence,
    query,
    select_draws,
    single_marginals,
    smallest_conflict,
    with_cpts,
)
from .sampling import forward_sample

__all__ = [
    "NetworkArrays",
    "PlanTooLarge",
    "ancestral_set",
    "deferred",
    "differentiate",
    "draw_blocks",
    "evidence_likelihoods",
    "forward_sample",
    "intervene",
    "marginals",
    "probability_of_evidence",
    "query",
    "select_draws",
    "single_marginals",
    "smallest_conflict",
    "with_cpts",
]
