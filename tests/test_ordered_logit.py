"""The ordered-logit family model: derivatives, prior mode, agreement with the elicited CPTs."""

from __future__ import annotations


import numpy as np
import pytest

from bayes_cmo.update.ordered_logit import Family, families, laplace_covariance
from bayes_cmo.network.elicitation import build_cpts



@pytest.fixture(scope="module")
def fam(default_theory):
    # three states (log-gap cutpoints), six links, 288 parent configurations
    return Family.from_theory(default_theory, "initial_trust")


def _theta(fam, seed=0):
    rng = np.random.default_rng(seed)
    return fam.prior_mode() + rng.normal(0.0, 0.3, size=fam.prior_mode().size)


def _central(fun, x, h=1e-6):
    cols = []
    for i in range(x.size):
        step = np.zeros_like(x)
        step[i] = h
        cols.append((np.asarray(fun(x + step)) - np.asarray(fun(x - step))) / (2 * h))
    return np.stack(cols, axis=-1)


def _data(fam, seed=0, n_cases=40):
    rng = np.random.default_rng(seed)
    cells = fam.card * fam.design.shape[1]
    counts = rng.gamma(0.5, 1.0, size=(fam.card, fam.design.shape[1]))
    q = rng.uniform(0.0, 1.0, size=(n_cases, cells)) * (rng.uniform(size=(n_cases, cells)) < 0.2)
    q[:, 0] += 0.1  # every case possible
    return counts, q


def test_jacobian_matches_finite_differences(fam):
    theta = _theta(fam)
    pi, jac = fam.jacobian(theta)
    np.testing.assert_allclose(pi, fam.probabilities(theta), atol=1e-15)
    np.testing.assert_allclose(jac, _central(lambda t: fam.probabilities(t).ravel(), theta), atol=1e-8)


@pytest.mark.parametrize("data", ["prior", "counts", "q", "both"])
def test_gradient_matches_finite_differences(fam, data):
    theta = _theta(fam, seed=1)
    counts, q = _data(fam)
    kwargs = {"prior": {}, "counts": {"counts": counts}, "q": {"q": q}, "both": {"counts": counts, "q": q}}[data]
    value, grad = fam.objective(theta, **kwargs)
    assert np.isfinite(value)
    numeric = _central(lambda t: fam.objective(t, **kwargs)[0], theta)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-6)
    lp, lp_grad = fam.log_prior(theta)
    np.testing.assert_allclose(lp_grad, _central(lambda t: fam.log_prior(t)[0], theta), rtol=1e-6, atol=1e-6)


def test_scores_sum_to_the_count_gradient(fam):
    theta = _theta(fam, seed=2)
    rng = np.random.default_rng(3)
    per_case = rng.dirichlet(np.ones(fam.card * fam.design.shape[1]), size=25).reshape(25, fam.card, -1)
    scores = fam.scores(theta, per_case)
    data_grad = fam.objective(theta)[1] - fam.objective(theta, counts=per_case.sum(axis=0))[1]
    np.testing.assert_allclose(scores.sum(axis=0), data_grad, rtol=1e-9, atol=1e-9)


def test_complete_data_counts_and_cases_agree(fam):
    # one-hot q: the per-case likelihood is the plain count likelihood
    rng = np.random.default_rng(4)
    cells = fam.card * fam.design.shape[1]
    q = np.zeros((30, cells))
    q[np.arange(30), rng.integers(0, cells, size=30)] = 1.0
    counts = q.sum(axis=0).reshape(fam.card, -1)
    theta = _theta(fam, seed=5)
    a, b = fam.objective(theta, counts=counts), fam.objective(theta, q=q)
    assert a[0] == pytest.approx(b[0], rel=1e-12)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("node", ["initial_trust", "ambition", "dissolution", "power_imbalance"])
