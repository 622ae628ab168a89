"""What-if figures: tornado of a context sweep, context x target heatmap, scenario comparison.

Each function takes a result frame from :mod:`bayes_cmo.inference.shift`
(``shift`` / ``sweep`` / ``compare_scenarios``), an optional ``ax`` and returns
the Figure. Every change is in percentage points with its credible interval
when the frame carries draws, and is coloured by whether it is good or bad
for the partnership: ``good`` maps a target to its good state (default: its
highest state). ``labels`` maps node ids to the paper's labels.
"""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.patches import Patch

from .. import _validate
from .._errors import BayesCMOError
from . import _style  # noqa: F401  (headless backend)
from .._lazy import pandas as pd
from ._style import escape, label, plain_text
from .labels import BAD, GOOD, NEUTRAL, estimate_text, goodness

__all__ = ["scenario_chart", "shift_heatmap", "tornado"]

#: Bad (orange) - none (white) - good (blue): colour-blind safe, for a change's meaning.
GOOD_BAD_CMAP = LinearSegmentedColormap.from_list("bad_good", [BAD, "#ffffff", GOOD])
_MODE_HATCH = {"observe": "", "do": "////"}
_MODE_TEXT = {"observe": "we observe this", "do": "we make this so (do)"}


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


def _target_states(frame: pd.DataFrame) -> dict[str, list[str]]:
    return {t: list(dict.fromkeys(rows["target_state"])) for t, rows in frame.groupby("target", sort=False)}


def _pick_states(frame: pd.DataFrame, target_state, func: str) -> pd.DataFrame:
    """Keep one state per target: the given one, else its last (its highest pole)."""
    keep = []
    for target, states in _target_states(frame).items():
        rows = frame[frame["target"] == target]
        wanted = target_state.get(target) if isinstance(target_state, Mapping) else target_state
        if wanted is None:
            wanted = states[-1]
        if wanted not in states:
            raise _validate.fail(f"target_state of {func}", f"a state of {target} ({', '.join(states)})", wanted)
        keep.append(rows[rows["target_state"] == wanted])
    return pd.concat(keep)


def _signs(frame: pd.DataFrame, shown: pd.DataFrame, good: Mapping[str, str] | None) -> pd.Series:
    """+1 where a rise of the shown probability is good for the partnership, -1 bad, 0 neither (per row)."""
    states = _target_states(frame)
    wanted = {t: (good or {}).get(t, s[-1]) for t, s in states.items()}
    for t, g in wanted.items():
        if g not in states[t]:
            raise BayesCMOError(f"The 'good' parameter must map {t} to one of {', '.join(states[t])}. Got {g!r} instead.")
    return pd.Series(
        [goodness(states[t], s, wanted[t]) for t, s in zip(shown["target"], shown["target_state"])], index=shown.index
    )


def _with_estimate(text: str, frame: pd.DataFrame) -> str:
    """``text`` with '; values: <which number>' appended when the frame says."""
    which = estimate_text(frame)
    return f"{text}; values: {which}" if which else text


def _colour(sign: float, delta: float) -> str:
    meaning = sign * np.sign(delta)
    return GOOD if meaning > 0 else BAD if meaning < 0 else NEUTRAL


def _legend_handles(modes: list[str] | None = None) -> list:
    handles = [Patch(color=GOOD, label="good for the partnership"), Patch(color=BAD, label="bad for the partnership")]
    for m in modes or []:
        handles.append(Patch(fc="white", ec="0.3", hatch=_MODE_HATCH.get(m, ""), label=_MODE_TEXT.get(m, m)))
    return handles


def _pick_modes(frame: pd.DataFrame, mode, func: str) -> pd.DataFrame:
    if mode is None:
        return frame
    modes = [mode] if isinstance(mode, str) else list(mode)
    present = list(dict.fromkeys(frame["mode"]))
    bad = [m for m in modes if m not in present]
    if bad:
        raise _validate.fail(f"mode of {func}", f"one of {', '.join(present)}", bad[0])
    return frame[frame["mode"].isin(modes)]


