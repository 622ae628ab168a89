"""What the page computes, without any web framework: one :func:`answer` per change of a control.

Kept apart from the Shiny code so the benchmark (``benchmarks/page.py``) and
the tests time and check exactly what the page runs. Everything goes through
public functions: the engine's ``query`` on the drawn network for the
outcomes, ``planning.voi.pair_joints`` (what ``value_of_information`` runs)
for what to measure next.

Why the outcomes do not call ``posterior``: the engine plans a contraction per
*pattern* of a query (which nodes are observed), and planning costs as much as
the query itself, so every first click on a new combination of factors would
pay it. The page instead asks one fixed question for every setting: the joint
of all targets (one plan, not one per target) with *every* control given as
soft evidence -- a row of ones for "unknown" (exactly no evidence), a 0/1 row
for a set state. A root's finding, and any ``do()``, replace that node's CPT by
a point mass: ``do(X = x)`` is the truncated factorisation, every other CPT
kept and all of X's mass on x whatever its parents, so the graph need not be
cut and the network keeps its structure. One plan then serves every setting,
interventions included; it is compiled when the page starts. What to measure
next asks the same fixed question of the point model, every target and every
candidate in one backward pass (:func:`bayes_cmo.planning.voi.pair_joints`);
its one plan is compiled in the background at start-up (:func:`warm`).
"""

from __future__ import annotations

import threading
from functools import lru_cache
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .. import engine
from .._errors import BayesCMOError, ZeroProbabilityEvidence
from ..inference.whatif import posterior
from ..network.model import Model
from ..inference.background import target_state
from ..planning.voi import expected_abs_change, mutual_information_bits, pair_joints
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
    #: what the page keeps between clicks: the drawn network laid out draws-last (its plan and constants are cached
    #: on it), and whether what to measure next's plan is compiled
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


_NETWORKS_LOCK = threading.Lock()


def _base(page: Page) -> engine.NetworkArrays:
    """The drawn network, its batched CPTs stored draws-last (kept on the page: its plan and constants are cached on it)."""
    hit = page.networks.get("drawn")
    if hit is None:
        with _NETWORKS_LOCK:
            hit = page.networks.get("drawn")
            if hit is None:
                hit = page.networks["drawn"] = _draws_last(page.drawn.network)
    return hit


_POINT_MASSES: dict = {}


def _point_mass(net: engine.NetworkArrays, v: str, k: int) -> np.ndarray:
    """``v``'s CPT replaced by all mass on state ``k`` whatever its parents, shaped like its CPT (draws-last when batched).

    For a root with prior > 0 at ``k`` this is conditioning on ``v = k``; for any
    node it is ``do(v = k)``: the truncated factorisation keeps every other CPT
    and puts all of ``v``'s mass on ``k``, so the graph need not be cut and the
    network keeps its structure (and its plan).
    """
    shape, batched = np.shape(net.cpts[v]), net.is_batched(v)
    key = (shape, batched, k)
    hit = _POINT_MASSES.get(key)
    if hit is None:
        if batched:  # draws last in memory, as _draws_last stores them
            mass = np.zeros((*shape[1:], shape[0]))
            mass[k] = 1.0
            hit = np.moveaxis(mass, -1, 0)
        else:
            hit = np.zeros(shape)
            hit[k] = 1.0
        hit.setflags(write=False)
        _POINT_MASSES[key] = hit
    return hit


