"""Stage 4 — inference: what-if queries, shifts, sweeps, scenarios, claims, rounds."""

from .claims import check_claims
from .rounds import survival, unroll
from .shift import compare_scenarios, shift, sweep
from .whatif import mean_score, posterior, what_if

__all__ = ["check_claims", "compare_scenarios", "mean_score", "posterior", "shift", "survival", "sweep", "unroll", "what_if"]