def _ranked_contexts(frame: pd.DataFrame, top: int | None, func: str) -> tuple[list[str], int]:
    """Contexts by largest ``|delta|``, the first ``top``; and how many were left out."""
    impact = frame["delta"].abs().groupby(frame["context"], sort=False).max()
    order = list(impact.sort_values(ascending=False, kind="stable").index)
    if top is not None:
        if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
            raise BayesCMOError(f"The 'top' parameter of {func} must be a positive integer. Got {top!r} instead.")
        return order[:top], max(0, len(order) - top)
    return order, 0


def _subplots(n_panels: int, height: float, width_per_panel: float = 4.6):
    # shared x: the same change reads the same length in every panel
    with sns.axes_style("whitegrid"), sns.plotting_context("paper", font_scale=1.15):
        fig, axes = plt.subplots(
            1, n_panels, figsize=(1.8 + width_per_panel * n_panels, height),
            sharey=True, sharex=True, layout="constrained", squeeze=False,
        )
    return fig, list(axes[0])


def _percent_points(ax, axis: str = "x") -> None:
    fmt = plt.FuncFormatter(lambda v, _: f"{v * 100:+.0f}" if abs(v) > 1e-12 else "0")
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(fmt)


def _limit(rows: pd.DataFrame) -> float:
    """Half-width of a symmetric axis that holds every bar and whisker, with a little room."""
    cols = [c for c in ("delta", "delta_ci_low", "delta_ci_high") if c in rows]
    extent = float(np.nanmax(np.abs(rows[cols].to_numpy(dtype=float)))) if len(rows) else 0.0
    return max(extent * 1.12, 0.005)


def _bars(ax, rows: pd.DataFrame, positions: np.ndarray, height: float, colours, hatch: str = "") -> None:
    """Horizontal bars from 0 to delta, interval whiskers when the frame has them."""
    delta = rows["delta"].to_numpy(dtype=float)
    ax.barh(positions, delta, height=height, color=colours, edgecolor="0.25" if hatch else "none",
            linewidth=0.4 if hatch else 0, hatch=hatch or None)
    if "delta_ci_low" in rows:
        low = rows["delta_ci_low"].to_numpy(dtype=float)
        high = rows["delta_ci_high"].to_numpy(dtype=float)
        ax.errorbar(delta, positions, xerr=np.vstack([delta - low, high - delta]).clip(min=0), fmt="none",
                    ecolor="0.2", elinewidth=0.9, capsize=2.0)


