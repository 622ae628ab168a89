"""From elicited judgements to conditional probability tables.

The canonical model is an ordered logit per node (log-odds additive):

    eta(parents)      = sum over links l of  w_l * score_l(source state) * mult_l(moderator state)
    P(Y <= k | eta)   = expit(c_k - eta),     c_k = logit(baseline cumulative up to state k)

so with every parent at its neutral midpoint (eta = 0) the node reproduces its
elicited baseline -- or, when the theory defines a reference partnership
(``reference.yaml``) that gives every parent of the node a state, at that
reference configuration: each link's design is then centred there
(``design(u) - design(reference)``), which shifts the cutpoints by the linear
predictor at the reference, in point values and in every draw. A node with a
parent lacking a reference state keeps the midpoint reading;
a theory without a reference is unchanged. In short, a positive weight pushes the child toward its higher states,
a moderator multiplier of -1 flips the sign of the link in that context, and
per-state scores express nominal parents and non-monotone effects (realistic
aims beat both too-low and too-high ones). Explicit tables override.

Second-order uncertainty: each weight is Normal(sign * strength, sd(confidence));
each baseline and explicit-table row is Dirichlet(ess * probabilities).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .. import _validate
from ..theory import Theory


@dataclass(frozen=True)
class Parameters:
    """The numbers behind a theory: point values, or ``n_draws`` draws of each.

    ``weights[link_id]`` is a float or shape ``(D,)``; ``baselines[node]`` is
    shape ``(K,)`` or ``(D, K)``; ``tables[node]`` is a CPT array shaped
    ``([D,] K, *parent cards)`` in ``theory.parents(node)`` order.
    """

    weights: Mapping[str, np.ndarray]
    baselines: Mapping[str, np.ndarray]
    tables: Mapping[str, np.ndarray]
    n_draws: int | None = None

    def block(self, draws: slice) -> "Parameters":
        """These draws' parameters only (views): the tables built from them are those draws' tables."""
        if self.n_draws is None:
            raise ValueError("point values have no draws to take a block of")
        n = len(range(self.n_draws)[draws])

        def cut(values: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
            return {k: np.asarray(v)[draws] for k, v in values.items()}

        return Parameters(weights=cut(self.weights), baselines=cut(self.baselines), tables=cut(self.tables), n_draws=n)


def table_array(theory: Theory, node: str) -> np.ndarray:
    """An explicit CSV table as an array ``(K, *parent cards)`` in ``theory.parents`` order."""
    frame = theory.tables[node]
    child = theory.nodes[node]
    parents = theory.parents(node)
    shape = (child.card, *(theory.nodes[p].card for p in parents))
    out = np.zeros(shape)
    for _, row in frame.iterrows():
        index = tuple(theory.nodes[p].states.index(row[p]) for p in parents)
        out[(slice(None), *index)] = [row[s] for s in child.states]
    return out


def elicited_parameters(theory: Theory) -> Parameters:
    """The point values the experts gave."""
    return Parameters(
        weights={link.id: np.asarray(link.weight, dtype=float) for link in theory.links},
        baselines={n.id: np.asarray(n.baseline, dtype=float) for n in theory.nodes.values()},
        tables={node: table_array(theory, node) for node in theory.tables},
    )


def draw_parameters(theory: Theory, n_draws: int, seed: int | np.random.SeedSequence | None = 0) -> Parameters:
    """``n_draws`` draws from the second-order distribution of every judgement."""
    n_draws = _validate.integer(n_draws, "n_draws")
    rng = np.random.default_rng(seed)
    weights = {
        link.id: rng.normal(link.weight, link.weight_sd, size=n_draws) for link in theory.dag_links
    }
    baselines = {
        n.id: _dirichlet(rng, n.baseline_confidence * np.asarray(n.baseline), n_draws)
        for n in theory.nodes.values()
    }
    # Feedback (lag 1) links last, so adding one leaves the other draws unchanged.
    weights.update(
        {link.id: rng.normal(link.weight, link.weight_sd, size=n_draws) for link in theory.links if link.lag}
    )
    tables = {}
    for node in theory.tables:
        point = table_array(theory, node)
        ess = theory.nodes[node].baseline_confidence
        columns = point.reshape(point.shape[0], -1).T  # one row per parent configuration
        drawn = np.stack([_dirichlet(rng, ess * col, n_draws) for col in columns], axis=-1)
        tables[node] = drawn.reshape(n_draws, *point.shape)
    return Parameters(weights=weights, baselines=baselines, tables=tables, n_draws=int(n_draws))


def _dirichlet(rng: np.random.Generator, alpha: np.ndarray, n: int) -> np.ndarray:
    # Tiny floor: an "impossible" state keeps a vanishing, not exactly zero, share.
    draws = rng.dirichlet(np.maximum(alpha, 1e-3), size=n)
    return np.clip(draws, 1e-12, None) / np.clip(draws, 1e-12, None).sum(axis=1, keepdims=True)


def linear_predictor(theory: Theory, node: str, weights: Mapping[str, np.ndarray]) -> np.ndarray:
    """eta over the parent grid, shape ``([D,] *parent cards)``."""
    parents = theory.parents(node)
    cards = tuple(theory.nodes[p].card for p in parents)
    eta: np.ndarray = np.zeros(cards)
    for link in theory.links_into(node):
        eta = eta + np.multiply.outer(np.asarray(weights[link.id], dtype=float), link_design(theory, link))
    return eta


def link_design(theory: Theory, link) -> np.ndarray:
    """score(source) * multiplier(moderator) laid out on the target's parent grid.

    Centred at the reference configuration when the target has one
    (:meth:`Theory.reference_index`), so that eta = 0 there.
    """
    parents = theory.parents(link.target)
    cards = [theory.nodes[p].card for p in parents]
    shape = [1] * len(parents)
    i = parents.index(link.source)
    shape[i] = cards[i]
    grid = np.asarray(link.scores, dtype=float).reshape(shape)
    if link.moderator:
        shape = [1] * len(parents)
        j = parents.index(link.moderator)
        shape[j] = cards[j]
        grid = grid * np.asarray(link.multipliers, dtype=float).reshape(shape)
    grid = np.broadcast_to(grid, cards)
    reference = theory.reference_index(link.target)
    if reference is not None:
        grid = grid - grid[reference]
    return grid


def link_designs(theory: Theory, node: str) -> np.ndarray:
    """Every link into ``node``'s :func:`link_design`, flattened: shaped (parent configurations, links)."""
    parents = theory.parents(node)
    columns = [link_design(theory, link).reshape(-1) for link in theory.links_into(node)]
    if not columns:
        return np.zeros((math.prod(theory.nodes[p].card for p in parents), 0))
    return np.stack(columns, axis=1)


