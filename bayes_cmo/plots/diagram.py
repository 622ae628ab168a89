"""The theory diagram's geometry and colours, without matplotlib: shared by the figure and the page's SVG.

Kept apart from ``theory.py`` so the what-if page draws its network without
importing matplotlib or seaborn (seconds of start-up).
"""

from __future__ import annotations

from ..theory import Theory
from .layout import BOX_H, Layout, layered

ROLE_COLOURS = {"context": "#e8eef7", "mechanism": "#fdf1dc", "outcome": "#e3f2e8"}
#: Okabe-Ito blue and vermillion: an arc that raises its target, one that lowers it.
SIGN_COLOURS = {1: "#0072B2", -1: "#D55E00"}
FEEDBACK_COLOUR = "0.55"


def theory_layout(theory: Theory) -> Layout:
    """The layered layout of the theory's one-round network (feedback links are routed separately)."""
    nodes = list(theory.order())
    roles = {r: i for i, r in enumerate(("context", "mechanism", "outcome"))}
    return layered(
        nodes,
        [(link.source, link.target) for link in theory.dag_links],
        order_key=lambda n: (roles.get(theory.nodes[n].role, 0), nodes.index(n)),
    )


def fan(layout: Layout, arcs: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[float, float]]:
    """Spread the arcs leaving / entering one label over its height, ordered by where the other end is."""
    pos = layout.position
    spread = BOX_H * 0.7
    offsets: dict[tuple[str, str], list[float]] = {a: [0.0, 0.0] for a in arcs}
    for end, other in ((0, 1), (1, 0)):
        by_node: dict[str, list[tuple[str, str]]] = {}
        for arc in arcs:
            by_node.setdefault(arc[end], []).append(arc)
        for group in by_node.values():
            chain = lambda a: layout.chains[a]  # noqa: E731
            near = (lambda a: pos[chain(a)[1]][1]) if end == 0 else (lambda a: pos[chain(a)[-2]][1])
            group.sort(key=near, reverse=True)
            n = len(group)
            for i, arc in enumerate(group):
                offsets[arc][end] = spread / 2 - spread * (i + 0.5) / n if n > 1 else 0.0
    return {a: (o[0], o[1]) for a, o in offsets.items()}
