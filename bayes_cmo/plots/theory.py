"""The programme theory as a figure: contexts left, mechanisms in the middle, outcomes right."""

from __future__ import annotations

import networkx as nx

from ..theory import Theory
from ._style import PALETTE, escape, new_axes

ROLE_COLOURS = {"context": "#e8eef7", "mechanism": "#fdf1dc", "outcome": "#e3f2e8"}
SIGN_COLOURS = {1: PALETTE[0], -1: PALETTE[3]}


def _depths(theory: Theory) -> dict[str, int]:
    """Longest path from a root: the column each node stands in."""
    depth: dict[str, int] = {}
    for node in theory.order():
        parents = theory.parents(node)
        depth[node] = 1 + max((depth[p] for p in parents), default=-1)
    return depth


def plot_theory(theory: Theory, ax=None, *, labels: bool = True):
    """Nodes by role, arcs coloured by sign (dashed: moderated; dotted grey: feedback to the next round)."""
    depth = _depths(theory)
    columns: dict[int, list[str]] = {}
    for node in theory.order():
        columns.setdefault(depth[node], []).append(node)
    tallest = max(len(c) for c in columns.values())
    pos = {
        node: (d, (tallest - 1) / 2 - i * (tallest - 1) / max(len(nodes) - 1, 1) if len(nodes) > 1 else 0.0)
        for d, nodes in columns.items()
        for i, node in enumerate(nodes)
    }
    fig, ax = new_axes(ax, width=2.4 * len(columns) + 1, height=0.42 * tallest + 1.5)
    graph = nx.DiGraph()
    graph.add_nodes_from(theory.nodes)
    for link in theory.links:
        graph.add_edge(link.source, link.target)
        style = "dotted" if link.lag else ("dashed" if link.moderator else "solid")
        colour = "0.6" if link.lag else SIGN_COLOURS[link.sign]
        nx.draw_networkx_edges(
            graph, pos, edgelist=[(link.source, link.target)], ax=ax, edge_color=colour, style=style,
            width=0.4 + 0.35 * link.strength, arrowsize=7, alpha=0.8,
            min_source_margin=12, min_target_margin=14,
            connectionstyle="arc3,rad=0.3" if link.lag else "arc3,rad=0.04",
        )
    for node, (x, y) in pos.items():
        text = escape(theory.nodes[node].label if labels else node)
        ax.text(x, y, text, ha="center", va="center", fontsize=6.5, zorder=5,
                bbox=dict(boxstyle="round,pad=0.3", fc=ROLE_COLOURS[theory.nodes[node].role], ec="0.4", lw=0.5))
    for role, colour in ROLE_COLOURS.items():
        ax.scatter([], [], marker="s", s=60, color=colour, edgecolors="0.4", label=role)
    ax.set_xlim(-0.6, max(columns) + 0.6)
    ax.set_ylim(-(tallest - 1) / 2 - 0.8, (tallest - 1) / 2 + 0.8)
    ax.set_axis_off()
    handles, names = ax.get_legend_handles_labels()
    ax.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3, frameon=False, fontsize=8)
    ax.set_title("Programme theory: arcs blue = raises, red = lowers; dashed = context-dependent; dotted = next round",
                 fontsize=9)
    return fig
