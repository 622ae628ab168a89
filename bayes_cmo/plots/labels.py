"""Words shown to people: the paper's labels, good/bad poles, percentages (pure; no matplotlib).

Figures, the report and the page share these, so a node reads the same
everywhere (a node's label, not its snake_case id); ids stay in CSV and
``--json``.
"""

from __future__ import annotations

import re
from .. import _format
from collections.abc import Mapping, Sequence

from .._errors import BayesCMOError, did_you_mean

#: Okabe-Ito colours (colour-blind safe): good for the partnership, bad, neutral.
GOOD, BAD, NEUTRAL = "#0072B2", "#D55E00", "#8C8C8C"
#: Colours for the two query modes (Okabe-Ito bluish green and reddish purple).
MODE_COLOURS = {"observe": "#009E73", "do": "#CC79A7"}

#: One sentence each, used wherever the two modes are shown.
OBSERVE_TEXT = "we observe this: we learn that it holds, which also tells us about what usually causes it"
DO_TEXT = "we make this so: we set it by intervention (the 'do' operator), cutting it loose from its causes in the theory"


def state_text(state: str) -> str:
    """``policy_directive`` -> ``policy directive``."""
    return str(state).replace("_", " ")


def node_label(theory, node: str) -> str:
    """The paper's label of ``node`` (its id, spaced and capitalised, without a theory or label)."""
    nodes = getattr(theory, "nodes", None) or {}
    if node in nodes and getattr(nodes[node], "label", ""):
        return nodes[node].label
    text = state_text(node)
    return text[:1].upper() + text[1:]


def node_labels(theory, nodes: Sequence[str] | None = None) -> dict[str, str]:
    ids = list(nodes) if nodes is not None else list(getattr(theory, "nodes", {}) or {})
    return {n: node_label(theory, n) for n in ids}


def outcome_text(theory, target: str, state: str) -> str:
    """``P(Node label: state)``."""
    return f"P({node_label(theory, target)}: {state_text(state)})"


def _headline_value(theory, key: str):
    headline = getattr(theory, "headline", None)
    if headline is None:
        return None
    return headline.get(key) if isinstance(headline, Mapping) else getattr(headline, key, None)


def reported_state(theory, target: str, states: Sequence[str]) -> str:
    """The state shown for ``target``: the one the headline section reports, else the highest."""
    declared = _headline_value(theory, "targets")
    state = declared.get(target) if isinstance(declared, Mapping) else None
    return state if state in states else states[-1]


def _declared_good(theory, states: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Good poles the theory declares: an explicit mapping in its headline section, else the pole
    opposite the state that ends a partnership (the time view's absorbing outcome)."""
    for key in ("good", "good_states", "desirable", "good_direction"):
        value = _headline_value(theory, key)
        if isinstance(value, Mapping):
            return {str(k): str(v) for k, v in value.items()}
    node, state = _headline_value(theory, "absorbing"), _headline_value(theory, "absorbing_state")
    if isinstance(node, Mapping):  # {node: ..., state: ...}
        node, state = node.get("node"), node.get("state")
    if node in states and state in states[node] and state in (states[node][0], states[node][-1]):
        return {node: states[node][-1] if state == states[node][0] else states[node][0]}
    return {}


def good_states(
    states: Mapping[str, Sequence[str]], theory=None, good_direction: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The state that is good for the partnership, per node in ``states``.

    ``good_direction`` (``{node: state}``) first, then what the theory's
    headline section declares (a ``good`` mapping, or the pole opposite the
    absorbing state that ends a partnership), else the node's highest state.
    """
    declared = _declared_good(theory, states)
    for node, state in (good_direction or {}).items():
        if node not in states:
            raise BayesCMOError(f"good_direction: unknown node '{node}'{did_you_mean(node, list(states))}")
        if state not in states[node]:
            raise BayesCMOError(
                f"good_direction: unknown state '{state}' for {node} (expected one of {', '.join(states[node])})"
                f"{did_you_mean(state, states[node])}"
            )
        declared[node] = state
    return {n: (declared[n] if declared.get(n) in s else s[-1]) for n, s in states.items()}


def goodness(states: Sequence[str], shown: str, good: str) -> int:
    """+1 if a rise in P(shown) is good for the partnership, -1 if bad, 0 if neither pole."""
    states = list(states)
    s, g = states.index(shown), states.index(good)
    if s == g:
        return 1
    if {s, g} == {0, len(states) - 1}:
        return -1
    return 0


def pct(value: float, digits: int = 1) -> str:
    """A probability as a percentage: ``41.2%``."""
    return _format.percent(value, digits)


def pp(value: float, digits: int = 1) -> str:
    """A change of probability in percentage points, signed: ``+1.4 pp``."""
    return _format.points(value, digits, unit=" pp")


def interval(low: float, high: float, points: bool = False, digits: int = 1) -> str:
    """``[12.3, 14.0]`` (percent) or ``[+0.3, +3.2]`` (percentage points)."""
    return _format.interval(low, high, points, digits, sign=False)


def judgement_text(judgement: str, names: Mapping[str, str] | None = None) -> str:
    """``baseline:NODE`` / ``FROM:TO`` in words, with ``names`` (id -> label)."""
    names = names or {}

    def name(node: str) -> str:
        return names.get(node) or (state_text(node)[:1].upper() + state_text(node)[1:])

    if judgement.startswith("baseline:"):
        node, _, state = judgement.split(":", 1)[1].partition("=")
        return f"baseline of {name(node).lower()}" + (f": {state_text(state)}" if state else "")
    parts = re.split(r"[:@]", judgement)
    if len(parts) >= 2:
        return f"{name(parts[0])} → {name(parts[1]).lower()}" + (" (next round)" if "@" in judgement else "")
    return state_text(judgement)


def group_of(theory, node: str) -> str:
    """The paper's heading a node belongs to: its first ``Table N (Heading...)`` source, else ``Results > Heading``."""
    source = getattr(theory.nodes[node], "source", "") if node in getattr(theory, "nodes", {}) else ""
    table = re.search(r"Table 3 \(([^):;]+)", source)
    if table:
        return table.group(1).strip()
    section = re.search(r"(?:Results|Table \d+)\s*>?\s*([^;(]+)", source)
    if section:
        return section.group(1).strip().lstrip("> ").strip() or "Other"
    return "Other"


def estimate_text(frame) -> str:
    """Which number a figure shows, from the frame's ``estimate`` column, in words ('' if the frame has none).

    ``point values`` -> "at the point values of the judgements"; ``mean of N
    draws`` -> "mean of N draws of the judgements": the two differ, so every
    figure says which one it shows.
    """
    if "estimate" not in frame.columns:
        return ""
    kinds = list(dict.fromkeys(str(e) for e in frame["estimate"].dropna()))
    words = ["at the point values of the judgements" if k == "point values" else f"{k} of the judgements" for k in kinds]
    return " / ".join(words)
