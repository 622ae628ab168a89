"""A query's background: evidence, interventions and a named scenario, merged and checked once.

Every query-like verb takes ``evidence=``, ``do=`` and ``scenario=`` and turns
them into one :class:`Background` here (or is handed one already built):
node and state names checked against the model, a scenario's findings merged
with the explicit ones (a contradiction is an error), and a node both observed
and intervened on refused. The engine then sees only names it knows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .. import _validate as check
from .._errors import BayesCMOError, ZeroProbabilityEvidence
from ..engine import core as _engine
from ..network.model import Model
from ..theory import Scenario


@dataclass(frozen=True)
class Background:
    """Findings (``evidence``) and interventions (``do``) of a query, checked against one model.

    ``scenario`` is the id of the scenario merged in, if any. Build with
    :meth:`of`; the mappings are read-only.
    """

    evidence: Mapping[str, str] = field(default_factory=dict)
    do: Mapping[str, str] = field(default_factory=dict)
    scenario: str | None = None

    @classmethod
    def of(
        cls,
        model: Model,
        evidence: Mapping[str, str] | Background | None = None,
        do: Mapping[str, str] | None = None,
        scenario: Scenario | str | None = None,
    ) -> Background:
        """The merged, checked background (``evidence`` may already be a Background)."""
        if isinstance(evidence, Background):
            if do or scenario:
                raise BayesCMOError("give a Background or evidence/do/scenario, not both")
            return evidence
        states = model.network.states
        chosen = resolve_scenario(model, scenario)
        findings = dict(check.findings(states, chosen.evidence, "evidence")) if chosen else {}
        interventions = dict(check.findings(states, chosen.do, "do")) if chosen else {}
        for given, merged, what in ((evidence, findings, "evidence"), (do, interventions, "do")):
            for node, state in check.findings(states, given, what).items():
                if node in merged and merged[node] != state:
                    raise BayesCMOError(f"{what}: {node}={state} contradicts scenario '{chosen.id}' ({node}={merged[node]})")
                merged[node] = state
        both = sorted(set(findings) & set(interventions))
        if both:
            raise BayesCMOError(f"'{both[0]}' is both observed (evidence) and intervened on (do); choose one")
        return cls(MappingProxyType(findings), MappingProxyType(interventions), chosen.id if chosen else None)

    @property
    def fixed(self) -> set[str]:
        """Nodes the background fixes (observed or set)."""
        return set(self.evidence) | set(self.do)

    def free(self, node: str, role: str) -> str:
        """``node`` unless the background fixes it: a one-line error naming how."""
        for given, how in ((self.evidence, "observed"), (self.do, "intervened on")):
            if node in given:
                raise BayesCMOError(
                    f"{role} '{node}' is already {how} in the background ({node}={given[node]}); "
                    f"drop it from the evidence, do or scenario"
                )
        return node

    def network(self, model: Model) -> _engine.NetworkArrays:
        """The model's arrays with the interventions applied (graph surgery)."""
        return _engine.intervene(model.network, dict(self.do)) if self.do else model.network

    def describe(self) -> str:
        parts = [f"{k}={v}" for k, v in self.evidence.items()] + [f"do({k}={v})" for k, v in self.do.items()]
        return ", ".join(parts) or "nothing observed"

    def __bool__(self) -> bool:
        return bool(self.evidence or self.do)


def resolve_scenario(model: Model, scenario: Scenario | str | None) -> Scenario | None:
    """A scenario of the model's theory by id (or as given)."""
    if scenario is None or isinstance(scenario, Scenario):
        return scenario
    if model.theory is None:
        raise BayesCMOError(f"unknown scenario '{scenario}': {model.source or 'this model'} is a network file and has no scenarios")
    return model.theory.scenario(str(scenario))


def check_model(model: Any) -> Model:
    return check.instance(model, "model", Model, "a Model (see load_model or build_model)")


def check_targets(model: Model, targets: Sequence[str] | str, name: str = "target") -> list[str]:
    """Known target nodes, each once."""
    chosen = check.distinct(targets, name)
    for target in chosen:
        check.node(model.network.states, target, name)
    return chosen


def target_state(model: Model, target: str, state: str | None = None) -> int:
    """Index of ``state`` of ``target`` (default: its highest state)."""
    states = model.states(target)
    return len(states) - 1 if state is None else states.index(check.state(states, target, state, "state"))


def free_targets(targets: Sequence[str], background: Background) -> None:
    """Targets the background does not fix: one line naming the finding otherwise."""
    for target in targets:
        for given, how in ((background.evidence, "observed"), (background.do, "intervened on")):
            if target in given:
                raise BayesCMOError(
                    f"target '{target}' is fixed by the background ({how}: {target}={given[target]}); "
                    "drop it from the targets or from the evidence, do or scenario"
                )


def impossible(background: Background, net: _engine.NetworkArrays, how: str = "") -> ZeroProbabilityEvidence:
    """The one wording for a background with probability zero, naming its smallest impossible part.

    ``how`` replaces the default "under the model" (e.g. "under do(x=a)", "to sample").
    """
    findings = dict(background.evidence)
    under = how or (f"under do({', '.join(f'{k}={v}' for k, v in background.do.items())})" if background.do else "under the model")
    given = ", ".join(f"{k}={v}" for k, v in findings.items()) or "nothing observed"
    why = ""
    subset = _engine.smallest_conflict(net, findings) if findings else None
    if subset and len(subset) < len(findings):
        named = ", ".join(f"{k}={v}" for k, v in subset.items())
        why = f"; {named} " + ("is impossible on its own" if len(subset) == 1 else "cannot occur together")
    elif len(findings) > 1:
        why = "; these findings cannot occur together"
    return ZeroProbabilityEvidence(f"the evidence {given} has probability zero {under}{why}")
