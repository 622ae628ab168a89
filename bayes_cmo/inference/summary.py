"""Summarising parameter draws: the mean and a central credible interval, one way for every verb."""

from __future__ import annotations

import numpy as np

#: Default credible level for intervals over parameter draws.
DEFAULT_LEVEL = 0.9


def interval(values: np.ndarray, level: float, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The central ``level`` interval of ``values`` over ``axis`` (the draw axis)."""
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(np.asarray(values, dtype=float), [tail, 1.0 - tail], axis=axis)
    return low, high


def summarise(values: np.ndarray, level: float, name: str, main: bool = True) -> dict[str, float]:
    """``{name: value}`` for a point value; with a draw axis the mean and its interval.

    The interval of a verb's main quantity is ``ci_low`` / ``ci_high``; of any
    other quantity ``{name}_ci_low`` / ``{name}_ci_high`` (e.g. ``delta_ci_low``).
    """
    values = np.asarray(values, dtype=float)
    if values.ndim == 0:
        return {name: float(values)}
    low, high = interval(values, level)
    prefix = "" if main else f"{name}_"
    return {name: float(values.mean()), f"{prefix}ci_low": float(low), f"{prefix}ci_high": float(high)}
