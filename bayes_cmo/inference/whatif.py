"""What-if queries: P(target | evidence) or P(target | do(intervention))."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..engine import core as _engine
from .._errors import BayesCMOError, ZeroProbabilityEvidence, did_you_mean
from ..network.model import Model
from ..theory import Scenario

#: Default credible level for intervals over parameter draws.
DEFAULT_LEVEL = 0.9


def check_findings(model: Model, findings: Mapping[str, str] | None, what: str) -> dict[str, str]:
    """Known node and state names, or a one-line error with a 'did you mean'."""
    return check_states(model.network.states, findings, what)


def check_states(
    states: Mapping[str, Sequence[str]], findings: Mapping[str, str] | None, what: str
) -> dict[str, str]:
    """``findings`` checked against the state names of each node in ``states``."""
    out = {}
    for node, state in (findings or {}).items():
        if node not in states:
            raise BayesCMOError(f"{what}: unknown node '{node}'{_suggest(node, tuple(states))}")
        names = states[node]
        if str(state) not in names:
            raise BayesCMOError(
                f"{what}: unknown state '{state}' for {node} (expected one of {', '.join(names)})"
                f"{did_you_mean(state, names)}"
            )
        out[node] = str(state)
    return out


def _suggest(node: str, variables: Sequence[str]) -> str:
    """A did-you-mean, or for a small network with no near miss, its node list."""
    hint = did_you_mean(node, variables)
    if not hint and len(variables) <= 15:
        hint = f" (the network's nodes: {', '.join(variables)})"
    return hint


def check_targets(model: Model, targets: Sequence[str] | str) -> list[str]:
    targets = [targets] if isinstance(targets, str) else list(targets)
    if not targets:
        raise BayesCMOError("give at least one target node")
    for target in targets:
        if target not in model.network.states:
            raise BayesCMOError(f"target: unknown node '{target}'{_suggest(target, model.variables)}")
    return targets


def target_state_index(model: Model, target: str, state: str | None = None) -> int:
    """Index of ``state`` of ``target`` (default: its highest state), or a one-line error."""
    states = model.states(target)
    if state is None:
        return len(states) - 1
    if str(state) in states:
        return states.index(str(state))
    raise BayesCMOError(
        f"unknown state '{state}' for {target} (expected one of {', '.join(states)}){did_you_mean(state, states)}"
    )


def resolve_scenario(model: Model, scenario: Scenario | str | None) -> Scenario | None:
    """A scenario of the model's theory by id (or as given)."""
    if scenario is None or isinstance(scenario, Scenario):
        return scenario
    if model.theory is None:
        raise BayesCMOError(f"unknown scenario '{scenario}': {model.source or 'this model'} is a network file and has no scenarios")
    return model.theory.scenario(str(scenario))


def background(
    model: Model,
    evidence: Mapping[str, str] | None = None,
    do: Mapping[str, str] | None = None,
    scenario: Scenario | str | None = None,
) -> tuple[dict[str, str], dict[str, str]]:
    """Findings and interventions of a scenario merged with explicit ones, checked against the model."""
    scenario = resolve_scenario(model, scenario)
    findings = dict(scenario.evidence) if scenario else {}
    interventions = dict(scenario.do) if scenario else {}
    for given, merged, what in ((evidence, findings, "evidence"), (do, interventions, "do")):
        for node, state in check_findings(model, given, what).items():
            if node in merged and merged[node] != state:
                raise BayesCMOError(
                    f"{what}: {node}={state} contradicts scenario '{scenario.id}' ({node}={merged[node]})"
                )
            merged[node] = state
    check_findings(model, findings, "evidence")
    check_findings(model, interventions, "do")
    both = sorted(set(findings) & set(interventions))
    if both:
        raise BayesCMOError(f"'{both[0]}' is both observed and intervened on in the background; choose one")
    return findings, interventions


