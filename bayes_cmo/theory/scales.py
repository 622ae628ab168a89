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

#: Link confidence -> equivalent sample size: how many fully coded phase-2
#: cases the elicited weight is worth (the "cases" scale). A realist review of
#: case studies, reviews and commentaries is worth a handful of cases per link,
#: not hundreds, so that a 50-case study can move a medium-confidence link.
CONFIDENCE_ESS: dict[str, float] = {
    "very_low": 2.0,
    "low": 5.0,
    "medium": 10.0,
    "high": 20.0,
}

#: Fisher information about a link weight carried by one fully coded case in
#: the reference situation: a binary parent scored -0.5/+0.5 split evenly
#: (variance 1/4) and a binary child at 50% (p(1-p) = 1/4).
REFERENCE_CASE_INFORMATION = 1.0 / 16.0

#: The "cases" scale: weight sd = 1 / sqrt(ess * information per case), so the
#: prior precision equals that of ``CONFIDENCE_ESS`` reference cases
#: (very_low 2.83, low 1.79, medium 1.26, high 0.89 log-odds).
CONFIDENCE_SD_CASES: dict[str, float] = {
    word: 1.0 / (ess * REFERENCE_CASE_INFORMATION) ** 0.5 for word, ess in CONFIDENCE_ESS.items()
}

#: The v0.1 scale (kept so that priors folders written by 0.1, which name no
#: scale, reproduce): worth hundreds of cases per link.
CONFIDENCE_SD_V01: dict[str, float] = {
    "very_low": 1.0,
    "low": 0.6,
    "medium": 0.4,
    "high": 0.25,
}

#: ``confidence_scale:`` in links.yaml -> confidence word -> weight sd.
CONFIDENCE_SCALES: dict[str, dict[str, float]] = {"cases": CONFIDENCE_SD_CASES, "v0.1": CONFIDENCE_SD_V01}
#: The scale of a links.yaml that names none.
DEFAULT_CONFIDENCE_SCALE = "v0.1"

#: Link confidence -> weight sd on the default scale (the words a link may use).
CONFIDENCE_SD: dict[str, float] = CONFIDENCE_SCALES[DEFAULT_CONFIDENCE_SCALE]


def cases_worth(sd: float, information: float) -> float:
    """Prior-equivalent number of fully coded cases: prior precision / information per case."""
    return 1.0 / (sd * sd * information) if information > 0 else float("inf")

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
