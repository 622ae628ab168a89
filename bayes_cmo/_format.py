"""Numbers as people read them: percentages, percentage points, intervals (the CLI and the report)."""

from __future__ import annotations

import math


def _missing(value) -> bool:
    try:
        return value is None or math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def percent(value: float, digits: int = 1, *, sign: bool = True) -> str:
    """0.123 -> '12.3%' ('' for a missing value); ``sign=False`` leaves the % out."""
    return "" if _missing(value) else f"{100 * float(value):.{digits}f}" + ("%" if sign else "")


def points(value: float, digits: int = 1, *, unit: str = "") -> str:
    """A change of probability in percentage points: 0.014 -> '+1.4' (``unit=" pp"``: '+1.4 pp')."""
    return "" if _missing(value) else f"{100 * float(value):+.{digits}f}{unit}"


def interval(low: float, high: float, points: bool = False, digits: int = 1, *, sign: bool = True) -> str:
    """'[12.3%, 14.0%]', without the % signs '[12.3, 14.0]', or in percentage points '[+0.3, +3.2]'."""
    if points:
        return f"[{_points(low, digits)}, {_points(high, digits)}]"
    return f"[{percent(low, digits, sign=sign)}, {percent(high, digits, sign=sign)}]"


_points = points
