"""What the page computes, without any web framework: one :func:`answer` per change of a control.

Kept apart from the Shiny code so the benchmark (``benchmarks/page.py``) and
the tests time and check exactly what the page runs. Everything goes through
public functions: the engine's ``query`` on the drawn network for the
outcomes, ``value_of_information`` for what to measure next.

Why the outcomes do not call ``posterior``: the engine plans a contraction per
*pattern* of a query (which nodes are observed), and planning costs as much as
the query itself, so every first click on a new combination of factors would
pay it. The page instead asks one fixed question for every setting: the joint
of all targets (one plan, not one per target) with *every* control given as
soft evidence -- a row of ones for "unknown" (exactly no evidence), a 0/1 row
for a set state. One plan then serves every setting; it is compiled when the
page starts. An intervention on a factor with causes changes the graph, so each
*set* of such interventions has its own (mutilated) network and plan, warmed in
the background (:func:`warm`).
"""

from __future__ import annotations

import inspect
import threading
from functools import lru_cache
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .. import engine
from .._errors import BayesCMOError, ZeroProbabilityEvidence
from ..inference.whatif import posterior
from ..network.model import Model
from ..planning.voi import value_of_information
from ..plots.labels import good_states, goodness, group_of, node_label, outcome_text, reported_state, state_text

#: Parameter draws behind the page's intervals (a stable 90% interval, and fast enough per click).
PAGE_DRAWS = 200
UNKNOWN = "?"  # the select value for "unknown" (no state is named "?")


def headline_targets(model: Model) -> tuple[str, ...]:
    """The outcomes the page shows: the theory's declared headline targets first, then its other outcome nodes."""
    theory = model.theory
    headline = getattr(theory, "headline", None)
    declared = None
    if headline is not None:
        declared = headline.get("targets") if isinstance(headline, Mapping) else getattr(headline, "targets", None)
    outcomes = [n for n, node in theory.nodes.items() if node.role == "outcome"] if theory else []
    chosen = list(dict.fromkeys([*(declared or ()), *outcomes]))
    if not chosen:
        raise BayesCMOError(f"{model.source or 'the model'}: no outcome nodes to show; give targets")
    return tuple(chosen)


@dataclass(frozen=True, eq=False)  # identity: one per served model, used as a cache key
class Page:
    """Everything fixed for one model: the drawn model, targets, their good states, the controls' groups."""

    model: Model
    drawn: Model
    targets: tuple[str, ...]
    shown: Mapping[str, str]
    good: Mapping[str, str]
    groups: Mapping[str, tuple[str, ...]]
    roots: frozenset
    level: float
    baseline: Mapping[str, np.ndarray] = field(default_factory=dict)
    #: every node the page can set: the paper's groups, then the scenarios' other factors
    controls: tuple[str, ...] = ()
    #: set of nodes intervened on (with causes) -> the network the outcomes are computed on
    networks: dict = field(default_factory=dict, repr=False)

    def label(self, node: str) -> str:
        return node_label(self.model.theory, node)


def make_page(
    model: Model,
    *,
    targets: Sequence[str] | None = None,
    n_draws: int = PAGE_DRAWS,
    seed: int = 0,
    level: float = 0.9,
    good_direction: Mapping[str, str] | None = None,
) -> Page:
    theory = model.theory
    if theory is None:
        raise BayesCMOError(f"{model.source}: the page needs a priors folder (labels, links, scenarios), not a network file")
    targets = tuple(targets) if targets else headline_targets(model)
    drawn = model.with_draws(n_draws, seed=seed)
    groups: dict[str, list[str]] = {}
    for node in theory.by_role("context"):
        node_id = node if isinstance(node, str) else node.id
        if node_id in targets:
            continue
        groups.setdefault(group_of(theory, node_id), []).append(node_id)
    grouped = [n for v in groups.values() for n in v]
    extra = sorted({n for s in theory.scenarios for n in (*s.evidence, *s.do)} - set(grouped) - set(targets))
    shown = {t: reported_state(theory, t, model.states(t)) for t in targets}
    page = Page(
        model=model,
        drawn=drawn,
        targets=targets,
        shown=shown,
        good=good_states({t: model.states(t) for t in targets}, theory, good_direction),
        groups={g: tuple(v) for g, v in groups.items()},
        roots=frozenset(n for n in theory.nodes if not theory.parents(n)),
        level=level,
        controls=(*grouped, *extra),
    )
    base = outcome_draws(page, {}, {})  # also compiles the one plan every setting without interventions uses
    page.baseline.update({t: p[:, model.states(t).index(shown[t])] for t, p in base.items()})
    return page


def _draws_last(net: engine.NetworkArrays) -> engine.NetworkArrays:
    """The same network with each batched CPT stored draws-last (a read-only view in the public layout).

    The engine contracts with the draw axis last and copies every batched CPT
    into that layout on each query when the network is too large for its cache
    (200 draws of this theory are); stored that way already, the copy is a no-op.
    Same values, same answers.
    """
    laid = {}
    for v in net.variables:
        if net.is_batched(v):
            view = np.moveaxis(np.ascontiguousarray(np.moveaxis(net.cpts[v], 0, -1)), -1, 0)
            view.setflags(write=False)
            laid[v] = view
    return engine.with_cpts(net, **laid) if laid else net


