"""A case explained (issue 12): most probable mechanisms and each finding's Shapley contribution."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import bayes_cmo as bc
from bayes_cmo import BayesCMOError
from bayes_cmo.cli import main
from bayes_cmo.inference.explain import default_targets, explain


def _p(model, target, state, evidence):
    return float(bc.posterior(model, target, evidence)[target][model.states(target).index(state)])


def test_shapley_by_hand_on_the_toy(toy_model):
    evidence = {"legal_agreements": "present", "mandated": "yes"}
    result = explain(toy_model, evidence, ["synergy"])
    v = {
        (): _p(toy_model, "synergy", "synergy", {}),
        ("l",): _p(toy_model, "synergy", "synergy", {"legal_agreements": "present"}),
        ("m",): _p(toy_model, "synergy", "synergy", {"mandated": "yes"}),
        ("l", "m"): _p(toy_model, "synergy", "synergy", evidence),
    }
    phi_l = 0.5 * ((v[("l",)] - v[()]) + (v[("l", "m")] - v[("m",)]))
    phi_m = 0.5 * ((v[("m",)] - v[()]) + (v[("l", "m")] - v[("l",)]))
    table = result.contributions.set_index("node")
    assert table.loc["legal_agreements", "shapley"] == pytest.approx(phi_l, abs=1e-12)
    assert table.loc["mandated", "shapley"] == pytest.approx(phi_m, abs=1e-12)
    assert table.loc["legal_agreements", "leave_one_out"] == pytest.approx(v[("l", "m")] - v[("m",)], abs=1e-12)
    assert phi_l > 0 > phi_m  # agreements raise synergy (via trust), mandating lowers it
    out = result.outcomes.iloc[0]
    assert out.p_prior == pytest.approx(v[()], abs=1e-12) and out.p_case == pytest.approx(v[("l", "m")], abs=1e-12)
    assert result.method == "exact Shapley"


def test_mechanisms_are_the_marginal_argmax(toy_model):
    result = explain(toy_model, {"legal_agreements": "present", "mandated": "no"})
    row = result.mechanisms.set_index("node").loc["initial_trust"]
    p = bc.posterior(toy_model, "initial_trust", {"legal_agreements": "present", "mandated": "no"})["initial_trust"]
    assert row.state == toy_model.states("initial_trust")[int(np.argmax(p))]
    assert row.probability == pytest.approx(float(np.max(p)), abs=1e-12)
    assert row.prior_probability == pytest.approx(float(bc.posterior(toy_model, "initial_trust")["initial_trust"][int(np.argmax(p))]), abs=1e-12)


def test_contributions_sum_to_the_total_change_exact_and_sampled(default_model):
    cases = bc.simulate_cases(default_model, 1, missing=0.3, seed=3)
    findings = {k: v for k, v in cases.iloc[0].items() if k not in ("case_id", "notes") and v is not None}
    few = dict(list(findings.items())[:7])
    exact = explain(default_model, few, ["synergy", "dissolution"])
    sampled = explain(default_model, few, ["synergy", "dissolution"], max_exact=3, permutations=300, seed=1)
    for result in (exact, sampled):
        np.testing.assert_allclose(result.outcomes["shapley_sum"], result.outcomes["total_change"], atol=1e-12)
    merged = exact.contributions.merge(sampled.contributions, on=["target", "finding"], suffixes=("", "_mc"))
    # the sampled values agree with the exact ones within a few Monte Carlo standard errors
    assert (np.abs(merged["shapley"] - merged["shapley_mc"]) <= 4 * merged["shapley_se_mc"] + 1e-9).all()
    assert "random orders" in sampled.method


def test_an_observed_outcome_is_explained_from_the_other_findings(toy_model):
    result = explain(toy_model, {"legal_agreements": "present", "initial_trust": "high", "synergy": "inertia"})
    out = result.outcomes.set_index("target").loc["synergy"]
    assert out.observed == "inertia"
    assert out.p_case == pytest.approx(_p(toy_model, "synergy", "synergy", {"legal_agreements": "present", "initial_trust": "high"}))
    assert "synergy=inertia" not in set(result.contributions["finding"])


def test_default_targets_are_the_headline_targets(toy_model, default_model, toy_path):
    assert default_targets(toy_model) == ["synergy"]
    assert default_targets(default_model) == list(default_model.theory.headline.targets)  # headline.yaml's
    bare = bc.Model(network=toy_model.network, theory=None)  # a network file: no roles, so its leaves
    assert default_targets(bare) == ["synergy"]


def test_bad_inputs_are_one_line_errors(toy_model):
    with pytest.raises(BayesCMOError, match="unknown"):
        explain(toy_model, {"legal_agreement": "present"})
    with pytest.raises(BayesCMOError, match="target"):
        explain(toy_model, {}, ["synergi"])
    with pytest.raises(BayesCMOError, match="permutations"):
        explain(toy_model, {}, permutations=1)


def test_cli_explain_case_json_plot_and_errors(tmp_path, capsys, toy_path):
    cases = tmp_path / "cases.csv"
    pd.DataFrame([{"case_id": "sim-001", "legal_agreements": "present", "mandated": "yes", "synergy": ""}]).to_csv(cases, index=False)
    model = str(toy_path)
    assert main(["explain", "--model", model, "--cases", str(cases), "--case", "sim-001", "--plot", str(tmp_path / "x.png")]) == 0
    text = capsys.readouterr().out
    assert "initial_trust" in text and "Shapley" in text and (tmp_path / "x.png").stat().st_size > 0
    assert main(["explain", "--model", model, "--evidence", "legal_agreements=present", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["outcomes"][0]["target"] == "synergy" and payload["contributions"][0]["finding"] == "legal_agreements=present"
    assert main(["explain", "--model", model, "--cases", str(cases), "--case", "sim-01"]) == 2
    assert "did you mean 'sim-001'" in capsys.readouterr().err
    assert main(["explain", "--model", model]) == 2
    assert "--cases" in capsys.readouterr().err
    assert main(["explain", "--model", model, "--case", "sim-001"]) == 2
    capsys.readouterr()


def test_plot_takes_the_frame_and_an_axes(toy_model):
    import matplotlib.pyplot as plt

    from bayes_cmo.plots.explain import contribution_plot

    result = explain(toy_model, {"legal_agreements": "present", "mandated": "yes"})
    fig, ax = plt.subplots()
    assert contribution_plot(result.contributions, ax=ax) is fig
    plt.close(fig)
