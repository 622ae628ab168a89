"""What-if queries: P(target | evidence) or P(target | do(intervention))."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .. import _validate as check
from .._errors import ZeroProbabilityEvidence
from ..engine import core as _engine
from ..network.model import Model
from ..theory import Scenario
from .background import Background, check_model, check_targets, free_targets, impossible
from .summary import DEFAULT_LEVEL, summarise

__all__ = ["DEFAULT_LEVEL", "mean_score", "posterior", "what_if"]


def posterior(
    model: Model,
    targets: Sequence[str] | str,
    evidence: Mapping[str, str] | Background | None = None,
    do: Mapping[str, str] | None = None,
    *,
    scenario: Scenario | str | None = None,
) -> dict[str, np.ndarray]:
    """P(target | evidence, do) per target: ``(K,)``, or ``(D, K)`` with draws (arrays, not a frame)."""
    targets = check_targets(check_model(model), targets)
    background = Background.of(model, evidence, do, scenario)
    free_targets(targets, background)
    network = background.network(model)
    try:
        result = _engine.marginals(network, targets, [dict(background.evidence)])
    except ZeroProbabilityEvidence:
        raise impossible(background, network) from None
    return {t: p[..., 0, :] for t, p in result.items()}


def what_if(
    model: Model,
    targets: Sequence[str] | str,
    *,
    evidence: Mapping[str, str] | Background | None = None,
    do: Mapping[str, str] | None = None,
    scenario: Scenario | str | None = None,
    level: float = DEFAULT_LEVEL,
    progress: bool = False,
) -> pd.DataFrame:
    """Tidy table: one row per target state with ``p`` (and ``ci_low``/``ci_high`` with draws).

    Columns: ``target``, ``state``, ``p``. With draws (``model.with_draws``),
    ``p`` is the mean over draws and the interval the central ``level``
    credible interval of the second-order uncertainty. ``progress`` is
    accepted for a uniform call (one contraction: nothing to show).
    """
    # checked with point values too, where it is unused: a wrong level should not pass until draws are added
    level = check.level(level)
    rows = []
    for target, p in posterior(model, targets, evidence=evidence, do=do, scenario=scenario).items():
        for k, state in enumerate(model.states(target)):
            rows.append({"target": target, "state": state, **summarise(p[..., k], level, "p")})
    return pd.DataFrame(rows)


def mean_score(probabilities: np.ndarray) -> np.ndarray:
    """Expected position on the node's 0..1 scale (P(highest) for a binary node)."""
    probabilities = np.asarray(probabilities, dtype=float)
    k = probabilities.shape[-1]
    return probabilities @ (np.arange(k) / (k - 1))