def posterior(
    model: Model,
    targets: Sequence[str] | str,
    evidence: Mapping[str, str] | None = None,
    do: Mapping[str, str] | None = None,
) -> dict[str, np.ndarray]:
    """P(target | evidence, do) per target: ``(K,)``, or ``(D, K)`` with draws."""
    targets = check_targets(model, targets)
    evidence = check_findings(model, evidence, "evidence")
    do = check_findings(model, do, "do")
    for target in targets:
        if target in evidence or target in do:
            raise BayesCMOError(f"'{target}' is both a target and given as evidence/intervention; drop one of them")
    both = sorted(set(evidence) & set(do))
    if both:
        raise BayesCMOError(f"'{both[0]}' is both observed (--evidence) and intervened on (--do); choose one")
    network = _engine.intervene(model.network, do) if do else model.network
    try:
        result = _engine.marginals(network, targets, [evidence])
    except ZeroProbabilityEvidence:
        given = ", ".join(f"{k}={v}" for k, v in evidence.items())
        under = f"under do({', '.join(f'{k}={v}' for k, v in do.items())})" if do else ""
        subset = _engine.smallest_conflict(network, evidence) or evidence
        if len(subset) == len(evidence):
            why = "" if len(evidence) == 1 else "; these findings cannot occur together"
        else:
            named = ", ".join(f"{k}={v}" for k, v in subset.items())
            why = f"; {named} " + ("is impossible on its own" if len(subset) == 1 else "cannot occur together")
        raise ZeroProbabilityEvidence(f"the evidence {given} has probability zero {under or 'under the model'}{why}") from None
    return {t: p[..., 0, :] for t, p in result.items()}


def what_if(
    model: Model,
    targets: Sequence[str] | str,
    evidence: Mapping[str, str] | None = None,
    do: Mapping[str, str] | None = None,
    *,
    level: float = DEFAULT_LEVEL,
) -> pd.DataFrame:
    """Tidy table: one row per target state with ``probability`` (and ``ci_low``/``ci_high`` with draws).

    With draws, ``probability`` is the mean over draws and the interval is the
    central ``level`` credible interval of the second-order uncertainty;
    ``estimate`` says which (see :func:`estimate_label`).
    """
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0.0 < level < 1.0:
        # checked with point values too, where it is unused: a wrong level should not pass until draws are added
        raise BayesCMOError(f"The 'level' parameter must be between 0 and 1. Got {level!r} instead.")
    rows = []
    for target, p in posterior(model, targets, evidence, do).items():
        for k, state in enumerate(model.states(target)):
            row = {"target": target, "state": state}
            row.update(summarise(p[..., k], level))
            row["estimate"] = estimate_label(model)
            rows.append(row)
    return pd.DataFrame(rows)


def estimate_label(model_or_net) -> str:
    """Which number a row shows: ``point values`` (the model's point judgements, e.g. the elicited
    ones) or ``mean of N draws`` (the mean over N draws of the judgements; it differs from the point
    answer because probabilities are not linear in the judgements)."""
    net = getattr(model_or_net, "network", model_or_net)
    n = net.batch_size
    return "point values" if n is None else f"mean of {n} draws"


def summarise(values: np.ndarray, level: float = DEFAULT_LEVEL, name: str = "probability") -> dict[str, float]:
    """A point value, or mean and central credible interval over a draw axis."""
    values = np.asarray(values, dtype=float)
    if values.ndim == 0:
        return {name: float(values)}
    if not 0.0 < level < 1.0:
        raise BayesCMOError(f"The 'level' parameter must be between 0 and 1. Got {level!r} instead.")
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return {name: float(values.mean()), "ci_low": float(low), "ci_high": float(high)}


def mean_score(probabilities: np.ndarray) -> np.ndarray:
    """Expected position on the node's 0..1 scale (P(highest) for a binary node)."""
    probabilities = np.asarray(probabilities, dtype=float)
    k = probabilities.shape[-1]
    return probabilities @ (np.arange(k) / (k - 1))
