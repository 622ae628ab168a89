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


@pytest.fixture(scope="module")
def full_model_study():
    """benchmarks/prior_weight.py --link medium, first 5 seeds: 2 of 5 flagged, median posterior 2.40, sd ratio 0.65."""
    shipped = bc.load_theory()
    return shipped, prior_weight.flag_study(shipped, LINK, shift=2.0, n=50, missing=0.3, replicates=5, seed=0)


@pytest.mark.slow
def test_full_model_study_moves_the_link_half_way_and_informs_it(full_model_study):
    shipped, rows = full_model_study
    posterior = sorted(r["posterior_weight"] for r in rows)[2]
    ratio = sorted(r["sd_ratio"] for r in rows)[2]
    assert posterior >= shipped.link(LINK).weight + 1.0, posterior  # elicited 1, truth 3
    assert ratio < 0.8, ratio


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="issue 11 target not met under the margin + 10% FDR verdict rule: 2 of 5 at 50 cases (README, prior weight)")
def test_full_model_study_flags_the_link_in_seventy_percent(full_model_study):
    _, rows = full_model_study
    assert sum(r["verdict"] == "strengthened" for r in rows) / len(rows) >= 0.7