def _fixed_question(
    page: Page, net: engine.NetworkArrays, evidence: Mapping[str, str], do: Mapping[str, str]
) -> tuple[engine.NetworkArrays, dict[str, np.ndarray]]:
    """A setting as the page's one fixed question: ``(network with the same structure, a likelihood row per caused control)``.

    Every control with causes gets a ``(1, card)`` row: ones for "unknown" (no
    evidence), 0/1 for an observed state. A root's finding and any ``do()``
    replace the node's CPT by a point mass (:func:`_point_mass`): same structure,
    so the same plan serves every setting. An observed root state with prior 0
    in some draw goes to a likelihood row instead, so the engine still raises.
    """
    both = sorted(set(evidence) & set(do))
    if both:
        raise BayesCMOError(f"'{both[0]}' is both observed (evidence) and intervened on (do); choose one")
    folded, likelihoods = {}, {}
    for v in dict.fromkeys((*page.controls, *evidence, *do)):
        if v in do:
            folded[v] = _point_mass(net, v, page.model.states(v).index(do[v]))
            if net.parents[v]:
                likelihoods[v] = np.ones((1, len(net.states[v])))
            continue
        k = page.model.states(v).index(evidence[v]) if v in evidence else None
        if not net.parents[v]:
            if k is not None:
                if (np.asarray(net.cpts[v])[..., k] > 0).all():
                    folded[v] = _point_mass(net, v, k)
                else:
                    likelihoods[v] = np.eye(len(net.states[v]))[[k]]
            continue
        row = np.ones((1, len(net.states[v])))
        if k is not None:
            row[:] = 0.0
            row[0, k] = 1.0
        likelihoods[v] = row
    if folded:
        net = engine.with_cpts(net, **folded)  # same structure: the same plan
    return net, likelihoods



def outcome_draws(page: Page, evidence: Mapping[str, str], do: Mapping[str, str]) -> dict[str, np.ndarray]:
    """``P(target | evidence, do)`` per target, ``(D, K)``: one contraction, one plan for every setting.

    Same numbers as ``posterior(page.drawn, page.targets, evidence, do)`` (a
    test checks it); impossible settings raise its message.
    """
    net, likelihoods = _fixed_question(page, _base(page), evidence, do)
    targets = list(page.targets)
    try:
        joint = engine.query(net, targets, likelihoods=likelihoods)[:, 0]  # (D, K1, K2, ...)
    except ZeroProbabilityEvidence:
        posterior(page.drawn, targets, dict(evidence), dict(do))  # raises the usual message, naming the conflict
        raise
    axes = range(1, joint.ndim)
    return {t: joint.sum(axis=tuple(a for a in axes if a != i + 1)) for i, t in enumerate(targets)}


def warm(page: Page, *, stop: threading.Event | None = None) -> int:
    """Compile, ahead of the first click, the one plan of what to measure next (the outcomes' plan is made with the page).

    Run in a background thread at start-up. Returns how many plans it prepared (0: already done or stopped).
    """
    if (stop is not None and stop.is_set()) or page.networks.get("voi_warm"):
        return 0
    best_next(page, {}, {}, stop=stop)
    page.networks["voi_warm"] = True
    return 1


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


def _candidates(page: Page) -> list[str]:
    """What the page may suggest measuring: every control in the paper's groups (the same list for every setting)."""
    return [n for g in page.groups.values() for n in g]


def best_next(
    page: Page, evidence: Mapping[str, str], do: Mapping[str, str], *, stop: threading.Event | None = None
) -> dict[str, tuple[str, float]] | None:
    """For each target, the unset factor whose measurement would move it most (expected absolute change).

    Value of information at the elicited values (``value_of_information``'s
    numbers, a test checks it) for every target and every candidate from one
    backward pass (:func:`bayes_cmo.planning.voi.pair_joints`), asked as the
    page's fixed question (:func:`_fixed_question`; every candidate
    differentiated whether set or not), so one plan serves every setting. ``{}`` when nothing
    is left to measure or the setting is impossible; ``None`` when ``stop`` was
    set first (the setting changed meanwhile).
    """
    nodes = _candidates(page)
    free = [n for n in nodes if n not in evidence and n not in do]
    if not free:
        return {}
    if stop is not None and stop.is_set():
        return None
    net, likelihoods = _fixed_question(page, page.model.network, evidence, do)
    targets = list(page.targets)
    p_evidence, joints = pair_joints(net, targets, nodes, likelihoods)
    out = {}
    for target in targets:
        if not np.all(p_evidence[target] > 0):
            return {}
        k = target_state(page.model, target)  # value_of_information's default: the highest state
        best = None
        for node in free:
            joint = joints[target][node]
            change, bits = float(expected_abs_change(joint, k)), float(mutual_information_bits(joint))
            if best is None or (change, bits) > best[1:]:  # ties: more bits, then the earlier candidate
                best = (node, change, bits)
        out[target] = best[:2]
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
