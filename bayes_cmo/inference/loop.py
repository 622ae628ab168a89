"""The feedback loop over rounds: any node's distribution by round, fast and exact enough to rely on.

The network unrolled over rounds (:func:`bayes_cmo.inference.rounds.unroll`)
couples every round to the contexts, which no round forgets, so exact
inference on the whole unrolled network grows steeply with the number of
rounds. Given the *frontier* -- the round-invariant nodes that feed the
nodes that change by round -- the rounds form a chain, and the batched
engine contracts that chain exactly. The time view therefore:

* **enumerates** the frontier's configurations when there are few
  (at most :data:`EXACT_CONFIGURATIONS`): the answer is exact
  (``std_error`` 0);
* otherwise **samples** the round-invariant nodes from their own prior
  (findings on them clamped) and weighs each sample by the exact probability
  of all findings given it (importance sampling, Rao-Blackwellised: within
  a sample everything that changes by round is exact), with a standard error.

All samples of all parameter draws go through one engine contraction (the
evidence-set axis carries the samples, the draw axis the draws), so
intervals over the elicited judgements cost one batched call.

An absorbing outcome (``absorbing=(node, state)``, e.g. a dissolved
partnership) stays in its state once reached: its copy in round r takes the
copy of round r - 1 as a parent, so P(node@r = other state) is the
probability of having stayed clear of it through round r.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .._errors import BayesCMOError, ZeroProbabilityEvidence, did_you_mean
from .._lazy import pandas as pd
from ..engine import core as _engine
from ..engine.sampling import forward_sample
from ..network.model import Model
from ..theory import Theory
from .rounds import MAX_ROUNDS, dynamic_nodes, round_name, unroll
from .summary import DEFAULT_LEVEL, summarise

__all__ = ["EXACT_CONFIGURATIONS", "RoundFindings", "by_round", "parse_round_findings"]

#: Enumerate the frontier exactly up to this many configurations; sample beyond.
EXACT_CONFIGURATIONS = 512
#: Default importance samples (over all draws together).
DEFAULT_SAMPLES = 2000
#: With parameter draws, at least this many samples per draw.
MIN_SAMPLES_PER_DRAW = 20

TIDY_COLUMNS = ["round", "target", "state", "p", "std_error"]


@dataclass(frozen=True)
class RoundFindings:
    """Findings and interventions: on round-invariant nodes, and per round on the nodes that change."""

    evidence: Mapping[str, str]
    do: Mapping[str, str]
    evidence_by_round: Mapping[int, Mapping[str, str]]
    do_by_round: Mapping[int, Mapping[str, str]]


def _split(key: str, what: str) -> tuple[str, int | None]:
    node, at, when = str(key).partition("@")
    if not at:
        return node, None
    if not when.isdigit() or int(when) < 1:
        raise BayesCMOError(f"{what}: '{key}': expected NODE@ROUND with ROUND a whole number from 1, e.g. {node}@1")
    return node, int(when)


def parse_round_findings(
    theory: Theory, rounds: int, evidence: Mapping[str, str] | None, do: Mapping[str, str] | None
) -> RoundFindings:
    """``conflict@2=high`` style findings, checked once.

    A node that is the same in every round (a context, an entry-stage mechanism)
    takes no ``@``; a node that changes by round needs ``@ROUND`` for a finding, and
    an intervention on it without ``@`` holds in every round.
    """
    dynamic = set(dynamic_nodes(theory))
    fixed: dict[str, dict[str, str]] = {"evidence": {}, "do": {}}
    by_round: dict[str, dict[int, dict[str, str]]] = {"evidence": {}, "do": {}}
    for what, given in (("evidence", evidence), ("do", do)):
        for key, state in (given or {}).items():
            node, when = _split(key, what)
            if node not in theory.nodes:
                raise BayesCMOError(f"{what}: unknown node '{node}'{did_you_mean(node, theory.nodes)}")
            states = theory.nodes[node].states
            if str(state) not in states:
                raise BayesCMOError(
                    f"{what}: unknown state '{state}' for {node} (expected one of {', '.join(states)})"
                    f"{did_you_mean(str(state), states)}"
                )
            if node not in dynamic:
                if when is not None:
                    raise BayesCMOError(f"{what}: '{key}': {node} is the same in every round; drop '@{when}'")
                fixed[what][node] = str(state)
                continue
            if when is None and what == "evidence":
                raise BayesCMOError(
                    f"evidence: '{node}' changes from round to round; say which round, e.g. {node}@1={state}"
                )
            if when is not None and when > rounds:
                raise BayesCMOError(f"{what}: '{key}': round {when} is past the last round ({rounds})")
            for r in range(1, rounds + 1) if when is None else [when]:
                by_round[what].setdefault(r, {})[node] = str(state)
    for r, found in by_round["evidence"].items():
        both = sorted(set(found) & set(by_round["do"].get(r, {})))
        if both:
            raise BayesCMOError(f"'{both[0]}@{r}' is both observed (evidence) and intervened on (do); choose one")
    both = sorted(set(fixed["evidence"]) & set(fixed["do"]))
    if both:
        raise BayesCMOError(f"'{both[0]}' is both observed (evidence) and intervened on (do); choose one")
    return RoundFindings(fixed["evidence"], fixed["do"], by_round["evidence"], by_round["do"])


def absorbing_network(net: _engine.NetworkArrays, node: str, state: str, rounds: int) -> _engine.NetworkArrays:
    """Make ``node`` absorbing in ``state``: from round 2 on, its copy keeps the state once reached."""
    parents = dict(net.parents)
    cpts = dict(net.cpts)
    for r in range(2, rounds + 1):
        here, before = round_name(node, r), round_name(node, r - 1)
        states = net.states[here]
        k = states.index(state)
        cpt = np.asarray(cpts[here])
        batched = cpt.ndim == len(parents[here]) + 2
        stay = np.zeros(len(states))
        stay[k] = 1.0
        # New last parent axis: the previous round's state.
        grown = np.repeat(cpt[..., np.newaxis], len(states), axis=-1)
        grown[..., k] = stay.reshape((1,) * batched + (-1,) + (1,) * len(parents[here]))
        parents[here] = (*parents[here], before)
        cpts[here] = grown
    return _engine.NetworkArrays(net.variables, net.states, parents, cpts)


def _configurations(net: _engine.NetworkArrays, nodes: Sequence[str]) -> dict[str, np.ndarray]:
    """Every configuration of ``nodes``: state indices, one array per node (C-order grid)."""
    grids = np.indices([len(net.states[v]) for v in nodes]).reshape(len(nodes), -1)
    return {v: grids[i] for i, v in enumerate(nodes)}


def _subnetwork(net: _engine.NetworkArrays, keep: Sequence[str]) -> _engine.NetworkArrays:
    """The nodes ``keep`` (closed under parents) as a network of their own."""
    keep = [v for v in net.variables if v in set(keep)]
    return _engine.NetworkArrays(
        tuple(keep), {v: net.states[v] for v in keep}, {v: net.parents[v] for v in keep}, {v: net.cpts[v] for v in keep}
    )


def _sliced(
    net: _engine.NetworkArrays, keep: Sequence[str], fixed: Mapping[str, np.ndarray], draw: np.ndarray | None
) -> _engine.NetworkArrays:
    """The nodes ``keep`` with every other parent fixed, row by row: CPTs batched over the rows.

    Row ``b`` fixes parent ``p`` at state ``fixed[p][b]`` and reads parameter draw ``draw[b]``; the
    observed round-invariant nodes thus enter the tables instead of the engine's evidence, and all
    context settings (and draws) ride along the engine's batch axis in one query.
    """
    n_rows = len(next(iter(fixed.values()))) if fixed else (0 if draw is None else len(draw))
    cpts, parents = {}, {}
    for v in keep:
        cpt = np.asarray(net.cpts[v])
        batched = net.is_batched(v)
        lead = int(batched)
        held = [i for i, q in enumerate(net.parents[v]) if q in fixed]
        parents[v] = tuple(q for q in net.parents[v] if q not in fixed)
        if not held and not batched:
            cpts[v] = cpt
            continue
        free = [i for i in range(len(net.parents[v])) if i not in held]
        # fixed parents' axes first, then the draw axis, the node's own states and the free parents
        order = [lead + 1 + i for i in held] + ([0] if batched else []) + [lead] + [lead + 1 + i for i in free]
        index = tuple(fixed[net.parents[v][i]] for i in held) + ((draw,) if batched else ())
        cpts[v] = np.transpose(cpt, order)[index]
    if n_rows and not any(np.ndim(cpts[v]) == len(parents[v]) + 2 for v in keep):
        first = keep[0]  # nothing varies by row: batch one table so the answer has a row axis
        cpts[first] = np.broadcast_to(cpts[first], (n_rows, *np.shape(cpts[first])))
    return _engine.NetworkArrays(tuple(keep), {v: net.states[v] for v in keep}, parents, cpts)


def _interface(theory: Theory, absorbing: tuple[str, str] | None) -> tuple[str, ...]:
    """Round-varying nodes that the next round reads: lagged-link sources and moderators, the absorbing outcome."""
    dynamic = dynamic_nodes(theory)
    feeding = {link.source for link in theory.links if link.lag == 1}
    feeding |= {link.moderator for link in theory.links if link.lag == 1 and link.moderator}
    if absorbing is not None:
        feeding.add(absorbing[0])
    return tuple(n for n in dynamic if n in feeding)


def _round_network(
    theory: Theory, parameters, absorbing: tuple[str, str] | None, interface: Sequence[str], do: Mapping[str, str]
) -> _engine.NetworkArrays:
    """One round after the first: round-2 copies, the shared nodes, and the previous round's interface as uniform roots."""
    net = unroll(theory, 2, parameters).network
    if absorbing is not None:
        net = absorbing_network(net, absorbing[0], absorbing[1], 2)
    previous = {round_name(n, 1) for n in interface}
    dropped = {round_name(n, 1) for n in dynamic_nodes(theory)} - previous
    keep = [v for v in net.variables if v not in dropped]
    parents, cpts = {}, {}
    for v in keep:
        if v in previous:
            card = len(net.states[v])
            parents[v], cpts[v] = (), np.full(card, 1.0 / card)
        else:
            parents[v], cpts[v] = net.parents[v], net.cpts[v]
    out = _engine.NetworkArrays(tuple(keep), {v: net.states[v] for v in keep}, parents, cpts)
    return _engine.intervene(out, {round_name(n, 2): s for n, s in do.items()}) if do else out


