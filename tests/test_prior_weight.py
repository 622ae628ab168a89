"""Proportionate prior weight: a realistic phase-2 study moves a medium-confidence link.

The small version runs the benchmark's study (benchmarks/prior_weight.py) on the
link's own family (its two nodes, the shipped judgements), where the update is
fast; the full-model version (every node, 50 cases, 30% blanks) is slow.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import bayes_cmo as bc

_SPEC = importlib.util.spec_from_file_location("prior_weight", Path(__file__).parents[1] / "benchmarks" / "prior_weight.py")
prior_weight = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(prior_weight)

LINK = "legal_agreements:accountability"  # medium confidence, 2 studies (43,61)


def _rate(theory, replicates):
    rows = prior_weight.flag_study(theory, LINK, shift=2.0, n=50, missing=0.3, replicates=replicates, seed=0)
    return sum(r["verdict"] == "strengthened" for r in rows) / len(rows)


def test_fifty_cases_move_a_medium_link_on_the_cases_scale_but_not_on_v01():
    shipped = bc.load_theory()
    assert shipped.link(LINK).confidence == "medium"
    family = prior_weight.family_theory(shipped, LINK)
    cases = _rate(family, 10)
    old = _rate(prior_weight.on_scale(family, "v0.1"), 10)
    assert cases >= 0.6, cases
    assert old <= 0.3, old
    assert cases > old


@pytest.mark.slow
def test_full_model_study_flags_the_link_in_seventy_percent():
    assert _rate(bc.load_theory(), 10) >= 0.7