@plain_text
def tornado(
    frame: pd.DataFrame,
    *,
    target_state: str | Mapping[str, str] | None = None,
    mode: str | list[str] | None = "observe",
    top: int | None = 12,
    labels: Mapping[str, str] | None = None,
    good: Mapping[str, str] | None = None,
    ax=None,
):
    """Tornado chart of a sweep or shift: how much each context state moves each target.

    One row per context state, the ``top`` contexts ranked by impact (largest
    ``|delta|`` first; a note says how many were left out) and the same rows in
    every panel; bars are the change in percentage points with whiskers for
    its credible interval when the frame carries draws, blue when the change
    is good for the partnership and orange when bad. Without ``ax``: one
    panel per target. With ``ax``: every target (and mode) dodged in that
    Axes. ``target_state`` picks the state shown (default: each target's
    last, e.g. the headline states); ``mode`` is ``"observe"``, ``"do"`` or
    None for all modes in the frame (do hatched).
    """
    _require(frame, ["context", "state", "target", "target_state", "mode", "p_baseline", "delta"], "tornado")
    if "observe" not in set(frame["mode"]) and mode == "observe":
        mode = None
    data = _pick_modes(_pick_states(frame, target_state, "tornado"), mode, "tornado")
    data = data.assign(_sign=_signs(frame, data, good))
    order, left_out = _ranked_contexts(data, top, "tornado")
    data = data[data["context"].isin(order)]
    rows = data[["context", "state"]].drop_duplicates()
    rows = rows.assign(_rank=rows["context"].map({c: i for i, c in enumerate(order)})).sort_values("_rank", kind="stable")
    keys = list(zip(rows["context"], rows["state"]))
    y = {key: i for i, key in enumerate(keys)}
    targets = list(dict.fromkeys(data["target"]))
    modes = list(dict.fromkeys(data["mode"]))

    if ax is None:
        fig, axes = _subplots(len(targets), height=max(2.6, 1.6 + 0.26 * len(keys) * max(1, len(modes) * 0.75)))
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
            colours = [_colour(s, d) for s, d in zip(sub["_sign"], sub["delta"])]
            _bars(a, sub, positions, height * 0.92, colours, _MODE_HATCH.get(m, "") if len(modes) > 1 else "")
        a.axvline(0.0, color="0.2", linewidth=0.8)
        for boundary in np.flatnonzero(np.diff([order.index(c) for c, _ in keys])):
            a.axhline(boundary + 0.5, color="0.88", linewidth=0.6)
        _percent_points(a)
        first = data[data["target"] == groups[0][0]].iloc[0]
        if len({t for t, _ in groups}) == 1:
            a.set_title(
                f"{_name(first['target'], labels)}\nP({label(first['target_state'])}) "
                f"{first['p_baseline'] * 100:.0f}% at baseline",
                fontsize="medium",
            )
        a.set_xlabel("change (percentage points)" if ax is None else _with_estimate("change (pp)", data))
        a.grid(axis="y", visible=False)
    limit = _limit(data)
    axes[0].set_xlim(-limit, limit)
    lead = axes[0]
    lead.set_yticks(range(len(keys)))
    lead.set_yticklabels([f"{_name(c, labels)}: {label(s)}" for c, s in keys])
    lead.set_ylim(len(keys) - 0.5, -0.5)
    lead.set_ylabel("")
    handles = _legend_handles(modes if len(modes) > 1 else None)
    if ax is None:
        fig.legend(handles=handles, loc="outside upper center", ncols=len(handles), fontsize="small", frameon=False)
        notes = []
        which = estimate_text(data)
        if which:
            notes.append(f"bars: change, {which}")
        if "delta_ci_low" in data:
            notes.append("whiskers: credible interval of the change")
        if left_out:
            notes.append(f"{left_out} more factor{'s' if left_out > 1 else ''} with smaller changes not shown")
        if notes:
            fig.supxlabel("; ".join(notes), fontsize="small", color="0.35")
    else:
        ax.legend(handles=handles, fontsize="small", frameon=False, loc="best")
        if len(targets) > 1:  # dodged bars: say which is which
            order = ", ".join(_name(t, labels) for t in targets)
            ax.set_title(textwrap.fill(f"bars in each row, top to bottom: {order}", 70), fontsize="medium")
    return fig


@plain_text
def shift_heatmap(
    frame: pd.DataFrame,
    *,
    target_state: str | Mapping[str, str] | None = None,
    mode: str | list[str] | None = "observe",
    top: int | None = None,
    labels: Mapping[str, str] | None = None,
    good: Mapping[str, str] | None = None,
    ax=None,
):
    """Heatmap of context states (rows, ranked by impact) x targets (columns): change in percentage points.

    Each cell is annotated with the change; its colour says whether the change
    is good (blue) or bad (orange) for the partnership. With several modes the
    columns are target x mode.
    """
    _require(frame, ["context", "state", "target", "target_state", "mode", "delta"], "shift_heatmap")
    if "observe" not in set(frame["mode"]) and mode == "observe":
        mode = None
    data = _pick_modes(_pick_states(frame, target_state, "shift_heatmap"), mode, "shift_heatmap")
    data = data.assign(_sign=_signs(frame, data, good))
    order, left_out = _ranked_contexts(data, top, "shift_heatmap")
    data = data[data["context"].isin(order)].copy()
    data["_rank"] = data["context"].map({c: i for i, c in enumerate(order)})
    data = data.sort_values("_rank", kind="stable")
    data["row"] = [f"{_name(c, labels)}: {label(s)}" for c, s in zip(data["context"], data["state"])]
    several = data["mode"].nunique() > 1
    data["column"] = [
        f"{_name(t, labels)}\nP({label(ts)})" + (f"\n{_MODE_TEXT.get(m, m)}" if several else "")
        for t, ts, m in zip(data["target"], data["target_state"], data["mode"])
    ]
    data["_meaning"] = data["delta"] * data["_sign"]
    values = data.pivot_table(index="row", columns="column", values="delta", sort=False) * 100.0
    meaning = data.pivot_table(index="row", columns="column", values="_meaning", sort=False) * 100.0
    n_rows, n_cols = values.shape
    fig, ax = _new(ax, width=6.0 + 1.7 * n_cols, height=1.8 + 0.32 * n_rows)
    limit = float(np.nanmax(np.abs(meaning.to_numpy()))) or 1.0
    with warnings.catch_warnings():  # seaborn 0.13 calls a colormap method matplotlib is retiring
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        sns.heatmap(
            meaning, ax=ax, cmap=GOOD_BAD_CMAP, center=0.0, vmin=-limit, vmax=limit,
            annot=values.map(lambda v: f"{v:+.1f}"), fmt="", annot_kws={"fontsize": "small"},
            linewidths=0.5, linecolor="white",
            cbar_kws={"label": "bad for the partnership  ←  change (pp)  →  good", "shrink": 0.8},
        )
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.tick_params(axis="x", rotation=0)
    title = "How much each factor changes each outcome\n(percentage points, against the baseline)"
    which = estimate_text(data)
    if which:
        title += f"\nvalues: {which}"
    if left_out:
        title += f"\n{left_out} factors with smaller changes not shown"
    ax.set_title(title, loc="left", fontsize="medium")
    return fig


