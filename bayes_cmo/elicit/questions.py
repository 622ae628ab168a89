"""The questions a programme theory asks its experts: one per link (per moderator state), one per baseline state.

Ids: ``FROM:TO`` for a link (``FROM:TO@lag1`` for a feedback link, as
:attr:`Link.id`), ``FROM:TO@MODERATOR=STATE`` for each state of a moderated
link's moderator, ``NODE=STATE`` for a baseline. The wording comes from the
theory (labels, states, the paper's sentence in each link's citation), so a
new priors folder gets its own questionnaire without code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..theory import Link, Node, Theory

#: What a link does as its source moves from its low pole to its high pole.
DIRECTIONS = ("raises", "lowers", "no effect", "don't know")


@dataclass(frozen=True)
class LinkQuestion:
    """How does ``link.source`` move ``link.target`` (in one moderator state, if moderated)?"""

    id: str
    link: Link
    moderator_state: str | None
    label: str  # short: "Source label -> Target label | Moderator label = state"
    statement: str
    citation: str
    multiplier: float  # the theory's multiplier in this moderator state (1 without a moderator)


@dataclass(frozen=True)
class BaselineQuestion:
    """How likely is ``node`` in ``state`` at the reference case (or the neutral midpoint)?"""

    id: str
    node: Node
    state: str
    question: str


def _lower_first(text: str) -> str:
    """'Initial level' -> 'initial level', but 'NHS board' stays."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def _state(state: str) -> str:
    return state.replace("_", " ")


def _poles(theory: Theory, link: Link) -> tuple[str, str]:
    """The source's lowest- and highest-scored states: what 'from low to high' means for this link."""
    states = theory.nodes[link.source].states
    scores = list(link.scores)
    return states[scores.index(min(scores))], states[scores.index(max(scores))]


def citation_text(citation: Mapping) -> str:
    """The paper's section and sentence, as one line."""
    section = str(citation.get("section", "")).strip()
    sentence = str(citation.get("cmo", "")).strip()
    rest = [f"{k}: {v}" for k, v in citation.items() if k not in ("section", "cmo")]
    parts = [p for p in (section, f'"{sentence}"' if sentence else "", *rest) if p]
    return " — ".join(parts)


def link_questions(theory: Theory) -> tuple[LinkQuestion, ...]:
    """One question per link (links into a node with an explicit table are not asked: the table decides)."""
    out = []
    for link in theory.links:
        if link.target in theory.tables:
            continue
        source, target = theory.nodes[link.source], theory.nodes[link.target]
        low, high = _poles(theory, link)
        cite = citation_text(link.citation)
        when = " in the next round" if link.lag else ""
        base_label = f"{source.label} → {target.label}" + (" (next round)" if link.lag else "")

        def sentence(sign: float, prefix: str = "") -> str:
            verb = "raises" if sign > 0 else "lowers" if sign < 0 else "does not change"
            towards = f" (towards {_state(target.states[-1 if sign > 0 else 0])})" if sign else ""
            return (
                f"{prefix}moving {_lower_first(source.label)} from {_state(low)} to {_state(high)} "
                f"{verb} {_lower_first(target.label)}{towards}{when}"
            )

        if link.moderator is None:
            text = sentence(link.sign)
            out.append(LinkQuestion(link.id, link, None, base_label, text[0].upper() + text[1:], cite, 1.0))
            continue
        moderator = theory.nodes[link.moderator]
        for state, multiplier in zip(moderator.states, link.multipliers, strict=True):
            text = sentence(link.sign * multiplier, f"When {_lower_first(moderator.label)} is {_state(state)}: ")
            out.append(
                LinkQuestion(
                    id=f"{link.id}@{moderator.id}={state}",
                    link=link,
                    moderator_state=state,
                    label=f"{base_label} | {moderator.label} = {_state(state)}",
                    statement=text,
                    citation=cite,
                    multiplier=float(multiplier),
                )
            )
    return tuple(out)


def reference_case(theory: Theory) -> dict[str, str] | None:
    """The theory's reference case as node -> state, if its priors define one.

    Read defensively: a mapping, or an object carrying one (``states``,
    ``evidence``, ``case``); None when the priors have no reference case.
    """
    ref = getattr(theory, "reference", None)
    if ref is None:
        return None
    if not isinstance(ref, Mapping):
        for name in ("states", "evidence", "case", "findings"):
            inner = getattr(ref, name, None)
            if isinstance(inner, Mapping):
                ref = inner
                break
        else:
            return None
    case = {str(k): str(v) for k, v in ref.items() if str(k) in theory.nodes and not isinstance(v, Mapping)}
    return case or None


def baseline_questions(theory: Theory) -> tuple[BaselineQuestion, ...]:
    """One question per state of every node whose table is generated (not explicit)."""
    reference = reference_case(theory)
    out = []
    for node in theory.nodes.values():
        if node.id in theory.tables:
            continue
        parents = theory.parents(node.id)
        for state in node.states:
            what = f"how likely is {_lower_first(node.label)} to be {_state(state)}"
            if not parents:
                text = f"In a partnership like those the review describes, {what}?"
            elif reference and any(p in reference for p in parents):
                given = ", ".join(
                    f"{_lower_first(theory.nodes[p].label)} {_state(reference[p])}" for p in parents if p in reference
                )
                rest = [_lower_first(theory.nodes[p].label) for p in parents if p not in reference]
                others = f"; {', '.join(rest)} halfway between their poles" if rest else ""
                text = f"In the reference partnership ({given}{others}), {what}?"
            else:
                names = ", ".join(_lower_first(theory.nodes[p].label) for p in parents)
                text = f"If every influence on it sat halfway between its poles ({names}), {what}?"
            out.append(BaselineQuestion(f"{node.id}={state}", node, state, text))
    return tuple(out)
