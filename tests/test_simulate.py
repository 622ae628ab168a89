"""Synthetic cases: forward sampling matches the CPTs; one link can be changed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bayes_cmo import BayesCMOError, build_model, load_theory
from bayes_cmo.update.cases import read_cases
from bayes_cmo.update.simulate import parse_link_setting, set_link_weight, simulate_cases

TOY = Path(__file__).parent / "data" / "toy"


@pytest.fixture(scope="module")
def theory():
    return load_theory(TOY)


def test_frequencies_match_cpts(theory):
    model = build_model(theory)
    cases = simulate_cases(model, 40_000, seed=5)
    cpt = model.network.cpts["initial_trust"]  # (trust, legal, mandated)
    for i, legal in enumerate(("absent", "present")):
        for j, mandated in enumerate(("no", "yes")):
            sel = cases[(cases.legal_agreements == legal) & (cases.mandated == mandated)]
            share = (sel.initial_trust == "high").mean()
            se = np.sqrt(cpt[1, i, j] * (1 - cpt[1, i, j]) / len(sel))
            assert abs(share - cpt[1, i, j]) < 4 * se
    assert abs((cases.legal_agreements == "present").mean() - 0.4) < 0.01


def test_marked_synthetic_reproducible_and_valid(theory):
    model = build_model(theory)
    a = simulate_cases(model, 30, missing=0.3, seed=1)
    b = simulate_cases(model, 30, missing=0.3, seed=1)
    assert a.equals(b)
    assert (a["notes"] == "synthetic").all() and a["case_id"].iloc[0] == "sim-001"
    assert read_cases(a, model).shape == a.shape
    blanks = a[list(model.variables)].isna().to_numpy().mean()
    assert 0.15 < blanks < 0.45


def test_observed_subset_and_zero_cases(theory):
    model = build_model(theory)
    frame = simulate_cases(model, 5, observed=["synergy"])
    assert list(frame.columns) == ["case_id", "notes", "synergy"]
    assert len(simulate_cases(model, 0)) == 0


def test_set_link_weight(theory):
    changed = set_link_weight(theory, "legal_agreements:initial_trust", -3.0)
    link = changed.link("legal_agreements:initial_trust")
    assert link.weight == -3.0 and link.confidence == "medium"
    assert theory.link("legal_agreements:initial_trust").weight == 2.0  # original untouched
    assert parse_link_setting("a:b=1.5") == ("a:b", 1.5)
    with pytest.raises(BayesCMOError, match="did you mean 'legal_agreements:initial_trust'"):
        set_link_weight(theory, "legal_agreement:initial_trust", 1.0)
    with pytest.raises(BayesCMOError, match="FROM:TO=WEIGHT"):
        parse_link_setting("legal_agreements=3")


@pytest.mark.parametrize("kwargs, name", [({"n": -1}, "^n: expected 0 or a positive integer, got -1$"), ({"n": 3, "missing": 1.0}, "^missing: expected a fraction"), ({"n": 3, "observed": ["nope"]}, "unknown node")])
def test_bad_arguments(theory, kwargs, name):
    with pytest.raises(BayesCMOError, match=name):
        simulate_cases(build_model(theory), **kwargs)
