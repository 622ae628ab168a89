"""The disagreement heatmap: each expert's link weight, with the paper's labels (seaborn, imported here only)."""

from __future__ import annotations

from .._lazy import pandas as pd


def disagreement_heatmap(frame: pd.DataFrame, ax=None, *, top: int | None = None):
    """Links (rows, most contested first, the paper's labels) x experts and the pool (columns): weight in log-odds.

    ``frame`` is :func:`bayes_cmo.elicit.disagreement`; returns the figure.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import seaborn as sns

    experts = list(frame.attrs.get("experts") or [])
    links = frame[frame["kind"] == "link"]
    if top is not None:
        links = links.head(top)
    grid = links.set_index("label")[experts + ["pooled"]].astype(float)
    grid.index = [("≠ " if flip else "") + label for label, flip in zip(grid.index, links["sign_disagreement"])]
    if ax is None:
        height = max(3.0, 0.28 * len(grid) + 1.5)
        fig, ax = plt.subplots(figsize=(2.2 + 0.9 * len(grid.columns) + 4.5, height), layout="constrained")
    else:
        fig = ax.figure
    limit = max(1.0, float(abs(grid).max().max()) if grid.size else 1.0)
    sns.heatmap(
        grid, ax=ax, cmap="vlag", center=0.0, vmin=-limit, vmax=limit, annot=True, fmt=".1f",
        annot_kws={"size": 7}, linewidths=0.5, linecolor="white",
        cbar_kws={"label": "link weight (log-odds; negative = lowers)"},
    )
    ax.axvline(len(experts), color="black", linewidth=1.5)  # the pool, set apart
    ax.set_xlabel("expert")
    ax.set_ylabel("")
    ax.set_title("Expert judgements per link, most contested first (≠: experts disagree on the sign)", fontsize=10)
    ax.tick_params(axis="y", labelsize=7)
    return fig
