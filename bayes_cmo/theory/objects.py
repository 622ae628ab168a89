"""The programme theory's value objects: nodes, CMO links, claims, scenarios, the theory.

All frozen; :func:`bayes_cmo.theory.load_theory` builds them from a priors folder.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import graphlib
import heapq

from . import scales
from .. import _validate
from .._errors import BayesCMOError, did_you_mean
from .._lazy import pandas as pd

ROLES = ("context", "mechanism", "outcome")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Node:
    """A context, mechanism or outcome with ordered states (lowest pole first)."""

    id: str
    label: str
    role: str
    states: tuple[str, ...]
    baseline: tuple[float, ...]
    ordered: bool = True
    baseline_confidence: float = scales.DEFAULT_BASELINE_CONFIDENCE
    description: str = ""
    source: str = ""

    @property
    def card(self) -> int:
        return len(self.states)

    def default_scores(self) -> tuple[float, ...]:
        """Evenly spaced from -0.5 (lowest pole) to +0.5 (highest pole)."""
        k = self.card
        return tuple(i / (k - 1) - 0.5 for i in range(k))


@dataclass(frozen=True)
class Link:
    """One CMO step: ``source`` shifts ``target`` by ``weight`` log-odds pole to pole.

    The contribution to the target's linear predictor is
    ``weight * scores[source state] * multipliers[moderator state]``.
    """

    source: str
    target: str
    sign: int
    strength: float
    strength_label: str
    confidence: str
    scores: tuple[float, ...]
    moderator: str | None = None
    multipliers: tuple[float, ...] | None = None
    lag: int = 0
    evidence: Mapping[str, Any] = field(default_factory=dict)
    citation: Mapping[str, Any] = field(default_factory=dict)
    sd: float | None = None  # explicit weight sd (e.g. a posterior), overrides confidence
    confidence_sd: float | None = None  # what the folder's confidence_scale makes of `confidence`
    rule_exception: str = ""  # why the link departs from the strength/confidence rules of links.yaml

    @property
    def id(self) -> str:
        """``FROM:TO``; a feedback link is ``FROM:TO@lag1``."""
        return f"{self.source}:{self.target}" + (f"@lag{self.lag}" if self.lag else "")

    @property
    def weight(self) -> float:
        return self.sign * self.strength

    @property
    def weight_sd(self) -> float:
        if self.sd is not None:
            return self.sd
        return self.confidence_sd if self.confidence_sd is not None else scales.CONFIDENCE_SD[self.confidence]

    @property
    def sign_symbol(self) -> str:
        """'+' or '-', as links.yaml writes it."""
        return "+" if self.sign >= 0 else "-"

    def with_weight(self, weight: float, sd: float | None = None, label_digits: int | None = None) -> "Link":
        """The same link with signed ``weight`` (sign, strength and its label from it; ``sd`` if given)."""
        w = float(weight)
        label = f"{abs(w):.{label_digits}g}" if label_digits else f"{abs(w):g}"
        return dataclasses.replace(
            self, sign=-1 if w < 0 else 1, strength=abs(w), strength_label=label, sd=self.sd if sd is None else sd
        )


@dataclass(frozen=True)
class Claim:
    """A checkable programme-theory claim: compare vs against moves target one way."""

    id: str
    statement: str
    compare: Mapping[str, str]
    against: Mapping[str, str]
    target: str
    expect: str
    given: Mapping[str, str] = field(default_factory=dict)
    mode: str = "do"
    citation: Mapping[str, Any] = field(default_factory=dict)
    #: A claim across rounds: the round the target is read in (``target: NODE@2``); keys of
    #: compare/against/given may then be ``NODE@ROUND``. None for a one-round claim.
    target_round: int | None = None
    #: ``mean`` (the target's mean score) or ``hazard`` (the absorbing outcome's per-round rate,
    #: given intact before; compare/against then name rounds: ``{round: 8}`` vs ``{round: 2}``).
    measure: str = "mean"

    @property
    def over_rounds(self) -> bool:
        return self.target_round is not None or self.measure == "hazard" or any(
            "@" in k for k in (*self.compare, *self.against, *self.given)
        )


@dataclass(frozen=True)
class Scenario:
    """A named set of findings (and optional interventions) from the paper's discussion."""

    id: str
    label: str
    evidence: Mapping[str, str]
    do: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    citation: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Headline:
    """The headline questions of a priors folder (``headline.yaml``): what verbs default to.

    ``targets`` maps each headline outcome to the state reported for it;
    ``context`` is the headline context; ``absorbing`` / ``absorbing_state`` the
    outcome (and its state) that ends a partnership in the time view; ``link``
    the link a sample-size plan settles by default. Any may be empty: the
    verbs then use defaults or say which key is missing.
    """

    targets: Mapping[str, str] = field(default_factory=dict)
    context: str | None = None
    absorbing: str | None = None
    absorbing_state: str | None = None
    link: str | None = None
    #: What one round of the time view stands for (e.g. one annual planning cycle).
    round: str = ""