def _logit(p: np.ndarray) -> np.ndarray:
    # numpy, not scipy.special: importing scipy.special costs more than building a model
    return np.log(p) - np.log1p(-p)


def _expit(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # exp(-x) -> inf for very negative x gives 0, as it should
        return 1.0 / (1.0 + np.exp(-x))


def ordered_logit(baseline: np.ndarray, eta: np.ndarray, batched: bool = False) -> np.ndarray:
    """P(Y = k | eta) with cutpoints reproducing ``baseline`` at eta = 0.

    Unbatched: ``baseline`` is ``(K,)``, ``eta`` is ``(*grid)``, result
    ``(K, *grid)``. Batched: a leading draw axis ``D`` on all three.
    """
    baseline = np.asarray(baseline, dtype=float)
    eta = np.asarray(eta, dtype=float)
    axis = 1 if batched else 0
    grid_ndim = eta.ndim - axis
    cut = _logit(np.clip(np.cumsum(baseline, axis=-1)[..., :-1], 1e-12, 1 - 1e-12))
    cut = cut.reshape(cut.shape + (1,) * grid_ndim)
    cdf = _expit(cut - np.expand_dims(eta, axis))
    edge = np.zeros_like(cdf.take([0], axis=axis))
    cdf = np.concatenate([edge, cdf, edge + 1.0], axis=axis)
    return np.clip(np.diff(cdf, axis=axis), 0.0, 1.0)


def build_cpts(
    theory: Theory, parameters: Parameters | None = None, designs: Mapping[str, np.ndarray] | None = None
) -> dict[str, np.ndarray]:
    """Every node's CPT, shaped ``([D,] K, *parent cards)`` in ``theory.parents`` order.

    ``designs``: nodes' :func:`link_designs`, made once by a caller that builds
    the tables of many blocks of draws (made here otherwise).
    """
    parameters = parameters or elicited_parameters(theory)
    d = parameters.n_draws
    cpts: dict[str, np.ndarray] = {}
    for node in theory.order():
        if node in parameters.tables:
            cpts[node] = np.asarray(parameters.tables[node], dtype=float)
            continue
        baseline = np.asarray(parameters.baselines[node], dtype=float)
        if not theory.parents(node):
            cpts[node] = np.broadcast_to(baseline, (d, baseline.shape[-1])).copy() if d else baseline
            continue
        if d is not None:
            design = designs[node] if designs is not None else link_designs(theory, node)
            cpts[node] = _ordered_logit_draws(theory, node, design, parameters.weights, np.broadcast_to(baseline, (d, baseline.shape[-1])))
            continue
        eta = linear_predictor(theory, node, parameters.weights)
        cpts[node] = ordered_logit(baseline, eta)
    return cpts


# numbers a block of the draws' tables holds while it is filled (~1 MB: within a core's cache)
_BLOCK_ELEMENTS = 2**17


def _ordered_logit_draws(
    theory: Theory, node: str, designs: np.ndarray, weights: Mapping[str, np.ndarray], baseline: np.ndarray
) -> np.ndarray:
    """:func:`ordered_logit` of :func:`linear_predictor` over ``D`` draws (the same numbers to
    rounding: eta is one matrix product; with three or more states
    ``exp(eta - c_j)`` is ``exp(eta) * exp(-c_j)``, a few ulp apart), shaped ``(D, K, *parent cards)``:
    a read-only view of a draws-last array.

    Draws last is the layout the engine contracts in (no copy of the tables per
    query); every later step runs in place on one array in the general functions'
    floating-point operations: ``expit(x) = 1 / (1 + exp(-x))`` and differences of
    the cumulative probabilities.
    """
    d, k = baseline.shape
    cards = tuple(theory.nodes[p].card for p in theory.parents(node))
    links = theory.links_into(node)
    if links:  # eta = designs (G, L) @ weights: one product instead of a pass over the grid per link
        w = np.stack([np.broadcast_to(np.asarray(weights[link.id], dtype=float), (d,)) for link in links])  # (L, D)
        # a BLAS product (the command line runs one BLAS thread: several spun ~0.4 s of CPU after
        # their calls in a 1,000-draw sweep); einsum's own loop took 1.2x as long for all the tables
        eta = designs @ w
    else:
        eta = np.zeros((math.prod(cards), d))
    cut = _logit(np.clip(np.cumsum(baseline, axis=-1)[..., :-1], 1e-12, 1 - 1e-12))  # (D, K-1)
    cuts = cut.T[:, np.newaxis, :]  # (K-1, 1, D): against a block of (configurations, D)
    scale = np.exp(-cuts) if k > 2 else None
    # one fresh array (first touches of new memory cost as much as the arithmetic here), filled a
    # block of parent configurations at a time so each block's steps run in the CPU's cache: the
    # cumulative P(Y <= j) in rows 0..K-2, then differenced in place from the top down
    out = np.empty((k, eta.shape[0], d))
    rows = max(1, _BLOCK_ELEMENTS // (k * d))
    with np.errstate(over="ignore"):  # exp(-x) -> inf for very negative x gives 0, as it should
        for start in range(0, eta.shape[0], rows):
            block = out[:, start : start + rows]
            x = block[:-1]
            e = eta[start : start + rows]
            if k > 2:  # exp(eta - cut_j) = exp(eta) * exp(-cut_j): one exp per cell and draw, not k - 1
                np.exp(e, out=e)
                np.multiply(e, scale, out=x)
            else:  # -(cut - eta), exactly: round-to-nearest subtraction is antisymmetric
                np.subtract(e, cuts, out=x)
                np.exp(x, out=x)
            x += 1.0
            np.divide(1.0, x, out=x)
            np.subtract(1.0, block[k - 2], out=block[k - 1])  # as np.diff over [0, cdf, 1]
            for j in range(k - 2, 0, -1):
                np.subtract(block[j], block[j - 1], out=block[j])
            # no clip to [0, 1]: the cumulative rows are 1 / (1 + x_j) with x_j = exp(eta) * exp(-c_j)
            # (or exp(eta - c_j)) falling in j as the cutpoints rise, and rounding keeps that order, so
            # every difference is already in [0, 1]
    del eta
    out = out.reshape(k, *cards, d)
    view = np.moveaxis(out, -1, 0)
    view.setflags(write=False)  # nothing else holds ``out``: the network takes the view without a copy
    return view