_NETWORK_LOCK = threading.Lock()


def _network(page: Page, surgery: frozenset) -> engine.NetworkArrays:
    """The drawn network, cut for ``do()`` on the nodes in ``surgery`` (each then a root with a uniform prior).

    ``P(Q | do(X=x), e)`` is ``P'(Q | X=x, e)`` in the cut network: X's prior
    cancels, so the do() state enters as a finding and every state reuses the plan.
    One network per set of cut nodes, kept on the page, so the engine's plan
    and constant parts cached on it are reused.
    """
    hit = page.networks.get(surgery)
    if hit is None:
        with _NETWORK_LOCK:
            hit = page.networks.get(surgery)
            if hit is None:
                net = page.networks.get(frozenset()) or _draws_last(page.drawn.network)
                if surgery:
                    cut = engine.intervene(net, {v: net.states[v][0] for v in surgery})
                    net = engine.with_cpts(cut, **{v: np.full(len(net.states[v]), 1.0 / len(net.states[v])) for v in surgery})
                hit = page.networks[surgery] = net
    return hit


_POINT_MASSES: dict = {}


def _point_mass(net: engine.NetworkArrays, v: str, k: int) -> np.ndarray:
    """A root's prior replaced by all mass on state ``k``, shaped like its CPT (draws-last when batched)."""
    shape = np.shape(net.cpts[v])
    key = (shape, k)
    hit = _POINT_MASSES.get(key)
    if hit is None:
        mass = np.zeros(shape[::-1])  # draws last in memory, as _draws_last stores them
        mass[k] = 1.0
        hit = mass.T
        hit.setflags(write=False)
        _POINT_MASSES[key] = hit
    return hit


def outcome_draws(page: Page, evidence: Mapping[str, str], do: Mapping[str, str]) -> dict[str, np.ndarray]:
    """``P(target | evidence, do)`` per target, ``(D, K)``: one contraction, one plan for every setting.

    Same numbers as ``posterior(page.drawn, page.targets, evidence, do)`` (a
    test checks it); impossible settings raise its message.
    """
    both = sorted(set(evidence) & set(do))
    if both:
        raise BayesCMOError(f"'{both[0]}' is both observed (evidence) and intervened on (do); choose one")
    surgery = frozenset(v for v in do if v not in page.roots)  # do() on a root is observing it
    net = _network(page, surgery)
    findings = {**evidence, **do}
    folded, likelihoods = {}, {}
    for v in dict.fromkeys((*page.controls, *findings)):
        k = page.model.states(v).index(findings[v]) if v in findings else None
        if not net.parents[v]:
            # a root (in this network): a finding replaces its prior by a point mass -- exactly
            # P(. | v = state) -- so no evidence operand at all; an impossible state is left to the engine
            if k is not None:
                prior = np.asarray(net.cpts[v])
                if not (prior[..., k] > 0).all():
                    likelihoods[v] = np.eye(len(net.states[v]))[[k]]
                else:
                    folded[v] = _point_mass(net, v, k)
            continue
        row = np.ones((1, len(net.states[v])))
        if k is not None:
            row[:] = 0.0
            row[0, k] = 1.0
        likelihoods[v] = row
    if folded:
        net = engine.with_cpts(net, **folded)  # same structure: the same plan
    targets = list(page.targets)
    try:
        joint = engine.query(net, targets, likelihoods=likelihoods)[:, 0]  # (D, K1, K2, ...)
    except ZeroProbabilityEvidence:
        posterior(page.drawn, targets, dict(evidence), dict(do))  # raises the usual message, naming the conflict
        raise
    axes = range(1, joint.ndim)
    return {t: joint.sum(axis=tuple(a for a in axes if a != i + 1)) for i, t in enumerate(targets)}


def warm(page: Page, surgery: frozenset = frozenset(), *, stop: threading.Event | None = None) -> int:
    """Compile, ahead of the click, the plans of the networks one more intervention away from ``surgery``.

    At start-up (``surgery`` empty): a plan per factor with causes that can be
    made so, and per scenario's set of interventions. Run in a background
    thread; ``stop`` ends it early. Returns how many networks it prepared.
    """
    theory = page.model.theory
    wanted = [surgery | {v} for v in page.controls if v not in page.roots and v not in surgery]
    if not surgery:
        wanted += [frozenset(v for v in s.do if v not in page.roots) for s in theory.scenarios]
    done = 0
    for cut in dict.fromkeys(wanted):
        if stop is not None and stop.is_set():
            break
        if cut in page.networks:
            continue
        outcome_draws(page, {}, {v: page.model.states(v)[0] for v in cut})
        done += 1
    return done


@dataclass(frozen=True)
class Outcome:
    target: str
    title: str
    p: float
    p_low: float
    p_high: float
    baseline: float
    delta: float
    delta_low: float
    delta_high: float
    meaning: str  # good / bad / none, for the partnership