def _new(ax, width: float, height: float):
    if ax is not None:
        return ax.figure, ax
    with sns.axes_style("white"), sns.plotting_context("paper", font_scale=1.15):
        fig, new = plt.subplots(figsize=(width, height), layout="constrained")
    return fig, new


@plain_text
def scenario_chart(
    frame: pd.DataFrame,
    *,
    target_state: str | Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    good: Mapping[str, str] | None = None,
    ax=None,
):
    """Scenarios side by side (a ``compare_scenarios`` frame): the change from the baseline.

    One bar per scenario (and target): the change of the target state's
    probability in percentage points, whiskers for the credible interval of
    the change, blue when good for the partnership and orange when bad; the
    panel title gives the baseline. Without ``ax``: one panel per target;
    with ``ax``: targets dodged in that Axes.
    """
    _require(frame, ["scenario", "label", "target", "target_state", "p_baseline", "delta"], "scenario_chart")
    data = _pick_states(frame, target_state, "scenario_chart")
    data = data.assign(_sign=_signs(frame, data, good))
    scenarios = list(dict.fromkeys(zip(data["scenario"], data["label"])))
    y = {sid: i for i, (sid, _) in enumerate(scenarios)}
    targets = list(dict.fromkeys(data["target"]))
    if ax is None:
        fig, axes = _subplots(len(targets), height=1.9 + 0.42 * len(scenarios), width_per_panel=3.8)
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
            colours = [_colour(s, d) for s, d in zip(sub["_sign"], sub["delta"])]
            _bars(a, sub, pos, height * 0.92, colours, "////" if g % 2 else "")
            if n == 1:
                a.set_title(
                    f"{_name(target, labels)}\nP({label(sub['target_state'].iloc[0])}) "
                    f"{sub['p_baseline'].iloc[0] * 100:.0f}% at baseline",
                    fontsize="medium",
                )
        a.axvline(0.0, color="0.2", linewidth=0.8)
        _percent_points(a)
        a.set_xlabel(_with_estimate("change from the baseline (pp)", data) if ax is not None else "change (pp)")
        a.grid(axis="y", visible=False)
    axes[0].set_xlim(-_limit(data), _limit(data))
    lead = axes[0]
    lead.set_yticks(range(len(scenarios)))
    lead.set_yticklabels([escape(lab) for _, lab in scenarios])
    lead.set_ylim(len(scenarios) - 0.5, -0.5)
    handles = _legend_handles()
    if ax is None:
        fig.legend(handles=handles, loc="outside upper center", ncols=2, fontsize="small", frameon=False)
        note = _with_estimate("change from the baseline in percentage points (pp)", data)
        if "delta_ci_low" in data:
            note += "; whiskers: credible interval of the change"
        fig.supxlabel(note, fontsize="small", color="0.35")
    else:
        if n > 1:
            handles += [Patch(fc="white", ec="0.3", hatch="////" if g % 2 else "", label=_name(t, labels))
                        for g, t in enumerate(targets)]
        ax.legend(handles=handles, fontsize="small", frameon=False, loc="best")
    return fig
