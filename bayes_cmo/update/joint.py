"""Joint uncertainty of the update: every link weight and cutpoint together.

The update's Laplace sd (:mod:`bayes_cmo.update.em`) inverts each node's
precision block separately, with the data's information estimated by the
outer product of per-case scores. Parameters of different nodes are
correlated once findings are missing (a blank mechanism ties the weights
into it to the weights out of it), and the outer product is only an estimate
of the information. This module computes, at the update's mode, the Hessian
of the observed-data log posterior

    log P(theta | cases) = sum_i log P(e_i | theta) + log prior(theta) + const

over ALL ordered-logit parameters at once (every link weight and every
cutpoint of every node built from links), by forward differences of its exact
gradient. The gradient comes from the batched engine: one reverse
differentiation of ``P(e_i)`` per parameter setting gives every family's
posterior per case, and by Fisher's identity the gradient of
``log P(e_i)`` is the expected complete-data score under it
(:meth:`bayes_cmo.update.ordered_logit.Family.scores`). Each of the n_params + 1
perturbed settings is one engine call (its draw axis was 4x slower here).
Root priors and explicit tables are held at their posterior means (their
Dirichlet posteriors are conjugate and nearly independent of the weights).

``joint_uncertainty(result)`` returns a :class:`JointUncertainty`; pass it
to :func:`bayes_cmo.update.refinement.refine` (``joint=``) so verdicts and
intervals use the joint sd.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .._lazy import pandas as pd
from ..engine import core as _engine
from .._errors import BayesCMOError
from . import cases as cases_mod
from .em import UpdateResult
from .ordered_logit import Family, families, laplace_covariance, one_blas_thread

#: Relative step of the forward differences (the gradient is exact; O(h) error, half the cost of central).
_STEP = 1e-5


@dataclass(frozen=True)
class JointUncertainty:
    """The joint Laplace posterior of all ordered-logit parameters at the update's mode.

    ``parameters``: names (a link id, or ``NODE:cut1`` ...), in the order of
    ``mode`` and ``covariance``. ``link_sd`` / ``block_sd``: each link's sd
    from the joint and from the per-node (block) approximation. ``positive_definite``:
    False when the joint precision was not (then every joint sd is NaN).
    """

    parameters: tuple[str, ...]
    mode: np.ndarray
    covariance: np.ndarray
    link_sd: Mapping[str, float]
    block_sd: Mapping[str, float]
    positive_definite: bool

    def frame(self) -> pd.DataFrame:
        """Columns ``link``, ``block_sd``, ``joint_sd``, ``ratio`` (joint / block)."""
        rows = [
            {"link": link, "block_sd": self.block_sd[link], "joint_sd": sd, "ratio": sd / self.block_sd[link]}
            for link, sd in self.link_sd.items()
        ]
        return pd.DataFrame(rows)


def _layout(result: UpdateResult) -> tuple[dict[str, Family], dict[str, slice], np.ndarray, list[str]]:
    """Families (with the prior's means/sds), each node's slice of the full vector, the mode, the names."""
    specs = families(result.prior_theory)
    posterior = result.links.set_index("link")["posterior_weight"]
    slices, pieces, names, start = {}, [], [], 0
    for node, spec in specs.items():
        weights = [float(posterior[link]) for link in spec.links]
        theta = spec.pack(weights, np.asarray(result.theory.nodes[node].baseline, dtype=float))
        slices[node] = slice(start, start + theta.size)
        start += theta.size
        pieces.append(theta)
        names += list(spec.links) + [f"{node}:cut{k + 1}" for k in range(spec.card - 1)]
    return specs, slices, np.concatenate(pieces) if pieces else np.zeros(0), names


def _gradient(result, specs, slices, theta: np.ndarray, likelihoods, n_cases: int) -> np.ndarray:
    """Gradient of the observed-data log posterior at ``theta`` (n_params,)."""
    net = result.model.network
    cpts = {node: spec.probabilities(theta[slices[node]]).reshape(net.cpts[node].shape) for node, spec in specs.items()}
    out = np.zeros_like(theta)
    grads = {}
    if likelihoods and n_cases:
        # unbatched: one call per setting is ~4x faster than the engine's draw axis here (measured)
        z, grads = _engine.differentiate(_engine.with_cpts(net, **cpts), likelihoods=likelihoods, wrt=list(specs))
    for node, spec in specs.items():
        t = theta[slices[node]]
        value = spec.log_prior(t)[1]
        g = grads.get(node)
        if g is not None:
            family = cpts[node][None] * g / z.reshape(-1, *[1] * (g.ndim - 1))
            value = value + spec.scores(t, family).sum(axis=0)
        out[slices[node]] = value
    return out


def joint_uncertainty(result: UpdateResult, *, step: float = _STEP) -> JointUncertainty:
    """Hessian of the observed-data log posterior over every link weight and cutpoint; its inverse.

    ``result`` is the :class:`~bayes_cmo.update.em.UpdateResult` of
    :func:`~bayes_cmo.update.em.update_priors`. Cost: n_params + 1 engine
    differentiations over all cases (91 for the shipped priors).
    """
    if not isinstance(result, UpdateResult):
        raise BayesCMOError(
            f"The 'result' parameter of joint_uncertainty must be an UpdateResult (update_priors). Got {type(result).__name__} instead."
        )
    specs, slices, mode, names = _layout(result)
    block = dict(zip(result.links["link"], result.links["posterior_sd"].astype(float)))
    if not specs:
        return JointUncertainty((), mode, np.zeros((0, 0)), {}, {}, True)
    likelihoods = cases_mod.case_likelihoods(result.cases, result.model) if len(result.cases) else {}
    steps = step * np.maximum(1.0, np.abs(mode))
    settings = np.concatenate([mode[None], mode + np.diag(steps)])
    with one_blas_thread():
        grads = np.stack([_gradient(result, specs, slices, t, likelihoods, len(result.cases)) for t in settings])
    hessian = (grads[1:] - grads[0]).T / steps[None, :]  # d grad_j / d theta_i in column i
    precision = -0.5 * (hessian + hessian.T)
    cov = laplace_covariance(precision)
    ok = bool(np.all(np.isfinite(cov)))
    index = {name: i for i, name in enumerate(names)}
    link_sd = {
        link: float(math.sqrt(max(cov[index[link], index[link]], 0.0))) if ok else math.nan
        for spec in specs.values() for link in spec.links
    }
    return JointUncertainty(tuple(names), mode, cov, link_sd, {k: block[k] for k in link_sd}, ok)
