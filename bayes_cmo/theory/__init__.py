"""Stage 1 — the programme theory as data: value objects and the priors-folder loader."""

from .load import default_priors_path, load_theory
from .objects import ROLES, Claim, Headline, Link, Node, Scenario, Theory, known_node, known_state

__all__ = ["ROLES", "Claim", "Headline", "Link", "Node", "Scenario", "Theory", "default_priors_path", "known_node", "known_state", "load_theory"]
