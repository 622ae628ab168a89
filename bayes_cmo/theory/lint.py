"""The evidence audit: every link against the strength and confidence rules of links.yaml.

The rules (stated in the header of the shipped ``priors/links.yaml``):

* **strength from wording** of the cited sentences (``citation.cmo`` plus any
  ``citation.support``): a strong word ("drastically", "fatally", "essential",
  "at the heart") -> strong or very_strong; otherwise a hedge ("could", "may",
  "might", "possible", "potentially") -> weak or moderate; otherwise a plain
  claim -> moderate.
* **studies only from the cited sentences**: ``evidence.studies`` equals the
  reference numbers in those sentences outside 30-40 (the purposive
  middle-range theories) plus the studies named by author and year.
* **basis**: systematic when the sentences cite a study; middle_range when they
  cite only middle-range theories; posited when they cite nothing, or when the
  paper itself says it posits (the author may always declare ``posited``).
* **confidence from evidence**: posited -> very_low; middle_range, or one
  study -> low; 2-4 studies -> medium; 5 or more -> high; a citation group
  that supports a whole list of factors (``evidence.list_level: true``) is
  capped at medium.

:func:`lint_links` is pure: it reads the theory and returns one row per
departure, with the link's ``rule_exception`` (the recorded reason) if any.
Only links that record ``evidence`` are audited (the rules relate evidence to
numbers); numeric strengths (written by an update) are not wording and are not
linted for strength.
"""

from __future__ import annotations

import re

import numpy as np

from . import scales
from .._lazy import pandas as pd
from .objects import Link, Theory

STRONG_WORDS = ("drastically", "fatally", "essential", "at the heart")
HEDGE_WORDS = ("could", "may", "might", "possible", "potentially")
#: Reference numbers of the purposive middle-range theories (Results > Paper selection).
MIDDLE_RANGE = range(30, 41)
#: Reference numbers run to about 90; larger numbers in brackets are pages or years.
_MAX_REFERENCE = 200

LINT_COLUMNS = ["link", "rule", "expected", "actual", "rule_exception"]

_GROUP = re.compile(r"\(([\d\s,\u2013\-]+)\)")
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")  # reference numbers never reach 1900


def cited_text(link: Link) -> str:
    """The cited sentences of a link (cmo and support), whitespace-normalised."""
    parts = [str(link.citation.get("cmo") or "")] + list(link.citation.get("support") or [])
    return " ".join(" ".join(p.split()) for p in parts if p)


def reference_numbers(text: str) -> list[int]:
    """The numbered references of a text: ``(43,61)``, ``(12,13,42–47)``; pages and years are left out."""
    out: list[int] = []
    for group in _GROUP.findall(text):
        for item in group.split(","):
            item = item.strip()
            if not item:
                continue
            bounds = re.split(r"[\u2013\-]", item)
            try:
                numbers = [int(b) for b in bounds if b.strip()]
            except ValueError:
                continue
            if len(numbers) == 2 and numbers[0] < numbers[1]:
                numbers = list(range(numbers[0], numbers[1] + 1))
            out += [n for n in numbers if 0 < n < _MAX_REFERENCE]
    return out


def count_evidence(text: str) -> tuple[int, int]:
    """(studies, middle-range theories) cited in ``text``: numbered studies plus author-year names."""
    numbers = set(reference_numbers(text))
    theories = sum(1 for n in numbers if n in MIDDLE_RANGE)
    named = len(_YEAR.findall(text))
    return len(numbers) - theories + named, theories


def expected_strengths(text: str) -> tuple[str, ...]:
    low = text.lower()
    if any(word in low for word in STRONG_WORDS):
        return ("strong", "very_strong")
    if any(re.search(rf"\b{word}\b", low) for word in HEDGE_WORDS):
        return ("weak", "moderate")
    return ("moderate",)


def expected_confidence(basis: str, studies: int, list_level: bool = False) -> str:
    if basis == "posited":
        return "very_low"
    if basis == "middle_range" or studies <= 1:
        return "low"
    if studies >= 5 and not list_level:
        return "high"
    return "medium"


def lint_links(theory: Theory) -> pd.DataFrame:
    """One row per departure from the rules: ``link``, ``rule`` (strength, studies,
    basis, confidence), ``expected``, ``actual``, ``rule_exception`` (the recorded
    reason; empty = unexplained)."""
    rows = []
    for link in theory.links:
        if not link.evidence:
            continue
        text = cited_text(link)
        studies, theories = count_evidence(text)
        declared = link.evidence.get("studies")
        basis = str(link.evidence.get("basis", ""))
        list_level = bool(link.evidence.get("list_level", False))

        def depart(rule, expected, actual):
            rows.append({"link": link.id, "rule": rule, "expected": expected, "actual": actual,
                         "rule_exception": link.rule_exception})

        if link.strength_label in scales.STRENGTH_LOGODDS and text:
            allowed = expected_strengths(text)
            if link.strength_label not in allowed:
                depart("strength", " or ".join(allowed), link.strength_label)
        if declared != studies:
            depart("studies", str(studies), str(declared))
        derived = "systematic" if studies else "middle_range" if theories else "posited"
        if basis != "posited" and basis != derived:
            depart("basis", derived, basis)
        n = declared if isinstance(declared, (int, np.integer)) else studies
        expected = expected_confidence(basis, int(n), list_level)
        if link.confidence != expected:
            depart("confidence", expected, link.confidence)
    return pd.DataFrame(rows, columns=LINT_COLUMNS)


def unexplained(lint: pd.DataFrame) -> pd.DataFrame:
    """The departures without a ``rule_exception``."""
    return lint[lint["rule_exception"].astype(str).str.strip() == ""].reset_index(drop=True)


def link_information(theory: Theory, link: Link) -> float:
    """Fisher information about ``link``'s weight in one fully coded case (approximate).

    The variance of the link's design (score x multiplier) with each parent
    distributed as its baseline, times the information of the child's ordered
    logit about its linear predictor at the child's baseline,
    ``sum_k (d pi_k / d eta)^2 / pi_k``.
    """
    source = np.asarray(theory.nodes[link.source].baseline, dtype=float)
    scores = np.asarray(link.scores, dtype=float)
    if link.moderator:
        mod = np.asarray(theory.nodes[link.moderator].baseline, dtype=float)
        design = np.multiply.outer(scores, np.asarray(link.multipliers, dtype=float))
        weights = np.multiply.outer(source, mod)
    else:
        design, weights = scores, source
    mean = float((design * weights).sum())
    variance = float((((design - mean) ** 2) * weights).sum())
    child = np.clip(np.asarray(theory.nodes[link.target].baseline, dtype=float), 1e-12, None)
    cum = np.clip(np.cumsum(child)[:-1], 1e-12, 1 - 1e-12)
    density = np.concatenate([[0.0], cum * (1 - cum), [0.0]])  # logistic density at each cutpoint
    d_pi = density[:-1] - density[1:]
    return variance * float((d_pi**2 / child).sum())


def prior_cases(theory: Theory, link: Link) -> float:
    """The link's prior-equivalent number of fully coded cases: prior precision / per-case information."""
    return scales.cases_worth(link.weight_sd, link_information(theory, link))