def test_map_without_data_is_the_elicited_prior(default_theory, node):
    fam = Family.from_theory(default_theory, node)
    mode = fam.prior_mode()
    theta = fam.fit(mode + 0.5)
    np.testing.assert_allclose(theta, mode, atol=1e-5)
    w, _ = fam.unpack(theta)
    np.testing.assert_allclose(w, [default_theory.link(link).weight for link in fam.links], atol=1e-5)
    np.testing.assert_allclose(fam.implied_baseline(theta), default_theory.nodes[node].baseline, atol=1e-6)
    np.testing.assert_allclose(fam.implied_baseline(mode), default_theory.nodes[node].baseline, atol=1e-12)
    # the gradient vanishes exactly at the mode; the weight block of the prior precision is 1 / sd^2
    np.testing.assert_allclose(fam.objective(mode)[1], 0.0, atol=1e-9)
    cov = laplace_covariance(fam.hessian(mode))
    np.testing.assert_allclose(np.sqrt(np.diag(cov)[: fam.n_links]), fam.prior_sd, rtol=1e-6)


@pytest.mark.parametrize("source", ["default", "toy"])
def test_probabilities_equal_the_elicited_cpts(source, default_theory, toy_theory):
    theory = default_theory if source == "default" else toy_theory
    cpts = build_cpts(theory)
    fams = families(theory)
    assert fams and set(fams) == {v for v in theory.order() if theory.parents(v) and v not in theory.tables}
    for node, fam in fams.items():
        np.testing.assert_allclose(
            fam.probabilities(fam.prior_mode()).reshape(cpts[node].shape), cpts[node], atol=1e-10, err_msg=node
        )


def test_cutpoints_stay_ordered_and_round_trip(fam):
    rng = np.random.default_rng(6)
    for _ in range(20):
        theta = rng.normal(0.0, 3.0, size=fam.prior_mode().size)
        _, cut = fam.unpack(theta)
        assert np.all(np.diff(cut) > 0)
        assert np.all(fam.probabilities(theta) >= 0)
    w, cut = fam.unpack(fam.prior_mode())
    baseline = np.diff(np.concatenate([[0.0], 1 / (1 + np.exp(-cut)), [1.0]]))
    np.testing.assert_allclose(fam.pack(w, baseline), fam.prior_mode(), atol=1e-10)


def test_laplace_covariance_refuses_an_indefinite_precision():
    assert np.isnan(laplace_covariance(np.array([[1.0, 2.0], [2.0, 1.0]]))).all()
    np.testing.assert_allclose(laplace_covariance(np.diag([4.0, 0.25])), np.diag([0.25, 4.0]))


@pytest.mark.parametrize("data", ["prior", "counts", "q", "both"])
def test_analytic_hessian_matches_differences_of_the_gradient(fam, data):
    theta = _theta(fam, seed=7)
    counts, q = _data(fam, seed=8)
    kwargs = {"prior": {}, "counts": {"counts": counts}, "q": {"q": q}, "both": {"counts": counts, "q": q}}[data]
    numeric = _central(lambda t: fam.objective(t, **kwargs)[1], theta, h=1e-5)
    hess = fam.hessian(theta, **kwargs)
    np.testing.assert_allclose(hess, hess.T, atol=0)
    np.testing.assert_allclose(hess, 0.5 * (numeric + numeric.T), rtol=1e-6, atol=1e-6 * np.abs(numeric).max())


def test_fits_run_every_blas_on_one_thread():
    # scipy ships its own OpenBLAS (L-BFGS-B calls it); threadpoolctl limits only libraries already loaded,
    # so in a fresh interpreter the limit must still reach scipy's
    import subprocess
    import sys

    code = (
        "from threadpoolctl import threadpool_info\n"
        "from bayes_cmo.update.ordered_logit import one_blas_thread\n"
        "with one_blas_thread():\n"
        "    import scipy.optimize\n"
        "    print(sorted({lib['num_threads'] for lib in threadpool_info() if lib['user_api'] == 'blas'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[1]", out
