"""P(still intact) by round."""

from __future__ import annotations

import matplotlib.pyplot as plt

from .._lazy import pandas as pd
from ._style import PALETTE, escape, new_axes, plain_text


@plain_text
def plot_survival(frame: pd.DataFrame, ax=None, *, label: str | None = None):
    """Line of ``p_intact`` (percent) by ``round`` with its credible band (or ±2 Monte Carlo s.e.)."""
    fig, ax = new_axes(ax, width=6.0, height=4.0)
    colour = PALETTE[len(ax.lines) % len(PALETTE)]
    if {"ci_low", "ci_high"} <= set(frame.columns):
        low, high, band = frame["ci_low"], frame["ci_high"], "credible interval"
    else:
        low, high, band = frame["p_intact"] - 2 * frame["std_error"], frame["p_intact"] + 2 * frame["std_error"], "±2 s.e."
    ax.fill_between(frame["round"], low, high, color=colour, alpha=0.2, linewidth=0)
    ax.plot(frame["round"], frame["p_intact"], marker="o", color=colour, label=f"{label or 'P(still intact)'} (band: {band})")
    ax.set_xlabel("round of partnership working (one pass through the feedback loop)")
    ax.set_ylabel("P(partnership still intact)")
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v * 100:.0f}%"))
    ax.set_xticks(list(frame["round"]))
    ax.legend(frameon=False, loc="lower left")
    ax.set_title("Is the partnership still intact, round by round?", loc="left", fontsize=10)
    return fig


@plain_text
def plot_by_round(frame: pd.DataFrame, ax=None, *, unit: str = "", labels: dict | None = None):
    """One line per target state (percent) by ``round``, from :func:`bayes_cmo.inference.loop.by_round`,
    with its credible band (draws) or ±2 standard errors (sampled contexts)."""
    fig, ax = new_axes(ax, width=6.5, height=4.0)
    labels = labels or {}
    for i, ((target, state), part) in enumerate(frame.groupby(["target", "state"], sort=False)):
        colour = PALETTE[i % len(PALETTE)]
        if {"ci_low", "ci_high"} <= set(part.columns):
            low, high = part["ci_low"], part["ci_high"]
        else:
            low, high = part["p"] - 2 * part["std_error"], part["p"] + 2 * part["std_error"]
        ax.fill_between(part["round"], low, high, color=colour, alpha=0.15, linewidth=0)
        name = f"{labels.get(target, str(target).replace('_', ' '))}: {state}"
        ax.plot(part["round"], part["p"], marker="o", color=colour, label=escape(name))
    ax.set_xlabel("round" + (f" ({unit})" if unit else ""))
    ax.set_ylabel("probability")
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v * 100:.0f}%"))
    ax.set_xticks(sorted(frame["round"].unique()))
    ax.legend(frameon=False, fontsize=7, loc="best")
    ax.set_title("The feedback loop, round by round", loc="left", fontsize=10)
    return fig


@plain_text
def plot_survival_curves(frame: pd.DataFrame, ax=None, *, unit: str = "", title: str | None = None):
    """Survival-style curves, one per ``curve`` of :func:`bayes_cmo.inference.survival.survival_curves`: ``p_intact``
    (percent) by ``round`` with its credible band (draws) or ±2 standard errors; the x axis in rounds of ``unit``."""
    fig, ax = new_axes(ax, width=7.0, height=4.2)
    banded = {"ci_low", "ci_high"} <= set(frame.columns)
    for i, (curve, part) in enumerate(frame.groupby("curve", sort=False)):
        colour = PALETTE[i % len(PALETTE)]
        if banded:
            low, high = part["ci_low"], part["ci_high"]
        else:
            low, high = part["p_intact"] - 2 * part["std_error"], part["p_intact"] + 2 * part["std_error"]
        ax.fill_between(part["round"], low.clip(0, 1), high.clip(0, 1), color=colour, alpha=0.15, linewidth=0)
        ax.plot(part["round"], part["p_intact"], marker="o", markersize=3, color=colour, label=escape(str(curve)))
    ax.set_xlabel("round" + (f" (one round = {unit})" if unit else ""), fontsize=8)
    ax.set_ylabel("P(partnership still intact)")
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v * 100:.0f}%"))
    ax.set_xticks(sorted(frame["round"].unique()))
    band = "credible interval" if banded else "±2 s.e."
    ax.legend(frameon=False, fontsize=7, loc="upper right", title=f"band: {band}", title_fontsize=7)
    ax.set_title(title or "Is the partnership still intact, round by round?", loc="left", fontsize=10)
    return fig
