"""Evaluation-planning figures: VOI bars, judgement tornado, sample-size curve."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns

from ._style import PALETTE, label, new_axes

__all__ = ["plot_sample_size", "plot_sensitivity", "plot_voi"]


def plot_voi(frame: pd.DataFrame, ax=None, *, top: int = 15, by: str | None = None):
    """Horizontal bars of ``value_of_information`` rows (bits, or bits per cost), best on top."""
    by = by or ("bits_per_cost" if "bits_per_cost" in frame.columns else "mutual_information_bits")
    shown = frame.sort_values(by, ascending=False).head(top).copy()
    shown["factor"] = shown["node"].map(label)
    fig, ax = new_axes(ax, width=7.0, height=max(2.5, 0.32 * len(shown) + 1.2))
    sns.barplot(data=shown, x=by, y="factor", color=PALETTE[0], ax=ax)
    for patch, change in zip(ax.patches, shown["expected_abs_change"]):
        ax.annotate(
            f"±{change:.2f}",
            (patch.get_width(), patch.get_y() + patch.get_height() / 2),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
            color="0.3",
        )
    target = frame["target"].iloc[0] if "target" in frame and len(frame) else "the target"
    state = frame["target_state"].iloc[0] if "target_state" in frame and len(frame) else None
    unit = "bits per unit cost" if by == "bits_per_cost" else "bits"
    numbers = f"; numbers: expected change of P({state})" if state else ""
    ax.set_xlabel(f"expected information ({unit}){numbers}")
    ax.set_ylabel("")
    ax.set_xlim(0, shown[by].max() * 1.18 if len(shown) and shown[by].max() > 0 else 1)
    ax.set_title(f"What to measure next to learn about {label(target)}", loc="left", fontsize=10)
    return fig


def plot_sensitivity(frame: pd.DataFrame, ax=None, *, top: int = 12):
    """Tornado: the headline probability with each judgement moved down / up one confidence width."""
    shown = frame.reindex(frame["swing"].abs().sort_values(ascending=False).index).head(top)
    shown = shown.iloc[::-1]  # largest at the top
    base = float(frame["p"].iloc[0]) if len(frame) else 0.0
    fig, ax = new_axes(ax, width=7.5, height=max(2.5, 0.34 * len(shown) + 1.3))
    y = np.arange(len(shown))
    low_colour, high_colour = PALETTE[0], PALETTE[3]
    ax.barh(y, shown["p_minus"] - base, left=base, color=low_colour, height=0.6, label="judgement one width lower")
    ax.barh(y, shown["p_plus"] - base, left=base, color=high_colour, height=0.6, label="judgement one width higher")
    ax.axvline(base, color="0.2", lw=1)
    names = [
        j.replace("baseline:", "baseline of ").replace(":", " → ").replace("_", " ") for j in shown["judgement"]
    ]
    ax.set_yticks(y, names)
    target = frame["target"].iloc[0] if "target" in frame and len(frame) else "target"
    state = frame["target_state"].iloc[0] if "target_state" in frame and len(frame) else ""
    ax.set_xlabel(f"P({label(target)} = {state})")
    ax.set_title(
        f"Which judgements matter: P({label(target)} = {state}) = {base:.2f} at the elicited values",
        loc="left",
        fontsize=10,
    )
    ax.legend(loc="lower right", fontsize=8, frameon=True)
    return fig


def plot_sample_size(frame: pd.DataFrame, axes=None):
    """Expected credible-interval width (with 10-90% band) and P(sign right) against the number of cases.

    ``axes``: a pair of Axes, or None for a new two-panel figure.
    """
    if axes is None:
        with sns.axes_style("whitegrid"), sns.plotting_context("paper", font_scale=1.15):
            import matplotlib.pyplot as plt

            fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.8), layout="constrained")
    else:
        fig = axes[0].figure
    left, right = axes
    n = frame["n"].to_numpy()
    left.fill_between(n, frame["ci_width_low"], frame["ci_width_high"], color=PALETTE[0], alpha=0.25, lw=0, label="10–90% of studies")
    left.plot(n, frame["expected_ci_width"], marker="o", color=PALETTE[0], label="expected width")
    first = frame.iloc[0] if len(frame) else {}
    prior = first.get("prior_ci_width")
    if prior is not None:
        left.axhline(prior, color="0.4", ls="--", lw=1, label="prior (no cases)")
    level = first.get("level", 0.9)
    left.set_ylabel(f"{level:.0%} interval width (log-odds)")
    left.set_ylim(bottom=0)
    right.plot(n, frame["p_sign_correct"], marker="o", color=PALETTE[2], label="posterior sign right")
    right.plot(n, frame["p_excludes_zero"], marker="s", color=PALETTE[1], label="interval excludes 0")
    right.set_ylim(0, 1.02)
    right.set_ylabel("share of simulated studies")
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_xticks(n, [str(v) for v in n])
        ax.minorticks_off()
        ax.set_xlabel("cases in the phase-2 study")
        ax.legend(fontsize=8, loc="best")
    link = first.get("link", "")
    prior_kind = first.get("prior", "elicited")
    fig.suptitle(f"How many cases: {label(link).replace(':', ' → ')} ({prior_kind} prior)", x=0.01, ha="left", fontsize=11)
    return fig
