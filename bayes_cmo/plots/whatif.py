"""What-if figures: tornado of a context sweep, context x target heatmap, scenario comparison.

Each function takes a result frame from :mod:`bayes_cmo.shift` (``shift`` /
``sweep`` / ``compare_scenarios``), an optional ``ax`` and returns the
Figure. Probabilities are shown in percent, changes in percentage points.
``labels`` maps node ids to readable names (e.g. from the theory's node
labels); by default ``node_id`` reads "Node id".
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .. import _validate
from .._errors import BayesCMOError
from ._style import MODE_COLOURS, PALETTE, escape, label

__all__ = ["scenario_chart", "shift_heatmap", "tornado"]

_INCREASE, _DECREASE = PALETTE[0], PALETTE[3]


def _name(node: str, labels: Mapping[str, str] | None) -> str:
    if labels and node in labels:
        return escape(labels[node])
    text = label(node)
    return text[:1].upper() + text[1:]


def _require(frame: pd.DataFrame, columns: list[str], func: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        _validate.instance(frame, "frame", pd.DataFrame, f"a DataFrame (a result of the matching bayes_cmo function) for {func}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise BayesCMOError(f"{func}: the frame lacks column(s) {missing}; pass the result of the matching bayes_cmo function")
    if frame.empty:
        raise BayesCMOError(f"{func}: the frame has no rows to plot")


def _pick_states(frame: pd.DataFrame, target_state, func: str) -> pd.DataFrame:
    """Keep one state per target: the given one, else its last (its highest pole)."""
    keep = []
    for target, rows in frame.groupby("target", sort=False):
        states = list(dict.fromkeys(rows["target_state"]))
        wanted = target_state.get(target) if isinstance(target_state, Mapping) else target_state
        if wanted is None:
            wanted = states[-1]
        if wanted not in states:
            raise _validate.fail(f"target_state of {func}", f"a state of {target} ({', '.join(states)})", wanted)
        keep.append(rows[rows["target_state"] == wanted])
    return pd.concat(keep)


def _pick_modes(frame: pd.DataFrame, mode, func: str) -> pd.DataFrame:
    if mode is None:
        return frame
    modes = [mode] if isinstance(mode, str) else list(mode)
    present = list(dict.fromkeys(frame["mode"]))
    bad = [m for m in modes if m not in present]
    if bad:
        raise _validate.fail(f"mode of {func}", f"one of {', '.join(present)}", bad[0])
    return frame[frame["mode"].isin(modes)]


def _ranked_contexts(frame: pd.DataFrame, top: int | None, func: str) -> list[str]:
    impact = frame["delta"].abs().groupby(frame["context"], sort=False).max()
    order = list(impact.sort_values(ascending=False, kind="stable").index)
    if top is not None:
        top = _validate.integer(top, f"top of {func}")
        order = order[:top]
    return order


def _subplots(n_panels: int, height: float, width_per_panel: float = 4.6):
    # shared x: the same change reads the same length in every panel
    with sns.axes_style("whitegrid"), sns.plotting_context("paper", font_scale=1.15):
        fig, axes = plt.subplots(
            1,
            n_panels,
            figsize=(1.6 + width_per_panel * n_panels, height),
            sharey=True,
            sharex=True,
            layout="constrained",
            squeeze=False,
        )
    return fig, list(axes[0])


def _percent_points(ax, axis: str = "x") -> None:
    fmt = plt.FuncFormatter(lambda v, _: f"{v * 100:+.0f}" if abs(v) > 1e-12 else "0")
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(fmt)


def _bars(ax, rows: pd.DataFrame, positions: np.ndarray, height: float, colour, name: str | None) -> None:
    """Horizontal bars from 0 to delta, interval whiskers when the frame has them."""
    delta = rows["delta"].to_numpy(dtype=float)
    colours = colour if colour is not None else [_INCREASE if d >= 0 else _DECREASE for d in delta]
    ax.barh(positions, delta, height=height, color=colours, label=name, edgecolor="none")
    if "delta_ci_low" in rows:
        low = rows["delta_ci_low"].to_numpy(dtype=float)
        high = rows["delta_ci_high"].to_numpy(dtype=float)
        ax.errorbar(
            delta,
            positions,
            xerr=np.vstack([delta - low, high - delta]).clip(min=0),
            fmt="none",
            ecolor="0.25",
            elinewidth=0.9,
            capsize=2.0,
        )


def tornado(
    frame: pd.DataFrame,
    *,
    target_state: str | Mapping[str, str] | None = None,
    mode: str | list[str] | None = "observe",
    top: int | None = None,
    labels: Mapping[str, str] | None = None,
    ax=None,
):
    """Tornado chart of a :func:`~bayes_cmo.shift.sweep`: how much each context state moves each target.

    One row per context state, contexts ranked by impact (largest ``|delta|``
    first) and the same rows in every panel; bars run from the baseline to the
    shifted probability (percentage points) with whiskers for the credible
    interval when the frame carries draws. Without ``ax``: one panel per
    target. With ``ax``: every target (and mode) drawn dodged in that Axes.
    ``target_state`` picks the state shown (default: each target's last,
    its highest pole); ``mode`` is ``"observe"``, ``"do"`` or None
    for all modes in the frame (dodged, coloured by mode).
    """
    _require(frame, ["context", "state", "target", "target_state", "mode", "p_baseline", "delta"], "tornado")
    if "observe" not in set(frame["mode"]) and mode == "observe":
        mode = None
    data = _pick_modes(_pick_states(frame, target_state, "tornado"), mode, "tornado")
    order = _ranked_contexts(data, top, "tornado")
    data = data[data["context"].isin(order)]
    rows = data[["context", "state"]].drop_duplicates()
    rows = rows.assign(_rank=rows["context"].map({c: i for i, c in enumerate(order)})).sort_values("_rank", kind="stable")
    keys = list(zip(rows["context"], rows["state"]))
    y = {key: i for i, key in enumerate(keys)}
    targets = list(dict.fromkeys(data["target"]))
    modes = list(dict.fromkeys(data["mode"]))

    if ax is None:
        fig, axes = _subplots(len(targets), height=max(2.6, 1.3 + 0.3 * len(keys) * max(1, len(modes) * 0.75)))
        panels = [(a, [(t, m) for m in modes]) for a, t in zip(axes, targets)]
    else:
        fig, axes = ax.figure, [ax]
        panels = [(ax, [(t, m) for t in targets for m in modes])]

    for a, groups in panels:
        n = len(groups)
        height = 0.8 / n
        for g, (target, m) in enumerate(groups):
            sub = data[(data["target"] == target) & (data["mode"] == m)]
            positions = np.array([y[key] for key in zip(sub["context"], sub["state"])], dtype=float)
            positions += (g - (n - 1) / 2) * height
            colour = None if n == 1 else (MODE_COLOURS.get(m) if len(targets) == 1 or ax is None else PALETTE[g % len(PALETTE)])
            if n == 1:
                name = None
            elif ax is None or len(targets) == 1:
                name = m
            else:
                name = _name(target, labels) + (f" ({m})" if len(modes) > 1 else "")
            _bars(a, sub, positions, height * 0.92, colour, name)
        a.axvline(0.0, color="0.2", linewidth=0.8)
        for boundary in np.flatnonzero(np.diff([order.index(c) for c, _ in keys])):
            a.axhline(boundary + 0.5, color="0.85", linewidth=0.6)
        _percent_points(a)
        first = data[data["target"] == groups[0][0]].iloc[0]
        if len({t for t, _ in groups}) == 1:
            a.set_title(
                f"{_name(first['target'], labels)}\nP({label(first['target_state'])}) "
                f"{first['p_baseline'] * 100:.0f}% at baseline",
                fontsize="medium",
            )
        a.set_xlabel("change (percentage points)")
        a.grid(axis="y", visible=False)
        if n > 1 and ax is not None:
            a.legend(fontsize="small", frameon=False, loc="best")
    if ax is None and len(modes) > 1:  # one legend for all panels, clear of the bars
        handles, names = axes[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="outside upper right", ncols=len(modes), fontsize="small", frameon=False)
    lead = axes[0]
    lead.set_yticks(range(len(keys)))
    lead.set_yticklabels([f"{_name(c, labels)}: {label(s)}" for c, s in keys])
    lead.set_ylim(len(keys) - 0.5, -0.5)
    lead.set_ylabel("")
    if ax is None and "delta_ci_low" in data:
        fig.supxlabel("bars: mean over parameter draws; whiskers: credible interval", fontsize="small", color="0.35")
    return fig


def shift_heatmap(
    frame: pd.DataFrame,
    *,
    target_state: str | Mapping[str, str] | None = None,
    mode: str | list[str] | None = "observe",
    top: int | None = None,
    labels: Mapping[str, str] | None = None,
    ax=None,
):
    """Heatmap of context states (rows, ranked by impact) x targets (columns): change in percentage points.

    Diverging colours centred on no change; each cell is annotated. With
    several modes the columns are target x mode.
    """
    _require(frame, ["context", "state", "target", "target_state", "mode", "delta"], "shift_heatmap")
    if "observe" not in set(frame["mode"]) and mode == "observe":
        mode = None
    data = _pick_modes(_pick_states(frame, target_state, "shift_heatmap"), mode, "shift_heatmap")
    order = _ranked_contexts(data, top, "shift_heatmap")
    data = data[data["context"].isin(order)].copy()
    data["_rank"] = data["context"].map({c: i for i, c in enumerate(order)})
    data = data.sort_values("_rank", kind="stable")
    data["row"] = [f"{_name(c, labels)}: {label(s)}" for c, s in zip(data["context"], data["state"])]
    several = data["mode"].nunique() > 1
    data["column"] = [
        f"{_name(t, labels)}\nP({label(ts)})" + (f"\n{m}" if several else "")
        for t, ts, m in zip(data["target"], data["target_state"], data["mode"])
    ]
    table = data.pivot_table(index="row", columns="column", values="delta", sort=False) * 100.0
    n_rows, n_cols = table.shape
    fig, ax = _new(ax, width=6.0 + 1.7 * n_cols, height=1.4 + 0.32 * n_rows)
    limit = float(np.nanmax(np.abs(table.to_numpy()))) or 1.0
    with warnings.catch_warnings():  # seaborn 0.13 calls a colormap method matplotlib is retiring
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        _heatmap(table, ax, limit)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.tick_params(axis="x", rotation=0)
    return fig


def _heatmap(table: pd.DataFrame, ax, limit: float) -> None:
    sns.heatmap(
        table,
        ax=ax,
        cmap="vlag",
        center=0.0,
        vmin=-limit,
        vmax=limit,
        annot=True,
        fmt="+.1f",
        annot_kws={"fontsize": "small"},
        linewidths=0.5,
        linecolor="white",
        cbar_kws={"label": "change (percentage points)", "shrink": 0.8},
    )


def _new(ax, width: float, height: float):
    if ax is not None:
        return ax.figure, ax
    with sns.axes_style("white"), sns.plotting_context("paper", font_scale=1.15):
        fig, new = plt.subplots(figsize=(width, height), layout="constrained")
    return fig, new


def scenario_chart(
    frame: pd.DataFrame,
    *,
    target_state: str | Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    ax=None,
):
    """Scenarios side by side (a :func:`~bayes_cmo.shift.compare_scenarios` frame).

    One bar per scenario (and target): the probability of the target state
    under the scenario, whiskers for the credible interval, a dashed line at
    the baseline. Without ``ax``: one panel per target; with ``ax``: targets
    dodged in that Axes.
    """
    _require(frame, ["scenario", "label", "target", "target_state", "p_baseline", "p"], "scenario_chart")
    data = _pick_states(frame, target_state, "scenario_chart")
    scenarios = list(dict.fromkeys(zip(data["scenario"], data["label"])))
    y = {sid: i for i, (sid, _) in enumerate(scenarios)}
    targets = list(dict.fromkeys(data["target"]))
    if ax is None:
        fig, axes = _subplots(len(targets), height=1.4 + 0.42 * len(scenarios), width_per_panel=3.8)
        panels = [(a, [t]) for a, t in zip(axes, targets)]
    else:
        fig, axes = ax.figure, [ax]
        panels = [(ax, targets)]
    for a, group in panels:
        n = len(group)
        height = 0.75 / n
        for g, target in enumerate(group):
            sub = data[data["target"] == target]
            pos = np.array([y[s] for s in sub["scenario"]], dtype=float) + (g - (n - 1) / 2) * height
            p = sub["p"].to_numpy(dtype=float)
            colour = PALETTE[g % len(PALETTE)]
            name = f"{_name(target, labels)}: P({label(sub['target_state'].iloc[0])})"
            a.barh(pos, p, height=height * 0.92, color=colour, label=name if n > 1 else None)
            if "ci_low" in sub:
                err = np.vstack([p - sub["ci_low"].to_numpy(float), sub["ci_high"].to_numpy(float) - p]).clip(min=0)
                a.errorbar(p, pos, xerr=err, fmt="none", ecolor="0.25", elinewidth=0.9, capsize=2.0)
            a.axvline(float(sub["p_baseline"].iloc[0]), color=colour if n > 1 else "0.2", linestyle="--", linewidth=1.0)
            if n == 1:
                a.set_title(
                    f"{_name(target, labels)}\nP({label(sub['target_state'].iloc[0])}); dashed: baseline "
                    f"{sub['p_baseline'].iloc[0] * 100:.0f}%",
                    fontsize="medium",
                )
        a.set_xlim(0.0, 1.0)
        a.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v * 100:.0f}%"))
        a.set_xlabel("probability")
        a.grid(axis="y", visible=False)
        if n > 1:
            a.legend(fontsize="small", frameon=False, loc="lower right")
    lead = axes[0]
    lead.set_yticks(range(len(scenarios)))
    lead.set_yticklabels([escape(lab) for _, lab in scenarios])
    lead.set_ylim(len(scenarios) - 0.5, -0.5)
    return fig
