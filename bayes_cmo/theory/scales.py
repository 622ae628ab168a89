"""Verbal scales that turn an expert's words into numbers.

Every number here is documented in the README ("How a CMO link becomes
numbers"); an expert who disagrees can write a number instead of a word.
"""

from __future__ import annotations

#: Link strength -> log-odds shift of the child between the parent's two poles.
STRENGTH_LOGODDS: dict[str, float] = {
    "weak": 0.5,
    "moderate": 1.0,
    "strong": 2.0,
    "very_strong": 3.0,
}

#: Link confidence -> standard deviation of the link weight (log-odds), the
#: second-order uncertainty drawn from for credible intervals.
CONFIDENCE_SD: dict[str, float] = {
    "very_low": 1.0,
    "low": 0.6,
    "medium": 0.4,
    "high": 0.25,
}

#: Link confidence -> equivalent sample size (cases) the elicited weight is
#: worth when phase-2 data arrive.
CONFIDENCE_ESS: dict[str, float] = {
    "very_low": 2.0,
    "low": 5.0,
    "medium": 10.0,
    "high": 20.0,
}

#: Renooij & Witteman (1999) verbal probability anchors.
PROBABILITY_ANCHORS: dict[str, float] = {
    "certain": 1.0,
    "probable": 0.85,
    "expected": 0.75,
    "fifty-fifty": 0.5,
    "uncertain": 0.25,
    "improbable": 0.15,
    "impossible": 0.0,
}

#: Equivalent sample size behind a node's baseline when the file gives none.
DEFAULT_BASELINE_CONFIDENCE = 10.0

#: A baseline probability is kept inside (EPS, 1 - EPS) so that cutpoints stay
#: finite; "impossible" and "certain" become 1e-6 and 1 - 1e-6.
EPS = 1e-6
