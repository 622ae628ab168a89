"""Figures for the update: a forest plot of link weights and a data-conflict plot."""

from __future__ import annotations

import numpy as np

from .._lazy import pandas as pd
from ._style import PALETTE, escape, new_axes, plain_text
from .labels import judgement_text

#: Verdict colours (colour-blind palette).
VERDICT_COLOURS = {
    "strengthened": PALETTE[2],
    "weakened": PALETTE[1],
    "reversed": PALETTE[3],
    "consistent": PALETTE[0],
    "prior-dominated": PALETTE[9],
    "undetermined": PALETTE[4],
    "no information": PALETTE[7],
    "needs cases observed over rounds": PALETTE[5],
}


@plain_text
def forest_plot(links: pd.DataFrame, ax=None, *, only_informed: bool = False, labels=None):
    """Prior (grey) vs posterior (coloured by verdict) log-odds weight of each link, with intervals.

    ``links`` is the frame from :func:`bayes_cmo.refinement.refine`.
    """
    frame = links
    if only_informed:
        frame = frame[~frame["verdict"].isin(["no information", "needs cases observed over rounds"])]
    frame = frame.iloc[::-1].reset_index(drop=True)
    fig, ax = new_axes(ax, width=7.5, height=max(3.0, 0.22 * len(frame) + 1.2))
    y = np.arange(len(frame))
    ax.hlines(y + 0.18, frame["prior_low"], frame["prior_high"], color="0.65", lw=2, label="prior (elicited)")
    ax.plot(frame["prior_weight"], y + 0.18, "o", color="0.55", ms=4)
    for verdict, colour in VERDICT_COLOURS.items():
        sel = frame["verdict"] == verdict
        if not sel.any():
            continue
        ax.hlines(y[sel] - 0.18, frame.loc[sel, "posterior_low"], frame.loc[sel, "posterior_high"], color=colour, lw=2.2)
        ax.plot(frame.loc[sel, "posterior_weight"], y[sel] - 0.18, "o", color=colour, ms=5, label=f"posterior: {verdict}")
    ax.axvline(0, color="0.3", lw=0.8, ls="--")
    ax.set_yticks(y)
    ax.set_yticklabels([judgement_text(link, labels) for link in frame["link"]], fontsize=7)
    ax.set_xlabel("link weight (log-odds, low to high pole of the context/mechanism)")
    title = "Refinement of the programme theory: CMO links, prior vs posterior"
    if "expected_false_flags" in links and len(links):
        first = links.iloc[0]
        title += (f"\n{int(links['flagged'].sum())} flagged at {first['fdr']:.0%} FDR (margin {first['margin']:g}); "
                  f"{first['expected_false_flags']:.2f} expected by chance")
    ax.set_title(title, fontsize=9, pad=24)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=3, fontsize=7, frameon=False)
    ax.set_ylim(-0.8, len(frame) - 0.2)
    return fig


@plain_text
def conflict_plot(conflict: pd.DataFrame, ax=None, *, top: int = 30):
    """Data-conflict score per case (highest first), flagged cases highlighted.

    ``conflict`` is the frame from :func:`bayes_cmo.refinement.data_conflict`.
    """
    frame = conflict.sort_values("conflict", ascending=False).head(top).iloc[::-1]
    fig, ax = new_axes(ax, width=6.5, height=max(2.5, 0.22 * len(frame) + 1.0))
    colours = [PALETTE[3] if f else PALETTE[0] for f in frame["flagged"]]
    ax.barh(np.arange(len(frame)), frame["conflict"], color=colours)
    ax.set_yticks(np.arange(len(frame)))
    ax.set_yticklabels([escape(c) for c in frame["case_id"]], fontsize=7)
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_xlabel("data conflict  log( \u220f P(finding) / P(all findings) )")
    threshold = conflict.attrs.get("threshold", conflict["threshold"].iloc[0] if "threshold" in conflict and len(conflict) else 0.0)
    ax.axvline(threshold, color=PALETTE[3], lw=0.8, ls="--")
    ax.set_title("Cases the theory explains poorly (beyond the 95th percentile of its own cases)")
    return fig
