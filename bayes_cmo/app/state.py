"""What the page computes, without any web framework: one :func:`answer` per change of a control.

Kept apart from the Shiny code so the benchmark (``benchmarks/page.py``) and
the tests time and check exactly what the page runs. Everything goes through
the public API: ``posterior`` / ``what_if`` on ``model.with_draws`` for the
outcomes, ``value_of_information`` for what to measure next.
"""

from __future__ import annotations

import inspect
from functools import lru_cache
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

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
    base = posterior(drawn, list(targets))
    return Page(
        model=model,
        drawn=drawn,
        targets=targets,
        shown={t: reported_state(theory, t, model.states(t)) for t in targets},
        good=good_states({t: model.states(t) for t in targets}, theory, good_direction),
        groups={g: tuple(v) for g, v in groups.items()},
        roots=frozenset(n for n in theory.nodes if not theory.parents(n)),
        level=level,
        baseline={t: p[:, model.states(t).index(reported_state(theory, t, model.states(t)))] for t, p in base.items()},
    )


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


def best_next(page: Page, evidence: Mapping[str, str], do: Mapping[str, str]) -> dict[str, tuple[str, float]]:
    """For each target, the unset factor whose measurement would move it most (expected absolute change)."""
    out = {}
    kwargs = {"do": dict(do)} if _voi_supports_do() else {}
    given = dict(evidence) if kwargs else {**evidence, **do}  # older VOI: interventions as findings
    for target in page.targets:
        candidates = [n for g in page.groups.values() for n in g if n not in evidence and n not in do]
        if not candidates:
            continue
        frame = value_of_information(page.model, target, evidence=given, candidates=candidates, **kwargs)
        top = frame.sort_values("expected_abs_change", ascending=False).iloc[0]
        out[target] = (str(top["node"]), float(top["expected_abs_change"]))
    return out


def answer(page: Page, settings: Mapping[str, str], how: Mapping[str, str] | None = None, *, voi: bool = True) -> Answer:
    """The outcomes under the current controls, with intervals on the change from the baseline."""
    evidence, do = split_settings(settings, how or {})
    return _answer(page, tuple(sorted(evidence.items())), tuple(sorted(do.items())), voi)


@lru_cache(maxsize=256)  # going back to an earlier setting is free
def _answer(page: Page, evidence_items: tuple, do_items: tuple, voi: bool) -> Answer:
    evidence, do = dict(evidence_items), dict(do_items)
    try:
        now = posterior(page.drawn, list(page.targets), evidence, do)
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


def next_factors(page: Page, settings: Mapping[str, str], how: Mapping[str, str] | None = None) -> dict[str, tuple[str, float]]:
    """Only what to measure next (the page computes it in the background, after the outcomes)."""
    evidence, do = split_settings(settings, how or {})
    return _next(page, tuple(sorted(evidence.items())), tuple(sorted(do.items())))


@lru_cache(maxsize=256)
def _next(page: Page, evidence_items: tuple, do_items: tuple) -> dict[str, tuple[str, float]]:
    try:
        return best_next(page, dict(evidence_items), dict(do_items))
    except ZeroProbabilityEvidence:
        return {}


def same_either_way(page: Page, node: str) -> bool:
    """Observing and intervening give the same answer for a node with no causes in the theory."""
    return node in page.roots


def state_choices(page: Page, node: str) -> dict[str, str]:
    return {UNKNOWN: "unknown", **{s: state_text(s) for s in page.model.states(node)}}
