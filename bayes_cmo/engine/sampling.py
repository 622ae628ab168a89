"""Forward (ancestral) sampling from network arrays, with likelihood weighting."""

from __future__ import annotations

import numpy as np

from .._errors import BayesCMOError


def forward_sample(
    net,
    n: int,
    rng: np.random.Generator,
    *,
    evidence: dict[str, int] | None = None,
    draw_index: np.ndarray | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Ancestral sampling of ``n`` joint states (state indices per variable).

    With ``evidence`` (variable -> state index) the observed variables are
    clamped and each sample carries its likelihood weight (likelihood
    weighting); otherwise all weights are 1. For a network with parameter
    draws, ``draw_index`` (length ``n``) says which draw each sample uses.
    """
    evidence = evidence or {}
    weights = np.ones(n)
    drawn: dict[str, np.ndarray] = {}
    for v in net.variables:  # topological order: parents are drawn first
        cpt = np.asarray(net.cpts[v])
        parents = tuple(drawn[p] for p in net.parents[v])
        if cpt.ndim == len(parents) + 2:  # a draw axis first
            if draw_index is None:
                raise BayesCMOError("forward_sample: the network has parameter draws; give draw_index")
            probs = cpt[(draw_index, slice(None), *parents)] if parents else cpt[draw_index]
        else:
            probs = cpt[(slice(None), *parents)].T if parents else np.broadcast_to(cpt, (n, cpt.shape[0]))
        if v in evidence:
            drawn[v] = np.full(n, evidence[v])
            weights = weights * probs[np.arange(n), drawn[v]]
            continue
        cdf = np.cumsum(probs, axis=1)
        u = rng.random(n) * cdf[:, -1]  # scale by the row sum: CPTs sum to 1 only up to 1e-6
        drawn[v] = np.minimum((u[:, None] >= cdf).sum(axis=1), cpt.shape[-len(parents) - 1] - 1)
    return drawn, weights