@dataclass(frozen=True)
class Answer:
    outcomes: tuple[Outcome, ...]
    best_next: Mapping[str, tuple[str, float]]  # target -> (node, expected absolute change)
    error: str = ""


def split_settings(settings: Mapping[str, str], how: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Controls -> (evidence, do): a control set to a state goes to do() when its toggle says so."""
    evidence, do = {}, {}
    for node, state in settings.items():
        if state in (None, UNKNOWN):
            continue
        (do if how.get(node) == "do" else evidence)[node] = state
    return evidence, do


def _quantiles(values: np.ndarray, level: float) -> tuple[float, float]:
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return float(low), float(high)


def _voi_supports_do() -> bool:
    return "do" in inspect.signature(value_of_information).parameters


#: candidates per value_of_information call: between calls a stale computation gives way to the next click
_VOI_CHUNK = 6


def best_next(
    page: Page, evidence: Mapping[str, str], do: Mapping[str, str], *, stop: threading.Event | None = None
) -> dict[str, tuple[str, float]] | None:
    """For each target, the unset factor whose measurement would move it most (expected absolute change).

    ``None`` when ``stop`` was set before it finished (the setting changed meanwhile).
    """
    out = {}
    kwargs = {"do": dict(do)} if _voi_supports_do() else {}
    given = dict(evidence) if kwargs else {**evidence, **do}  # older VOI: interventions as findings
    candidates = [n for g in page.groups.values() for n in g if n not in evidence and n not in do]
    for target in page.targets if candidates else ():
        best = None
        for start in range(0, len(candidates), _VOI_CHUNK):
            if stop is not None and stop.is_set():
                return None
            chunk = candidates[start : start + _VOI_CHUNK]
            frame = value_of_information(page.model, target, evidence=given, candidates=chunk, **kwargs)
            top = frame.sort_values("expected_abs_change", ascending=False, kind="stable").iloc[0]
            if best is None or float(top["expected_abs_change"]) > best[1]:
                best = (str(top["node"]), float(top["expected_abs_change"]))
        out[target] = best
    return out


def answer(page: Page, settings: Mapping[str, str], how: Mapping[str, str] | None = None, *, voi: bool = True) -> Answer:
    """The outcomes under the current controls, with intervals on the change from the baseline."""
    evidence, do = split_settings(settings, how or {})
    return _answer(page, tuple(sorted(evidence.items())), tuple(sorted(do.items())), voi)


@lru_cache(maxsize=256)  # going back to an earlier setting is free
def _answer(page: Page, evidence_items: tuple, do_items: tuple, voi: bool) -> Answer:
    evidence, do = dict(evidence_items), dict(do_items)
    try:
        now = outcome_draws(page, evidence, do)
    except ZeroProbabilityEvidence as exc:
        return Answer((), {}, error=f"These settings cannot occur together in the theory: {exc}")
    theory = page.model.theory
    outcomes = []
    for t in page.targets:
        p = now[t][:, page.model.states(t).index(page.shown[t])]
        change = p - page.baseline[t]
        sign = goodness(page.model.states(t), page.shown[t], page.good[t])
        d = float(change.mean())
        meaning = {1: "good", -1: "bad"}.get(int(np.sign(d) * sign) if abs(d) >= 5e-4 else 0, "none")
        outcomes.append(
            Outcome(
                t, outcome_text(theory, t, page.shown[t]), float(p.mean()), *_quantiles(p, page.level),
                float(page.baseline[t].mean()), d, *_quantiles(change, page.level), meaning,
            )
        )
    return Answer(tuple(outcomes), _next(page, evidence_items, do_items) if voi else {})


def next_factors(
    page: Page, settings: Mapping[str, str], how: Mapping[str, str] | None = None, *, stop: threading.Event | None = None
) -> dict[str, tuple[str, float]] | None:
    """Only what to measure next (the page computes it in the background, after the outcomes).

    ``None`` if ``stop`` was set first (a newer click is waiting).
    """
    evidence, do = split_settings(settings, how or {})
    return _next(page, tuple(sorted(evidence.items())), tuple(sorted(do.items())), stop)


_NEXT_CACHE: dict = {}  # (page, evidence, do) -> answer; only finished answers are kept


def _next(page: Page, evidence_items: tuple, do_items: tuple, stop: threading.Event | None = None):
    key = (page, evidence_items, do_items)
    hit = _NEXT_CACHE.get(key)
    if hit is None:
        try:
            hit = best_next(page, dict(evidence_items), dict(do_items), stop=stop)
        except ZeroProbabilityEvidence:
            hit = {}
        if hit is None:
            return None
        if len(_NEXT_CACHE) >= 256:
            _NEXT_CACHE.pop(next(iter(_NEXT_CACHE)))
        _NEXT_CACHE[key] = hit
    return hit


def same_either_way(page: Page, node: str) -> bool:
    """Observing and intervening give the same answer for a node with no causes in the theory."""
    return node in page.roots


def state_choices(page: Page, node: str) -> dict[str, str]:
    return {UNKNOWN: "unknown", **{s: state_text(s) for s in page.model.states(node)}}
