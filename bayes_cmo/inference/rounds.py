"""The feedback loops unrolled over rounds: the time view.

The one-round network stages the theory's loops (a mechanism at entry, the same
mechanism during functioning, outcomes after) and keeps the loop-closing links
aside with ``lag: 1``. Here those links come back: every node downstream of a
lagged link is copied once per round (``NODE_r1``, ``NODE_r2``, ...), its
same-round links connect nodes of the same round, and each lagged link connects
round ``r - 1`` to round ``r`` (an outcome of round 1 feeds a mechanism of round 2).
Contexts and entry-stage nodes are shared by all rounds. In round 1 a lagged
link has no previous round and contributes nothing (its parent sits at the
neutral midpoint, score 0); from round 2 on a lagged parent without a reference
state is referenced at that same state, so that a round whose lagged inputs sit
where round 1 assumes them has round 1's tables.

The unrolled network is built by hand as an ordinary DAG (pgmpy's
``DBNInference`` was seen to give wrong answers from the second time slice on
for this shape) from the same judgements: a link's weight is shared by all
rounds, in point values and in every parameter draw.
"""

from __future__ import annotations

import dataclasses

from .. import _validate as check
from .._errors import BayesCMOError
from ..network.elicitation import Parameters, elicited_parameters
from ..network.model import Model, build_model
from ..theory import Link, Node, Theory


MAX_ROUNDS = 50
MIN_SAMPLES = 100


def round_name(node: str, r: int) -> str:
    return f"{node}_r{r}"


def dynamic_nodes(theory: Theory) -> tuple[str, ...]:
    """Nodes that change from round to round: lagged-link targets and everything downstream."""
    graph = theory.graph()
    import networkx as nx

    seeds = {link.target for link in theory.links if link.lag == 1}
    out = set(seeds)
    for seed in seeds:
        out |= nx.descendants(graph, seed)
    return tuple(n for n in theory.order() if n in out)


def _lagged_midpoints(theory: Theory) -> dict[str, str]:
    """Lagged-link sources without a reference state: the state scored 0 on all their lagged links (round 1's)."""
    if not theory.reference:
        return {}
    out = {}
    for link in theory.links:
        if link.lag != 1 or link.source in theory.reference or link.source in out:
            continue
        lagged = [lk for lk in theory.links if lk.lag == 1 and lk.source == link.source]
        zero = [k for k in range(theory.nodes[link.source].card) if all(lk.scores[k] == 0.0 for lk in lagged)]
        if zero:
            out[link.source] = theory.nodes[link.source].states[zero[0]]
    return out


def unroll_theory(theory: Theory, rounds: int) -> tuple[Theory, dict[str, str], dict[str, str]]:
    """The theory over ``rounds`` rounds, with maps unrolled id -> original id for links and nodes."""
    rounds = check.integer(rounds, "rounds", 1, MAX_ROUNDS)
    dynamic = set(dynamic_nodes(theory))
    if not dynamic:
        raise BayesCMOError(f"{theory.path}: no link has 'lag: 1', so there is no loop to unroll over rounds")

    def name(node: str | None, r: int) -> str | None:
        return None if node is None else (round_name(node, r) if node in dynamic else node)

    nodes: dict[str, Node] = {}
    node_map: dict[str, str] = {}
    for node_id, node in theory.nodes.items():
        copies = range(1, rounds + 1) if node_id in dynamic else [0]
        for r in copies:
            new_id = name(node_id, r) if r else node_id
            nodes[new_id] = dataclasses.replace(node, id=new_id, label=node.label + (f" (round {r})" if r else ""))
            node_map[new_id] = node_id
    links: list[Link] = []
    link_map: dict[str, str] = {}
    for r in range(1, rounds + 1):
        for link in theory.links:
            if link.target not in dynamic and r > 1:
                continue  # a static node's links exist once
            if link.lag == 1 and r == 1:
                continue  # no previous round: the parent sits at its neutral midpoint
            source_round = r - link.lag
            new = Link(
                source=name(link.source, source_round),
                target=name(link.target, r),
                sign=link.sign,
                strength=link.strength,
                strength_label=link.strength_label,
                confidence=link.confidence,
                scores=link.scores,
                moderator=name(link.moderator, source_round if link.lag else r),
                multipliers=link.multipliers,
                lag=0,
                evidence=link.evidence,
                citation=link.citation,
                sd=link.sd,
            )
            link_map[new.id] = link.id
            links.append(new)
    if theory.tables:
        raise BayesCMOError(
            f"{theory.path}: explicit tables ({', '.join(theory.tables)}) cannot be unrolled yet; "
            "remove tables/ to use the round-by-round view"
        )
    # Every round's copy keeps its node's reference state (baselines stay "in a partnership like this").
    reference = {new: theory.reference[old] for new, old in node_map.items() if old in theory.reference}
    # A lagged source without one (an outcome such as task achievement) is referenced at the state where
    # round 1 leaves it (score 0 on its lagged links): else its round-r children would lose their reference
    # centring altogether and every link into them would shift their baseline from round 2 on.
    for node_id, state in _lagged_midpoints(theory).items():
        reference.update({new: state for new, old in node_map.items() if old == node_id})
    unrolled = Theory(nodes=nodes, links=tuple(links), path=theory.path, reference=reference)
    return unrolled, link_map, node_map


def unroll(theory: Theory, rounds: int, parameters: Parameters | None = None) -> Model:
    """A model of ``rounds`` rounds sharing ``parameters`` (default: the elicited point values)."""
    unrolled, link_map, node_map = unroll_theory(theory, rounds)
    parameters = parameters or elicited_parameters(theory)
    shared = Parameters(
        weights={new: parameters.weights[old] for new, old in link_map.items()},
        baselines={new: parameters.baselines[old] for new, old in node_map.items()},
        tables={},
        n_draws=parameters.n_draws,
    )
    return build_model(unrolled, shared, source=f"{theory.path} unrolled over {rounds} rounds")