@dataclass(frozen=True, eq=False)  # identity: its tables are DataFrames, which do not compare to a bool
class Theory:
    """A validated programme theory. ``links`` includes lagged (feedback) links."""

    nodes: Mapping[str, Node]
    links: tuple[Link, ...]
    claims: tuple[Claim, ...] = ()
    scenarios: tuple[Scenario, ...] = ()
    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    path: Path | None = None
    headline: Headline = field(default_factory=Headline)
    #: The reference partnership: node -> state at which baselines were elicited (reference.yaml).
    reference: Mapping[str, str] = field(default_factory=dict)
    confidence_scale: str = scales.DEFAULT_CONFIDENCE_SCALE

    def reference_index(self, node: str) -> tuple[int, ...] | None:
        """The reference configuration of ``node``'s parents (state indices), or None.

        None when the node has no parents or some parent has no reference
        state: its baseline then holds with every parent at the neutral midpoint.
        """
        parents = self.parents(node)
        if not parents or any(p not in self.reference for p in parents):
            return None
        return tuple(self.nodes[p].states.index(self.reference[p]) for p in parents)

    # The theory is frozen, so its derived structure is computed once (build_model asks for
    # every node's links and parents several times, and is rebuilt per judgement in sensitivity).

    @cached_property
    def dag_links(self) -> tuple[Link, ...]:
        return tuple(link for link in self.links if link.lag == 0)

    @cached_property
    def _links_into(self) -> dict[str, tuple[Link, ...]]:
        into: dict[str, list[Link]] = {}
        for link in self.dag_links:
            into.setdefault(link.target, []).append(link)
        return {node: tuple(links) for node, links in into.items()}

    @cached_property
    def _parents(self) -> dict[str, tuple[str, ...]]:
        out = {}
        for node, links in self._links_into.items():
            seen = dict.fromkeys(link.source for link in links)
            seen.update(dict.fromkeys(link.moderator for link in links if link.moderator and link.moderator not in seen))
            out[node] = tuple(seen)
        return out

    def links_into(self, node: str) -> tuple[Link, ...]:
        return self._links_into.get(node, ())

    def parents(self, node: str) -> tuple[str, ...]:
        """Parents in the DAG: link sources first, then moderators, in file order."""
        return self._parents.get(node, ())

    def order(self) -> tuple[str, ...]:
        """Node ids in a topological order of the DAG (stable: file order breaks ties)."""
        # networkx's lexicographical_topological_sort, with the standard library's
        # graphlib: networkx takes longer to import than a query takes to answer
        position = {n: i for i, n in enumerate(self.nodes)}
        sorter = graphlib.TopologicalSorter({n: self.parents(n) for n in self.nodes})
        sorter.prepare()
        ready = [(position[n], n) for n in sorter.get_ready()]
        heapq.heapify(ready)
        order = []
        while ready:
            node = heapq.heappop(ready)[1]
            order.append(node)
            sorter.done(node)
            for n in sorter.get_ready():
                heapq.heappush(ready, (position[n], n))
        return tuple(order)

    def graph(self) -> nx.DiGraph:
        import networkx as nx  # lazy: slow to import, and queries do not need it

        graph = nx.DiGraph()
        graph.add_nodes_from(self.nodes)
        graph.add_edges_from((p, n) for n in self.nodes for p in self.parents(n))
        return graph

    def by_role(self, role: str) -> tuple[str, ...]:
        return tuple(n.id for n in self.nodes.values() if n.role == role)

    def link(self, link_id: str) -> Link:
        for link in self.links:
            if link.id == link_id:
                return link
        known = [link.id for link in self.links]
        raise BayesCMOError(
            f"unknown link '{link_id}' (expected FROM:TO){did_you_mean(link_id, known)}"
        )

    def scenario(self, scenario_id: str) -> Scenario:
        for scenario in self.scenarios:
            if scenario.id == scenario_id:
                return scenario
        known = [s.id for s in self.scenarios]
        raise BayesCMOError(f"unknown scenario '{scenario_id}'{did_you_mean(scenario_id, known)}")


def known_node(nodes: Mapping[str, Node], node_id: Any, where: str) -> Node:
    if not isinstance(node_id, str) or node_id not in nodes:
        raise BayesCMOError(f"{where}: unknown node '{node_id}'{did_you_mean(str(node_id), nodes)}")
    return nodes[node_id]


def known_state(node: Node, state: Any, where: str) -> str:
    return _validate.state(node.states, node.id, state, where)
