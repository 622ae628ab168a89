"""Learning on network files: Dirichlet priors with an equivalent sample size on every CPT, EM with blanks,
the result as a network file of the same format; checked against pyAgrum's EM with matched priors."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import yaml

from bayes_cmo import BayesCMOError, export_model, load_model
from bayes_cmo.cli import main
from bayes_cmo.engine import core as _engine
from bayes_cmo.network import _pgmpy
from bayes_cmo.network.model import Model, max_abs_difference
from bayes_cmo.update.em import table_refinement, update_priors
from bayes_cmo.update.simulate import simulate_cases


@pytest.fixture(scope="module")
def asia():
    return Model(network=_pgmpy.arrays_from_pgmpy(_pgmpy.get_example_model("asia")), source="asia")


def _uniform(model: Model) -> Model:
    net = model.network
    flat = {v: np.full(net.cpts[v].shape, 1.0 / len(net.states[v])) for v in net.variables}
    return Model(network=_engine.with_cpts(net, **flat), source="uniform asia")


def test_matches_pyagrum_em_on_asia_with_matched_priors(asia, tmp_path):
    """Uniform start, ess = 2 per binary column (one pseudo-count per cell) == pyAgrum's smoothing prior 1."""
    gum = pytest.importorskip("pyagrum")
    prior = _uniform(asia)
    cases = simulate_cases(asia, 400, missing=0.3, seed=2)
    ours = update_priors(prior, cases, ess=2.0, tol=1e-12, max_iter=2000)
    template = gum.loadBN(str(export_model(prior, tmp_path / "flat.bif")))
    learner = gum.BNLearner(cases.drop(columns=["case_id"]).fillna("?"), template, ["?"])
    learner.useSmoothingPrior(1.0)
    learner.useEM(1e-12, 0.0)  # no random perturbation of the start
    bn = learner.learnParameters(template.dag())
    net = asia.network
    for v in net.variables:
        pot = bn.cpt(v)
        names = [pot.variable(i).name() for i in range(pot.nbrDim())][::-1]  # toarray: the last variable first
        theirs = np.transpose(np.asarray(pot.toarray()), [names.index(x) for x in (v, *net.parents[v])])
        np.testing.assert_allclose(ours.model.network.cpts[v], theirs, atol=1e-5, err_msg=v)


def test_no_cases_change_nothing_and_complete_data_is_counting(asia):
    prior = _uniform(asia)
    empty = simulate_cases(asia, 5, seed=1).iloc[:0]
    assert max_abs_difference(update_priors(prior, empty).model, prior) == 0.0
    cases = simulate_cases(asia, 50, seed=3)  # no blanks: one M-step is exact counting
    result = update_priors(prior, cases, ess=2.0)
    counts = (cases["asia"] == "yes").sum()
    np.testing.assert_allclose(result.model.network.cpts["asia"][asia.states("asia").index("yes")], (counts + 1) / 52, atol=1e-12)


def test_table_refinement_intervals(asia):
    result = update_priors(asia, simulate_cases(asia, 200, missing=0.3, seed=5), ess=10.0)
    table = table_refinement(result, level=0.9)
    assert len(table) == sum(c.size for c in asia.network.cpts.values())
    assert (table["posterior_low"] <= table["posterior_p"] + 1e-9).all() and (table["posterior_p"] <= table["posterior_high"] + 1e-9).all()
    smoke = table[(table["node"] == "smoke")]
    assert smoke["n_column"].iloc[0] == pytest.approx(200.0)
    assert (table["posterior_high"] - table["posterior_low"]).mean() < (table["prior_high"] - table["prior_low"]).mean()


def test_ess_only_for_network_files(toy_model, asia):
    with pytest.raises(BayesCMOError, match="ess: a network-file setting"):
        update_priors(toy_model, simulate_cases(toy_model, 3, seed=1), ess=5)
    with pytest.raises(BayesCMOError, match="ess: expected a positive number, got 0"):
        update_priors(asia, simulate_cases(asia, 3, seed=1), ess=0)


def test_cli_update_a_bif_network_from_a_case_file(tmp_path, monkeypatch, capsys, asia):
    monkeypatch.chdir(tmp_path)
    export_model(asia, tmp_path / "asia.bif")
    simulate_cases(asia, 120, missing=0.3, seed=9).to_csv(tmp_path / "cases.csv", index=False)
    before = hashlib.sha256((tmp_path / "asia.bif").read_bytes()).hexdigest()
    assert main(["update", "cases.csv", "--model", "asia.bif", "--out", "asia_v2.net", "--quiet"]) == 2
    assert "written as a BIF file; name it e.g. asia_v2.bif" in capsys.readouterr().err
    assert main(["update", "cases.csv", "--model", "asia.bif", "--out", "asia_v2.bif", "--ess", "5", "--quiet", "--json",
                 "--report", "cpts.csv"]) == 0
    payload = json.loads(capsys.readouterr().out)
    expected = update_priors(load_model(tmp_path / "asia.bif"), tmp_path / "cases.csv", ess=5.0)
    assert max_abs_difference(load_model(tmp_path / "asia_v2.bif"), expected.model) < 1e-12
    assert payload["iterations"] == expected.iterations and len(payload["tables"]) == 36
    provenance = yaml.safe_load((tmp_path / "asia_v2.bif.provenance.yaml").read_text())
    assert provenance["ess"] == 5.0 and provenance["cases"]["n"] == 120 and provenance["model"]["sha256"] == before
    assert hashlib.sha256((tmp_path / "asia.bif").read_bytes()).hexdigest() == before
    assert (tmp_path / "cpts.csv").exists()


@pytest.mark.slow
def test_matches_pyagrum_em_on_child(tmp_path):
    """child (20 nodes, up to 6 states), 150 cases, 30% blanks: one pseudo-count per cell on both sides.

    child's state names (``0-3_days``) are not valid BIF for pyAgrum, so it reads our NET export.
    The cell-wise prior is set on the EM's fixed part directly (``ess`` is one number for all nodes).
    """
    gum = pytest.importorskip("pyagrum")
    from bayes_cmo.update import em

    truth = Model(network=_pgmpy.arrays_from_pgmpy(_pgmpy.get_example_model("child")), source="child")
    prior = _uniform(truth)
    cases = simulate_cases(truth, 150, missing=0.3, seed=2)
    net = truth.network
    fixed = em._Fixed(prior, {}, {v: np.ones(net.cpts[v].shape) for v in net.variables})
    run = em._iterate(fixed, em._EStep(prior, em._as_cases(cases, prior)), 3000, 1e-12, False)
    template = gum.loadBN(str(export_model(prior, tmp_path / "child.net")))
    learner = gum.BNLearner(cases.drop(columns=["case_id"]).fillna("?"), template, ["?"])
    learner.useSmoothingPrior(1.0)
    learner.useEM(1e-8, 0.0)  # pyAgrum re-counts the data every iteration: 1e-12 takes minutes, 1e-8 agrees to 3e-6
    bn = learner.learnParameters(template.dag())
    for v in net.variables:
        pot = bn.cpt(v)
        names = [pot.variable(i).name() for i in range(pot.nbrDim())][::-1]
        theirs = np.transpose(np.asarray(pot.toarray()), [names.index(x) for x in (v, *net.parents[v])])
        np.testing.assert_allclose(run.cpts[v], theirs, atol=5e-5, err_msg=v)
