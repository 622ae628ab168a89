"""Judgement sensitivity: which of the expert's numbers move a headline answer most?

The headline query is P(target = state | evidence, do) (default state: the
target's highest). Each elicited number is
moved by one confidence width either way, everything else held at its
elicited value, and the query recomputed:

* **link weight** ``FROM:TO``: the signed log-odds weight moves by +/- its
  ``weight_sd`` (from the link's confidence, or an explicit sd);
* **baseline** of an ordered node ``baseline:NODE``: all the node's cutpoints
  shift by the same log-odds delta (positive = toward its highest state; for a
  child node this is the same as an intercept on its linear predictor). One
  confidence width is the sd of the logit cumulative baseline probabilities
  under the node's Dirichlet(ess * baseline), averaged over cutpoints
  (sd of logit X for X ~ Beta(a, b) is sqrt(trigamma(a) + trigamma(b))); for a
  two-state node that is exactly sd(logit P(highest state)).
* **baseline** of a nominal node ``baseline:NODE=STATE``, one per state: logit P(state) moves by its Beta sd, the other states
  rescaled proportionally.

``derivative`` is dP/d(log-odds) at the elicited values (central difference).
Explicit CPT tables are not perturbed. Judgements on nodes that are not
ancestors of the target or the evidence cannot change the answer: they get
exact zeros without computing.

All perturbations ride on the engine's draw axis: one batched contraction per
chunk of judgements instead of one model rebuild per judgement.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .. import _validate as check
from .._errors import BayesCMOError, ZeroProbabilityEvidence
from .._lazy import pandas as pd
from ..engine import core as _engine
from ..inference.background import Background, check_model, check_targets, free_targets, impossible, target_state
from ..network.elicitation import Parameters, build_cpts, elicited_parameters
from ..network.model import Model
from ..theory import Scenario, Theory

#: Finite-difference step (log-odds) of the derivative.
DERIVATIVE_STEP = 1e-4
#: Budget of CPT cells per batched query (draws x cells), to bound memory.
_CELL_BUDGET = 20_000_000

__all__ = ["Judgement", "judgement_sensitivity", "judgements"]


@dataclass(frozen=True)
class Judgement:
    """One elicited number that can be moved: a link weight or a node baseline."""

    id: str
    kind: str  # "link weight" | "baseline"
    node: str  # the node whose CPT it changes
    value: float  # elicited weight, or elicited P(highest state) / P(state)
    step: float  # one confidence width, log-odds
    link: str | None = None
    state: int | None = None  # nominal baselines: which state moves


def _logit_sd(ess: float, p: np.ndarray) -> np.ndarray:
    """sd of logit X for X ~ Beta(ess p, ess (1 - p))."""
    from scipy.special import polygamma  # lazy: slow to import, and only this verb needs it

    a, b = ess * p, ess * (1.0 - p)
    return np.sqrt(polygamma(1, a) + polygamma(1, b))


def judgements(theory: Theory) -> list[Judgement]:
    """Every perturbable judgement of ``theory``, links first (file order), then baselines."""
    out = []
    for link in theory.dag_links:
        if link.target in theory.tables:
            continue
        out.append(Judgement(link.id, "link weight", link.target, float(link.weight), float(link.weight_sd), link=link.id))
    for node in theory.nodes.values():
        if node.id in theory.tables:
            continue
        base = np.clip(np.asarray(node.baseline, dtype=float), 1e-6, 1.0)
        base = base / base.sum()
        if node.ordered:
            cum = np.clip(np.cumsum(base)[:-1], 1e-6, 1 - 1e-6)
            step = float(np.mean(_logit_sd(node.baseline_confidence, cum)))
            out.append(Judgement(f"baseline:{node.id}", "baseline", node.id, float(base[-1]), step))
        else:
            for k, state in enumerate(node.states):
                step = float(_logit_sd(node.baseline_confidence, np.clip(base[k], 1e-6, 1 - 1e-6)))
                out.append(Judgement(f"baseline:{node.id}={state}", "baseline", node.id, float(base[k]), step, state=k))
    return out


def shifted_baseline(baseline: np.ndarray, delta: float, ordered: bool, state: int | None = None) -> np.ndarray:
    """The baseline moved by ``delta`` log-odds (see the module docstring)."""
    from scipy.special import expit, logit  # lazy: slow to import, and only this verb needs it

    base = np.clip(np.asarray(baseline, dtype=float), 1e-12, 1.0)
    base = base / base.sum()
    if ordered:
        cum = np.clip(np.cumsum(base)[:-1], 1e-12, 1 - 1e-12)
        moved = expit(logit(cum) - delta)
        return np.diff(np.concatenate([[0.0], moved, [1.0]]))
    p = np.clip(base[state], 1e-12, 1 - 1e-12)
    new = expit(logit(p) + delta)
    out = base * (1.0 - new) / (1.0 - p)
    out[state] = new
    return out


def judgement_sensitivity(
    model: Model,
    target: str,
    *,
    evidence: Mapping[str, str] | Background | None = None,
    do: Mapping[str, str] | None = None,
    scenario: Scenario | str | None = None,
    state: str | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Rank the elicited judgements by how much they move P(target = state | evidence, do).

    ``scenario`` (an id from scenarios.yaml) adds its findings and
    interventions to ``evidence`` / ``do``. Returns one row per judgement,
    largest swing first, with columns ``target``, ``target_state``,
    ``judgement``, ``kind`` ("link weight"
    or "baseline"), ``node``, ``value`` (elicited weight, or elicited
    probability of the highest state / of the named state), ``step`` (one
    confidence width, log-odds), ``p`` (the headline answer at the
    elicited values), ``p_minus`` / ``p_plus`` (the answer with the judgement
    moved down / up by ``step``), ``swing`` (p_plus - p_minus), ``derivative``
    (dP/d log-odds) and ``rank``.
    """
    theory = check_model(model).theory
    if theory is None:
        raise BayesCMOError(
            f"{model.source}: judgement sensitivity needs a priors folder (links with weights and confidences); "
            "a network file has point probabilities only"
        )
    check.point_values(model.network.batch_size, "model")
    (target,) = check_targets(model, [target])
    background = Background.of(model, evidence, do, scenario)
    free_targets([target], background)
    evidence, do = dict(background.evidence), dict(background.do)
    states = model.states(target)
    k_state = target_state(model, target, state)

    point = elicited_parameters(theory)
    if model.parameters is not None and model.parameters.n_draws is None:
        point = model.parameters  # e.g. a posterior's point values

    def network(cpts):
        net = _engine.NetworkArrays(model.network.variables, model.network.states, model.network.parents, cpts)
        return _engine.intervene(net, do) if do else net

    base_net = network(build_cpts(theory, point))
    try:
        probability = float(_engine.marginals(base_net, [target], [evidence])[target][0, k_state])
    except ZeroProbabilityEvidence:
        raise impossible(background, base_net) from None

    relevant = set(_engine.ancestral_set(base_net, {target, *evidence}))
    items = judgements(theory)
    live = [j for j in items if j.node in relevant and j.node not in do]
    results = {j.id: (probability, probability, 0.0) for j in items}

    offsets = np.array([-1.0, 1.0, -DERIVATIVE_STEP, DERIVATIVE_STEP])
    cells = sum(int(np.prod(np.shape(c))) for c in base_net.cpts.values())
    per_chunk = max(1, int(_CELL_BUDGET // max(cells * len(offsets), 1)))
    for start in range(0, len(live), per_chunk):
        chunk = live[start : start + per_chunk]
        n_draws = len(chunk) * len(offsets)
        weights = {lid: np.full(n_draws, float(w)) for lid, w in point.weights.items()}
        baselines = {n: np.tile(np.asarray(b, dtype=float), (n_draws, 1)) for n, b in point.baselines.items()}
        for i, j in enumerate(chunk):
            for o, offset in enumerate(offsets):
                d = i * len(offsets) + o
                delta = offset * j.step if abs(offset) == 1.0 else offset
                if j.kind == "link weight":
                    weights[j.link][d] += delta
                else:
                    node = theory.nodes[j.node]
                    baselines[j.node][d] = shifted_baseline(point.baselines[j.node], delta, node.ordered, j.state)
        params = Parameters(weights=weights, baselines=baselines, tables=point.tables, n_draws=n_draws)
        p = _engine.marginals(network(build_cpts(theory, params)), [target], [evidence])[target][:, 0, k_state]
        p = p.reshape(len(chunk), len(offsets))
        for i, j in enumerate(chunk):
            results[j.id] = (float(p[i, 0]), float(p[i, 1]), float((p[i, 3] - p[i, 2]) / (2 * DERIVATIVE_STEP)))

    rows = []
    for j in items:
        p_minus, p_plus, derivative = results[j.id]
        rows.append(
            {
                "target": target,
                "target_state": states[k_state],
                "judgement": j.id,
                "kind": j.kind,
                "node": j.node,
                "value": j.value,
                "step": j.step,
                "p": probability,
                "p_minus": p_minus,
                "p_plus": p_plus,
                "swing": p_plus - p_minus,
                "derivative": derivative,
            }
        )
    frame = pd.DataFrame(rows)
    order = np.lexsort((-frame["derivative"].abs().to_numpy(), -frame["swing"].abs().to_numpy()))
    frame = frame.iloc[order].reset_index(drop=True)
    frame["rank"] = np.arange(1, len(frame) + 1)
    return frame
