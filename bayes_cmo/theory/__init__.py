"""Stage 1 — the programme theory as data: value objects and the priors-folder loader."""

from .load import SHIPPED, default_priors_path, load_theory, priors_path
from .objects import ROLES, Claim, Headline, Link, Node, Scenario, Theory, known_node, known_state

__all__ = [
    "ROLES",
    "SHIPPED",
    "Claim",
    "Headline",
    "Link",
    "Node",
    "Scenario",
    "Theory",
    "default_priors_path",
    "known_node",
    "known_state",
    "load_theory",
    "priors_path",
]
