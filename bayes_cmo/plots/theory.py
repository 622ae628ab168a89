"""The programme theory as a figure: columns by depth (contexts left, outcomes right), arcs between labels."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch
from matplotlib.path import Path

from ..theory import Theory
from ._style import plain_text
from .diagram import FEEDBACK_COLOUR, ROLE_COLOURS, SIGN_COLOURS, fan, theory_layout  # noqa: F401 (re-exported)
from .layout import BOX_H, BOX_W, arc_points, feedback_points

_WRAP = 22
_fan = fan


@plain_text
def plot_theory(theory: Theory, ax=None, *, labels: bool = True):
    """Nodes by role in layered columns; arcs coloured by sign, dashed when moderated, dotted grey for next-round feedback."""
    layout = theory_layout(theory)
    pos = layout.position
    lags = [link for link in theory.links if link.lag]
    extra = 0.5 + 0.18 * len(lags) if lags else 0.0
    margin = 0.3 + (0.45 if lags else 0.0)  # room for feedback arcs leaving the last column
    if ax is None:
        width, height = layout.width + 2 * margin, layout.height + extra + 2 * margin + 1.3
        fig = plt.figure(figsize=(width, height))
        ax = fig.add_axes((0, 1.0 / height, 1, 1 - 1.5 / height))
    fig = ax.figure
    ax.set_aspect("equal")
    ys = [y for _, y in pos.values()]
    ax.set_xlim(-BOX_W / 2 - margin, layout.width - BOX_W / 2 + margin)
    ax.set_ylim(min(ys) - BOX_H / 2 - margin, max(ys) + BOX_H / 2 + extra + margin)
    ax.set_axis_off()

    fan = _fan(layout, list(layout.chains))
    by_pair = {(link.source, link.target): link for link in theory.dag_links}
    for arc, chain in layout.chains.items():
        link = by_pair[arc]
        pts, codes = arc_points(layout, chain, *fan[arc])
        ax.add_patch(
            FancyArrowPatch(
                path=Path(pts, codes), arrowstyle="-|>", mutation_scale=7,
                color=SIGN_COLOURS[link.sign], lw=0.5 + 0.35 * link.strength,
                linestyle="--" if link.moderator else "-", alpha=0.85, zorder=2,
            )
        )
    for lane, link in enumerate(lags):
        pts, codes = feedback_points(layout, link.source, link.target, lane)
        ax.add_patch(
            FancyArrowPatch(path=Path(pts, codes), arrowstyle="-|>", mutation_scale=7, color=FEEDBACK_COLOUR,
                            lw=0.9, linestyle=":", zorder=1)
        )
    for node in layout.real:
        x, y = pos[node]
        text = theory.nodes[node].label if labels else node
        ax.add_patch(
            FancyBboxPatch((x - BOX_W / 2, y - BOX_H / 2), BOX_W, BOX_H, boxstyle="round,pad=0,rounding_size=0.06",
                           fc=ROLE_COLOURS.get(theory.nodes[node].role, "white"), ec="0.4", lw=0.5, zorder=4)
        )
        ax.text(x, y, textwrap.fill(text, _WRAP), ha="center", va="center", fontsize=7.5, zorder=5, linespacing=1.0)

    handles = [Patch(fc=c, ec="0.4", lw=0.5, label=f"{r}") for r, c in ROLE_COLOURS.items()]
    handles += [
        Line2D([], [], color=SIGN_COLOURS[1], lw=1.5, label="raises its target (+)"),
        Line2D([], [], color=SIGN_COLOURS[-1], lw=1.5, label="lowers its target (−)"),
        Line2D([], [], color="0.3", lw=1.2, ls="--", label="effect depends on another context (moderated)"),
        Line2D([], [], color="0.3", lw=0.85, label="thin: weak link"),
        Line2D([], [], color="0.3", lw=1.55, label="thick: strong link"),
    ]
    if lags:
        handles.append(Line2D([], [], color=FEEDBACK_COLOUR, lw=0.9, ls=":", label="feedback to the next round (top)"))
    fig.legend(handles=handles, loc="lower center", ncols=3, frameon=False, fontsize=7)
    fig.suptitle("The programme theory: contexts (left) work through mechanisms to outcomes (right)",
                 fontsize=9, y=0.995)
    return fig
