"""Numbers as people read them: percentages, percentage points, intervals (the CLI and the report)."""

from __future__ import annotations

import math


def _missing(value) -> bool:
    try:
        return value is None or math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def percent(value: float) -> str:
    """0.123 -> '12.3%' ('' for a missing value)."""
    return "" if _missing(value) else f"{100 * float(value):.1f}%"


def points(value: float) -> str:
    """A change of probability in percentage points: 0.014 -> '+1.4'."""
    return "" if _missing(value) else f"{100 * float(value):+.1f}"


def interval(low: float, high: float, points: bool = False) -> str:
    """'[12.3%, 14.0%]', or in percentage points '[+0.3, +3.2]'."""
    f = _points if points else percent
    return f"[{f(low)}, {f(high)}]"


_points = points