def _chain(
    first: np.ndarray, steps: Sequence[np.ndarray], n_interface: int, evidence: Sequence[Mapping[int, int]]
) -> tuple[list[np.ndarray], np.ndarray]:
    """Forward-backward over rounds, for every draw and context set at once.

    ``first``: P(I_1, X_1 | c) shaped ``(B, *I, *X_1)``; ``steps[r]``: P(I_r, X_r | I_{r-1}, c)
    shaped ``(B, *I_prev, *I, *X_r)``; ``B`` flattens draws x sets. ``evidence[r]`` maps an axis of
    X_r to an observed state. Returns P(I_r, X_r, e | c) per round and P(e | c).
    """
    b = first.shape[0]
    n_cells = int(np.prod(first.shape[1 : 1 + n_interface]))

    def observe(arr: np.ndarray, lead: int, found: Mapping[int, int]) -> np.ndarray:
        if not found:
            return arr  # rounds without findings share their table (and its reductions below)
        arr = arr.copy()
        for axis, state in found.items():
            mask = np.zeros(arr.shape[lead + axis])
            mask[state] = 1.0
            shape = [1] * arr.ndim
            shape[lead + axis] = -1
            arr *= mask.reshape(shape)
        return arr

    tables = [observe(first, 1, evidence[0])]  # round 1 has no previous interface
    tables += [observe(s, 1 + n_interface, evidence[r + 1]) for r, s in enumerate(steps)]
    extra = [t.shape[1 + n_interface * (1 if r == 0 else 2) :] for r, t in enumerate(tables)]
    reduced: dict[int, np.ndarray] = {}

    def transition(t: np.ndarray) -> np.ndarray:
        if id(t) not in reduced:
            reduced[id(t)] = t.reshape(b, n_cells, n_cells, -1).sum(axis=-1)
        return reduced[id(t)]

    step_mats = [transition(t) for t in tables[1:]]
    alpha = [tables[0].reshape(b, n_cells, -1).sum(axis=-1)]
    for m in step_mats:
        alpha.append(np.einsum("bi,bij->bj", alpha[-1], m))
    beta = [np.ones((b, n_cells))]
    for m in reversed(step_mats):
        beta.insert(0, np.einsum("bij,bj->bi", m, beta[0]))
    joint = [tables[0].reshape(b, n_cells, -1) * beta[0][:, :, np.newaxis]]
    for r, t in enumerate(tables[1:], start=1):
        flat = t.reshape(b, n_cells, n_cells, -1)
        joint.append(np.einsum("bi,bijx,bj->bjx", alpha[r - 1], flat, beta[r], optimize=True))
    joint = [j.reshape(b, *first.shape[1 : 1 + n_interface], *x) for j, x in zip(joint, extra)]
    return joint, alpha[-1].sum(axis=1)


