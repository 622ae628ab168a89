"""Figure for one explained case: each finding's contribution to each outcome."""

from __future__ import annotations

import numpy as np

from .._lazy import pandas as pd
from ._style import PALETTE, label, new_axes


def contribution_plot(contributions: pd.DataFrame, ax=None, *, top: int = 12):
    """Horizontal bars: each finding's Shapley contribution to P(outcome), one group per target.

    ``contributions`` is ``explain(...).contributions``; the ``top`` largest
    findings (by absolute contribution over the targets) are shown.
    """
    frame = contributions
    targets = list(dict.fromkeys(frame["target"]))
    size = frame.groupby("finding")["shapley"].apply(lambda s: s.abs().max()).sort_values(ascending=False)
    findings = list(size.index[:top])[::-1]
    fig, ax = new_axes(ax, width=7.0, height=max(2.5, 0.3 * len(findings) * max(1, len(targets)) ** 0.5 + 1.2))
    y = np.arange(len(findings))
    height = 0.8 / max(1, len(targets))
    for t, target in enumerate(targets):
        part = frame[frame["target"] == target].set_index("finding")
        values = [float(part["shapley"].get(f, 0.0)) for f in findings]
        state = part["target_state"].iloc[0] if len(part) else ""
        ax.barh(y + (t - (len(targets) - 1) / 2) * height, values, height=height, color=PALETTE[t % len(PALETTE)],
                label=f"P({label(target)} = {state})")
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels([label(f) for f in findings], fontsize=8)
    ax.set_xlabel("contribution to the outcome probability (Shapley value; the bars of an outcome sum to its change)")
    ax.set_title("What pushed this partnership's outcomes")
    ax.legend(loc="best", fontsize=7)
    return fig
