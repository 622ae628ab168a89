"""Stage 4 — inference: what-if queries, shifts, sweeps, scenarios, claims, rounds.

Every query-like verb is ``verb(model, targets_or_subject, *, evidence=None,
do=None, scenario=None, level=..., progress=False)``; the background is merged
and checked once (:class:`Background`), draws ride on the model.
"""

from .background import Background
from .claims import check_claims
from .rounds import unroll
from .survival import survival
from .shift import compare_scenarios, shift, sweep
from .summary import DEFAULT_LEVEL
from .whatif import mean_score, posterior, what_if

__all__ = [
    "Background",
    "DEFAULT_LEVEL",
    "check_claims",
    "compare_scenarios",
    "mean_score",
    "posterior",
    "shift",
    "survival",
    "sweep",
    "unroll",
    "what_if",
]
