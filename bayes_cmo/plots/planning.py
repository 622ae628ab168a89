"""Evaluation-planning figures: what to measure next, which judgements matter, how many cases."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from .._lazy import pandas as pd
from ._style import PALETTE, label, new_axes, plain_text
from .labels import judgement_text, state_text

__all__ = ["plot_cases_needed", "plot_sample_size", "plot_sensitivity", "plot_voi"]


def _name(node: str, labels: Mapping[str, str] | None) -> str:
    if labels and node in labels:
        return labels[node]
    text = label(node)
    return text[:1].upper() + text[1:]


def _percent(axis) -> None:
    axis.set_major_locator(plt.MaxNLocator(steps=[1, 2, 5, 10]))  # no 2.5% steps: whole percents only
    axis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v * 100:.0f}%"))


@plain_text
def plot_voi(frame: pd.DataFrame, ax=None, *, top: int = 15, by: str | None = None, labels: Mapping[str, str] | None = None):
    """What to measure next: information (bits, or bits per cost) and the typical change it brings, best on top.

    Two panels sharing the factors: the left one ranks them, the right one
    says how far the target's probability would typically move once the
    factor is measured (percentage points). With ``ax``: the ranking only.
    """
    by = by or ("bits_per_cost" if "bits_per_cost" in frame.columns else "mutual_information_bits")
    shown = frame.sort_values(by, ascending=False).head(top).copy()
    shown["factor"] = [_name(n, labels) for n in shown["node"]]
    target = frame["target"].iloc[0] if "target" in frame and len(frame) else "the target"
    state = frame["target_state"].iloc[0] if "target_state" in frame and len(frame) else None
    if ax is None:
        with sns.axes_style("whitegrid"), sns.plotting_context("paper", font_scale=1.15):
            fig, (ax, right) = plt.subplots(
                1, 2, figsize=(9.5, max(2.8, 0.32 * len(shown) + 1.5)), sharey=True, layout="constrained",
                gridspec_kw={"width_ratios": [3, 2]},
            )
    else:
        fig, right = ax.figure, None
    sns.barplot(data=shown, x=by, y="factor", color=PALETTE[0], ax=ax)
    unit = "bits per unit cost" if by == "bits_per_cost" else "bits"
    ax.set_xlabel(f"information ({unit};\n1 bit = one fair yes/no question)")
    ax.set_ylabel("")
    ax.set_xlim(0, shown[by].max() * 1.1 if len(shown) and shown[by].max() > 0 else 1)
    if right is not None:
        sns.barplot(data=shown.assign(_pp=shown["expected_abs_change"] * 100), x="_pp", y="factor", color=PALETTE[2], ax=right)
        outcome = f"P({label(state)})" if state else "the probability"
        right.set_xlabel(f"typical change of {outcome}\nonce measured (pp)")
        right.set_ylabel("")
    fig.suptitle(f"What to measure next to learn about {_name(target, labels).lower()}", x=0.01, ha="left", fontsize=11)
    return fig


@plain_text
def plot_sensitivity(frame: pd.DataFrame, ax=None, *, top: int = 12, labels: Mapping[str, str] | None = None):
    """Tornado: the headline probability (percent) with each judgement moved one step of its uncertainty down / up."""
    shown = frame.reindex(frame["swing"].abs().sort_values(ascending=False).index).head(top)
    shown = shown.iloc[::-1]  # largest at the top
    base = float(frame["p"].iloc[0]) if len(frame) else 0.0
    fig, ax = new_axes(ax, width=9.0, height=max(2.8, 0.34 * len(shown) + 2.0))
    y = np.arange(len(shown))
    ax.barh(y, shown["p_minus"] - base, left=base, color="#999999", height=0.6, label="judgement one step lower")
    ax.barh(y, shown["p_plus"] - base, left=base, color="#CC79A7", height=0.6, label="judgement one step higher")
    ax.axvline(base, color="0.2", lw=1)
    ax.set_yticks(y, [judgement_text(j, labels) for j in shown["judgement"]])
    target = frame["target"].iloc[0] if "target" in frame and len(frame) else "target"
    state = frame["target_state"].iloc[0] if "target_state" in frame and len(frame) else ""
    _percent(ax.xaxis)
    ax.set_xlabel(f"P({_name(target, labels).lower()}: {label(state)})")
    ax.set_title(
        f"Which judgements matter: P({label(state)}) is {base * 100:.1f}% at the elicited values",
        loc="left", fontsize=10,
    )
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=2, fontsize=8, frameon=False)
    return fig


@plain_text
def plot_sample_size(frame: pd.DataFrame, axes=None):
    """Expected credible-interval width (with 10-90% band) and the share of studies that get the link right, by n.

    ``axes``: a pair of Axes, or None for a new two-panel figure.
    """
    if axes is None:
        with sns.axes_style("whitegrid"), sns.plotting_context("paper", font_scale=1.15):
            fig, axes = plt.subplots(1, 2, figsize=(9.5, 4.0), layout="constrained")
    else:
        fig = axes[0].figure
    left, right = axes
    n = frame["n"].to_numpy()
    left.fill_between(n, frame["ci_width_low"], frame["ci_width_high"], color=PALETTE[0], alpha=0.25, lw=0, label="10–90% of studies")
    left.plot(n, frame["expected_ci_width"], marker="o", color=PALETTE[0], label="expected width")
    first = frame.iloc[0] if len(frame) else {}
    prior = first.get("prior_ci_width")
    if prior is not None:
        left.axhline(prior, color="0.4", ls="--", lw=1, label="before any case (prior)")
    level = float(frame["level"].iloc[0]) if "level" in frame and len(frame) else 0.9
    left.set_ylabel(f"{level:.0%} interval width of the link's strength\n(log-odds; 1 unit multiplies the odds by 2.7)")
    left.set_ylim(bottom=0)
    # two lines that often meet at 100%: distinct markers and dashes keep both visible
    right.plot(n, frame["p_sign_correct"], marker="o", ms=9, mfc="none", mew=1.6, color=PALETTE[2], lw=1.6,
               label="direction of the link right")
    right.plot(n, frame["p_excludes_zero"], marker="s", ms=4, color=PALETTE[1], lw=1.2, ls="--",
               label="interval excludes no effect")
    right.set_ylim(0, 1.05)
    _percent(right.yaxis)
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


@plain_text
def plot_cases_needed(frame: pd.DataFrame, ax=None, *, labels: Mapping[str, str] | None = None):
    """Every link ranked by the cases a phase-2 study needs to settle it (a ``cases_needed`` frame), fewest on top.

    One bar per link up to its cases needed (log scale); a link the plan's
    largest study does not settle gets a pale bar to that size, marked "more
    than N", with the share of studies it settles at N. Links whose prior
    alone already excludes no effect get a dot at the bar's end: their sign is the
    prior's, the bar says when the data alone would settle it.
    """
    shown = frame.iloc[::-1].reset_index(drop=True)  # the first row (fewest cases) at the top
    own = ax is None
    fig, ax = new_axes(ax, width=9.0, height=max(3.0, 0.3 * len(shown) + 2.2))
    y = np.arange(len(shown))
    largest = float(frame["largest_n"].max()) if len(frame) else 1.0
    reached = shown["reached"].to_numpy(dtype=bool)
    needed = np.where(reached, shown["cases_needed"].fillna(0).to_numpy(dtype=float), shown["largest_n"].to_numpy(dtype=float))
    ax.barh(y[reached], needed[reached], color=PALETTE[0], height=0.6, label="cases needed")
    ax.barh(y[~reached], needed[~reached], color=PALETTE[0], alpha=0.25, height=0.6, hatch="//", edgecolor=PALETTE[0],
            lw=0, label=f"not settled by {int(largest)} cases")
    for i in np.flatnonzero(~reached):
        ax.text(needed[i] * 1.05, y[i], f"more than {int(shown['largest_n'].iloc[i])} "
                f"({shown['p_data_settles'].iloc[i] * 100:.0f}% at {int(shown['largest_n'].iloc[i])})",
                va="center", fontsize=7, color="0.3")
    prior = shown["prior_settles"].to_numpy(dtype=bool) if "prior_settles" in shown else np.zeros(len(shown), bool)
    if prior.any():
        ax.plot(needed[prior], y[prior], "o", color=PALETTE[2], ms=5, label="the prior alone already settles the sign")
    ax.set_yticks(y, [judgement_text(link, labels) for link in shown["link"]])
    ax.set_xscale("log", base=2)
    smallest = float(frame["smallest_n"].min()) if "smallest_n" in frame and len(frame) else 1.0
    ticks = sorted({int(v) for v in needed if v > 0} | {int(smallest), int(largest)})
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()
    ax.set_xlim(smallest / 2, largest * 6)
    assurance = float(frame["assurance"].iloc[0]) if "assurance" in frame and len(frame) else 0.8
    ax.set_xlabel(f"cases in the phase-2 study\nfor its own data to settle the link's direction in {assurance:.0%} of studies")
    fit = state_text(frame["fit"].iloc[0]) if "fit" in frame and len(frame) else ""
    ax.set_title(f"How many cases each link needs ({fit} fit, {frame['prior'].iloc[0] if len(frame) else ''} prior)",
                 loc="left", fontsize=10)
    if own:  # below the axis label, clear of the bars
        fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=3, fontsize=7, frameon=False)
    else:
        ax.legend(loc="upper right", fontsize=7, framealpha=0.9)
    return fig