def by_round(
    model: Model,
    targets: str | Sequence[str],
    *,
    rounds: int = 5,
    evidence: Mapping[str, str] | None = None,
    do: Mapping[str, str] | None = None,
    absorbing: tuple[str, str] | None = None,
    samples: int = DEFAULT_SAMPLES,
    seed: int | None = 0,
    level: float = DEFAULT_LEVEL,
) -> pd.DataFrame:
    """Each target's distribution in every round, given findings and interventions by round.

    ``evidence``/``do`` keys are node ids, or ``NODE@ROUND`` for a node that
    changes by round (``{"conflict@2": "high"}``); a round-invariant node holds
    in every round. Given the round-invariant nodes that feed the loop, the
    rounds are a chain through the *interface* (the nodes the next round
    reads), solved exactly by forward-backward with one engine query per kind
    of round; the round-invariant nodes are enumerated when they have at most
    :data:`EXACT_CONFIGURATIONS` configurations, else importance-sampled.

    Returns a tidy frame: ``round``, ``target``, ``state``, ``probability``
    (the mean over draws when the model has draws), ``std_error`` (0 where
    exact), ``method`` (``exact`` / ``importance sampling``), and with draws
    ``ci_low``/``ci_high``.
    """
    theory = model.theory
    if theory is None:
        raise BayesCMOError(f"{model.source}: the round-by-round view needs a priors folder (its lagged links)")
    if isinstance(rounds, bool) or not isinstance(rounds, (int, np.integer)) or not 1 <= rounds <= MAX_ROUNDS:
        raise BayesCMOError(f"rounds: expected a whole number from 1 to {MAX_ROUNDS}, got {rounds!r}")
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 10:
        raise BayesCMOError(f"samples: expected a whole number of at least 10, got {samples!r}")
    targets = [targets] if isinstance(targets, str) else list(dict.fromkeys(targets))
    if not targets:
        raise BayesCMOError("targets: give at least one node")
    for t in targets:
        if t not in theory.nodes:
            raise BayesCMOError(f"target: unknown node '{t}'{did_you_mean(t, theory.nodes)}")
    rounds = int(rounds)
    found = parse_round_findings(theory, rounds, evidence, do)
    dynamic = dynamic_nodes(theory)
    if not dynamic:
        raise BayesCMOError(f"{theory.path}: no link has 'lag: 1', so there is no loop to unroll over rounds")
    if absorbing is not None and absorbing[0] not in dynamic:
        raise BayesCMOError(f"absorbing outcome '{absorbing[0]}' does not change by round (no lagged link reaches it)")
    interface = _interface(theory, absorbing)
    base = _engine.intervene(model.network, found.do) if found.do else model.network
    batched = base.batch_size is not None
    draws = base.batch_size or 1

    # The round-invariant nodes: enumerate the frontier, or sample them all.
    static = [v for v in base.variables if v not in dynamic]
    static_net = _subnetwork(base, static)
    step_net = {}

    def network_for(r: int) -> _engine.NetworkArrays:
        key = tuple(sorted(found.do_by_round.get(r, {}).items()))
        if key not in step_net:
            net = _round_network(theory, model.parameters, absorbing, interface, dict(key))
            step_net[key] = _engine.intervene(net, found.do) if found.do else net
        return step_net[key]

    first_net = base
    if found.do_by_round.get(1):
        first_net = _engine.intervene(base, found.do_by_round[1])
    round_nets = [first_net] + ([network_for(r) for r in range(2, rounds + 1)] if rounds > 1 else [])
    frontier = [v for v in static if any(v in net.parents[c] for net in round_nets for c in net.variables if c not in static)]
    free = [v for v in frontier if v not in found.evidence and v not in found.do]
    n_config = int(np.prod([len(base.states[v]) for v in free])) if free else 1
    clamp = {v: base.states[v].index(s) for v, s in found.evidence.items()}
    if n_config <= EXACT_CONFIGURATIONS:
        method = "exact"
        settings = _configurations(base, free) if free else {}
        n_sets = n_config
        for v, state in {**found.evidence, **found.do}.items():
            settings[v] = np.full(n_sets, base.states[v].index(state))
        if clamp or free:
            likelihood = {v: np.eye(len(base.states[v]))[settings[v]] for v in static_net.variables if v in settings}
            z = _engine.probability_of_evidence(static_net, likelihoods=likelihood)
        else:
            likelihood, z = {}, np.ones((draws, n_sets))
        with np.errstate(divide="ignore"):
            log_w = np.log(np.broadcast_to(np.asarray(z, dtype=float).reshape(-1, n_sets), (draws, n_sets)))
        rows = {v: np.tile(i, draws) for v, i in settings.items()}
    else:
        method = "importance sampling"
        n_sets = max(MIN_SAMPLES_PER_DRAW, -(-int(samples) // draws))
        # Likelihood weighting of the round-invariant nodes: each row its own draw's tables.
        draw_index = np.repeat(np.arange(draws), n_sets) if batched else None
        rows, weight = forward_sample(static_net, draws * n_sets, np.random.default_rng(seed), evidence=clamp, draw_index=draw_index)
        with np.errstate(divide="ignore"):
            log_w = np.log(weight).reshape(draws, n_sets)
    row_draw = np.repeat(np.arange(draws), n_sets) if batched else None
    fixed = {v: rows[v] for v in frontier}

    def ask(net: _engine.NetworkArrays, names: Sequence[str]) -> np.ndarray:
        """P(names | each row's context setting and draw), shaped (draws x sets, ...)."""
        keep = [v for v in net.variables if v not in set(static)]
        out = _engine.query(_sliced(net, keep, fixed, row_draw), list(names))
        return out.reshape(-1, *out.shape[2:]) if out.ndim > len(names) + 1 else np.broadcast_to(out, (draws * n_sets, *out.shape[1:]))

    # One query per kind of round: P(I_r, X_r | I_{r-1}, c); X = targets and findings outside the interface.
    def extra(r: int) -> list[str]:
        wanted = [t for t in targets if t in dynamic] + list(found.evidence_by_round.get(r, {}))
        return [v for v in dict.fromkeys(wanted) if v not in interface]

    def observed(r: int, names: Sequence[str]) -> dict[int, int]:
        return {
            names.index(v): theory.nodes[v].states.index(s) for v, s in found.evidence_by_round.get(r, {}).items()
        }

    current = [list(interface) + extra(r) for r in range(1, rounds + 1)]
    first = ask(first_net, current[0])
    cells = int(np.prod([theory.nodes[v].card for v in interface]))
    step_tables: dict[tuple, np.ndarray] = {}  # rounds alike in interventions and findings share one query

    def step(r: int) -> np.ndarray:
        names = (*(round_name(v, 1) for v in interface), *(round_name(v, 2) for v in current[r - 1]))
        key = (tuple(sorted(found.do_by_round.get(r, {}).items())), names)
        if key not in step_tables:
            step_tables[key] = ask(network_for(r), names) * cells
        return step_tables[key]

    steps = [step(r) for r in range(2, rounds + 1)]
    joint, p_findings = _chain(first, steps, len(interface), [observed(r, current[r - 1]) for r in range(1, rounds + 1)])

    with np.errstate(divide="ignore"):
        log_w = log_w + np.log(p_findings.reshape(draws, -1))
    if not np.isfinite(log_w).any(axis=1).all():
        given = ", ".join([f"{k}={v}" for k, v in (evidence or {}).items()] + [f"do({k}={v})" for k, v in (do or {}).items()])
        raise ZeroProbabilityEvidence(f"the findings {given} have probability zero (or too small to sample) under the model")
    w = np.nan_to_num(np.exp(log_w - np.max(log_w, axis=1, keepdims=True)))
    w /= w.sum(axis=1, keepdims=True)

    def static_p(t: str) -> np.ndarray:
        if t in rows:
            return np.eye(theory.nodes[t].card)[rows[t]]
        # exact, target off the frontier: P(t | each enumerated setting) from the round-invariant nodes
        out = _engine.query(static_net, [t], likelihoods=likelihood or None)
        return np.broadcast_to(out, (draws, n_sets, theory.nodes[t].card)) if not batched else out

    rows_out = []
    for t in targets:
        for r in range(1, rounds + 1):
            if t in dynamic:
                names = current[r - 1]
                axis = names.index(t)
                arr = joint[r - 1]
                p = arr.sum(axis=tuple(i + 1 for i in range(len(names)) if i != axis))
                with np.errstate(invalid="ignore", divide="ignore"):
                    p = p / p_findings[:, np.newaxis]
            else:
                p = static_p(t)
            p = np.nan_to_num(p).reshape(draws, n_sets, -1)
            per_draw_p = np.einsum("dm,dmk->dk", w, p)
            if method == "exact":
                se = np.zeros(p.shape[-1])
            else:  # delta-method standard error of the self-normalised estimate, averaged over draws
                resid = p - per_draw_p[:, np.newaxis, :]
                se = np.sqrt(np.einsum("dm,dmk->dk", w**2, resid**2).mean(axis=0) / draws)
            for k, state in enumerate(theory.nodes[t].states):
                row = {"round": r, "target": t, "state": state, "p": float(per_draw_p[:, k].mean())}
                row["std_error"] = float(se[k])
                row["method"] = method
                if batched:
                    row.update({key: v for key, v in summarise(per_draw_p[:, k], level, "p").items() if key != "p"})
                rows_out.append(row)
    columns = TIDY_COLUMNS + ["method"] + (["ci_low", "ci_high"] if batched else [])
    return pd.DataFrame(rows_out)[columns].sort_values(["target", "round"], kind="stable").reset_index(drop=True)
