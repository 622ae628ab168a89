"""Preposterior sample size: intervals shrink with n, the sign is found, runs are reproducible."""

from __future__ import annotations


import numpy as np
import pytest
from scipy.optimize import check_grad, minimize
from scipy.special import expit

from bayes_cmo import BayesCMOError, build_model
from bayes_cmo.planning.sample_size import _analysis_family, _fit, sample_size

from conftest import TOY
COLUMNS = [
    "link", "n", "expected_ci_width", "ci_width_low", "ci_width_high", "p_sign_correct", "p_excludes_zero", "replicates",
    "p_data_settles", "p_verdict_changes", "narrowing",  # issue 12
    "level", "prior", "fit", "prior_ci_width", "prior_p_sign_correct", "settled_by",
]


@pytest.fixture(scope="module")
def sceptical(toy_theory):
    return sample_size(build_model(toy_theory), "mandated:initial_trust", n=(5, 20, 80, 320), replicates=60, prior="sceptical", progress=False)


def test_columns_and_shrinking_interval(sceptical):
    assert list(sceptical.columns) == COLUMNS
    assert list(sceptical["n"]) == [5, 20, 80, 320]
    assert (sceptical["replicates"] == 60).all()
    widths = sceptical["expected_ci_width"].to_numpy()
    assert np.all(np.diff(widths) < 0)
    # roughly 1 / sqrt(n) once the data dominate: 80 -> 320 cases halves the width
    assert widths[3] / widths[2] == pytest.approx(0.5, abs=0.1)
    assert (sceptical["ci_width_low"] <= sceptical["expected_ci_width"]).all()
    assert (sceptical["expected_ci_width"] <= sceptical["ci_width_high"]).all()


def test_sign_found_more_often_with_more_cases(sceptical):
    p = sceptical["p_sign_correct"].to_numpy()
    assert p[-1] > p[0]
    assert p[-1] >= 0.8  # true weights near 0 keep it below 1
    assert sceptical["p_excludes_zero"].iloc[-1] > sceptical["p_excludes_zero"].iloc[0]


def test_elicited_prior_interval_starts_at_the_prior(toy_theory):
    frame = sample_size(build_model(toy_theory), n=(10, 40), replicates=30, missing=0.0, progress=False)
    prior_width = frame["prior_ci_width"].iloc[0]
    assert prior_width == pytest.approx(2 * 1.6448536 * 0.4, rel=1e-6)  # medium confidence, 90%
    assert (frame["expected_ci_width"] < prior_width).all()
    assert frame["expected_ci_width"].iloc[1] < frame["expected_ci_width"].iloc[0]


def test_seeded_reproducible(toy_theory):
    kwargs = dict(n=(10, 30), replicates=20, progress=False, missing=0.3)
    a = sample_size(build_model(toy_theory), "legal_agreements:initial_trust", seed=3, **kwargs)
    b = sample_size(build_model(toy_theory), "legal_agreements:initial_trust", seed=3, **kwargs)
    c = sample_size(build_model(toy_theory), "legal_agreements:initial_trust", seed=4, **kwargs)
    assert a.equals(b)
    assert not a.equals(c)


def test_uncoded_nodes_carry_no_information(toy_theory):
    # coding only the contexts tells nothing about the trust family beyond the prior's own spread
    frame = sample_size(build_model(toy_theory), n=(40,), replicates=20, coded=["legal_agreements", "mandated"], progress=False)
    assert frame["expected_ci_width"].iloc[0] == pytest.approx(frame["prior_ci_width"].iloc[0], rel=1e-3)


def test_family_fit_matches_direct_optimisation(toy_theory):
    # Complete data: the family likelihood is the plain ordered-logit likelihood of the counts.
    fam, index = _analysis_family(toy_theory, "initial_trust", "legal_agreements:initial_trust", "elicited")
    start = fam.prior_mode()
    rng = np.random.default_rng(0)
    n_cells = fam.card * fam.design.shape[1]
    q = np.zeros((50, n_cells))
    q[np.arange(50), rng.integers(0, n_cells, size=50)] = 1.0
    assert check_grad(lambda t: fam.objective(t, q=q)[0], lambda t: fam.objective(t, q=q)[1], start + 0.2) < 1e-4
    theta, sd = _fit(fam, q, start, index)
    direct = minimize(lambda t: fam.objective(t, q=q)[0], start, method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 20000})
    np.testing.assert_allclose(theta, direct.x, atol=1e-4)
    assert 0 < sd < 0.4  # data narrow the medium-confidence prior
    # two-state node: the cutpoint prior has its mode at the baseline
    assert expit(start[-1]) == pytest.approx(0.5)


def test_bad_arguments(toy_theory):
    with pytest.raises(BayesCMOError, match="did you mean 'legal_agreements:initial_trust'"):
        sample_size(build_model(toy_theory), "legal_agreement:initial_trust", progress=False)
    with pytest.raises(BayesCMOError, match="n: expected a positive integer, got 0"):
        sample_size(build_model(toy_theory), n=(0, 10), progress=False)
    with pytest.raises(BayesCMOError, match="missing: expected a fraction at least 0 and below 1, got 1 .1 would leave every cell blank."):
        sample_size(build_model(toy_theory), missing=1.0, progress=False)
    with pytest.raises(BayesCMOError, match="prior: expected one of elicited, sceptical, got 'sceptic'; did you mean 'sceptical'"):
        sample_size(build_model(toy_theory), prior="sceptic", progress=False)
    with pytest.raises(BayesCMOError, match="coded: unknown node"):
        sample_size(build_model(toy_theory), coded=["trust"], progress=False)


def test_cli_sample_size(capsys):
    import json

    from bayes_cmo.cli import main

    args = ["plan", "sample-size", "--model", str(TOY), "--n", "10", "20", "--replicates", "10", "--quiet", "--json"]
    assert main(args) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["n"] for r in rows] == [10, 20]
    assert set(rows[0]) == set(COLUMNS)
    assert main(["plan", "sample-size", "--model", str(TOY), "--link", "legal_agreements:synergy", "--quiet"]) == 2
    assert "unknown link" in capsys.readouterr().err
