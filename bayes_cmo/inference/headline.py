"""The headline questions of a model: ``headline.yaml`` of its priors folder, or defaults.

Library code never names a node of the shipped theory; the defaults of the
verbs, the report and the CLI come from here. Without a headline section the
targets are the theory's outcomes (for a network file: its nodes without
children), each reported at its highest state; a missing context, absorbing
outcome or link is a one-line error naming the key.
"""

from __future__ import annotations

from .._errors import BayesCMOError
from ..network.model import Model
from ..theory import Headline, Theory


def headline(model: Model | Theory) -> Headline:
    theory = model if isinstance(model, Theory) else model.theory
    return theory.headline if theory is not None else Headline()


def _where(theory: Theory | None) -> str:
    return f"{theory.path / 'headline.yaml'}" if theory is not None and theory.path else "headline.yaml"


def targets(model: Model) -> dict[str, str]:
    """Headline outcome -> reported state (default: every outcome, or leaf node, at its highest state)."""
    chosen = dict(headline(model).targets)
    if chosen:
        return chosen
    theory = model.theory
    if theory is not None:
        nodes = [n for n in theory.order() if theory.nodes[n].role == "outcome"]
    else:
        parents = {p for v in model.variables for p in model.network.parents[v]}
        nodes = [v for v in model.variables if v not in parents]
    return {n: model.states(n)[-1] for n in nodes}


def reported_state(model: Model, target: str) -> str:
    """The state reported for ``target``: its headline state, else its highest."""
    return headline(model).targets.get(target) or model.states(target)[-1]


def context(model: Model) -> str:
    """The headline context, or a one-line error naming the key."""
    chosen = headline(model).context
    if chosen is None:
        raise BayesCMOError(f"{_where(model.theory)}: no 'context' key; name the context (--context NODE) or add 'context: NODE'")
    return chosen


def absorbing(theory: Theory) -> tuple[str, str]:
    """(outcome, state) that ends a partnership in the time view, or a one-line error naming the key."""
    h = headline(theory)
    if h.absorbing is None:
        raise BayesCMOError(
            f"{_where(theory)}: no 'absorbing' key; the round-by-round view needs the outcome that ends a "
            "partnership (absorbing: {node: NODE, state: STATE})"
        )
    return h.absorbing, h.absorbing_state


def link(theory: Theory) -> str:
    """The link a sample-size plan settles by default, or a one-line error naming the key."""
    chosen = headline(theory).link
    if chosen is None:
        raise BayesCMOError(f"{_where(theory)}: no 'link' key; name the link (--link FROM:TO) or add 'link: FROM:TO'")
    return chosen
