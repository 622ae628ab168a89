"""Judgement sensitivity: batched perturbations against rebuilt models and hand derivatives."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.special import expit, logit, polygamma

from bayes_cmo import BayesCMOError, build_model, posterior
from bayes_cmo.planning.sensitivity import judgement_sensitivity, judgements, shifted_baseline
from bayes_cmo.update.simulate import set_link_weight

from conftest import TOY


def p_of(toy_theory, target="synergy", state=-1, evidence=None):
    return float(posterior(build_model(toy_theory), target, evidence or {})[target][state])


def with_baseline(toy_theory, node, baseline):
    nodes = dict(toy_theory.nodes)
    nodes[node] = dataclasses.replace(nodes[node], baseline=tuple(baseline))
    return dataclasses.replace(toy_theory, nodes=nodes)


def test_every_judgement_listed_with_its_width(toy_theory, toy_model):
    frame = judgement_sensitivity(toy_model, "synergy")
    assert list(frame.columns) == [
        "target", "target_state", "judgement", "kind", "node", "value", "step", "p", "p_minus", "p_plus", "swing", "derivative", "rank",
    ]
    assert len(frame) == len(toy_theory.dag_links) + len(toy_theory.nodes)
    steps = frame.set_index("judgement")["step"]
    assert steps["legal_agreements:initial_trust"] == 0.4  # medium confidence
    assert steps["mandated:initial_trust"] == 0.6  # low confidence
    # two-state baseline: sd of logit p under Beta(ess p, ess (1-p)), ess 10
    assert steps["baseline:legal_agreements"] == pytest.approx(np.sqrt(polygamma(1, 4.0) + polygamma(1, 6.0)))
    assert frame["swing"].abs().is_monotonic_decreasing


def test_batched_equals_rebuilt_model(toy_theory, toy_model):
    frame = judgement_sensitivity(toy_model, "synergy").set_index("judgement")
    for link in toy_theory.dag_links:
        row = frame.loc[link.id]
        up = p_of(set_link_weight(toy_theory, link.id, link.weight + link.weight_sd))
        down = p_of(set_link_weight(toy_theory, link.id, link.weight - link.weight_sd))
        assert row["p_plus"] == pytest.approx(up, abs=1e-12)
        assert row["p_minus"] == pytest.approx(down, abs=1e-12)
        h = 1e-5
        fd = (p_of(set_link_weight(toy_theory, link.id, link.weight + h)) - p_of(set_link_weight(toy_theory, link.id, link.weight - h))) / (2 * h)
        assert row["derivative"] == pytest.approx(fd, rel=1e-5, abs=1e-9)
    node = "mandated"
    row = frame.loc[f"baseline:{node}"]
    moved = shifted_baseline(toy_theory.nodes[node].baseline, row["step"], ordered=True)
    assert moved[1] == pytest.approx(expit(logit(0.25) + row["step"]))
    assert row["p_plus"] == pytest.approx(p_of(with_baseline(toy_theory, node, moved)), abs=1e-12)


def test_root_baseline_derivative_by_hand(toy_model):
    # P(T) = sum_l P(l) P(T | l); d/d logit P(present) = p (1 - p) [P(T | present) - P(T | absent)]
    frame = judgement_sensitivity(toy_model, "synergy").set_index("judgement")
    p = 0.4
    given = {s: float(posterior(toy_model, "synergy", {"legal_agreements": s})["synergy"][1]) for s in ("absent", "present")}
    expected = p * (1 - p) * (given["present"] - given["absent"])
    assert frame.loc["baseline:legal_agreements", "derivative"] == pytest.approx(expected, rel=1e-6)


def test_sign_matches_link_sign(toy_model):
    # More of a source moves the target in the link's direction ...
    frame = judgement_sensitivity(toy_model, "initial_trust", state="high").set_index("judgement")
    assert frame.loc["baseline:legal_agreements", "derivative"] > 0  # + link
    assert frame.loc["baseline:mandated", "derivative"] < 0  # - link
    # ... and where the source is present, a stronger link (larger |weight|) moves it further that way.
    for link, source, sign in (("legal_agreements:initial_trust", "legal_agreements", 1), ("mandated:initial_trust", "mandated", -1)):
        present = {"legal_agreements": "present", "mandated": "yes"}[source]
        row = judgement_sensitivity(toy_model, "initial_trust", state="high", evidence={source: present}).set_index("judgement").loc[link]
        assert np.sign(sign * row["derivative"]) == sign
        assert np.sign(sign * row["swing"]) == sign
    # direct link into synergy
    row = judgement_sensitivity(toy_model, "synergy", evidence={"initial_trust": "high"}).set_index("judgement").loc["initial_trust:synergy"]
    assert row["derivative"] > 0


def test_non_ancestors_have_zero_sensitivity(toy_model):
    frame = judgement_sensitivity(toy_model, "initial_trust").set_index("judgement")
    for j in ("initial_trust:synergy", "baseline:synergy"):
        assert frame.loc[j, "swing"] == 0.0
        assert frame.loc[j, "derivative"] == 0.0
    # d-separated: given initial trust, the contexts' judgements cannot move synergy
    frame = judgement_sensitivity(toy_model, "synergy", evidence={"initial_trust": "low"}).set_index("judgement")
    for j in ("legal_agreements:initial_trust", "mandated:initial_trust", "baseline:legal_agreements", "baseline:mandated"):
        assert abs(frame.loc[j, "swing"]) < 1e-12
        assert abs(frame.loc[j, "derivative"]) < 1e-7
    assert abs(frame.loc["initial_trust:synergy", "swing"]) > 1e-3
    # an intervened node's own judgements do not matter
    frame = judgement_sensitivity(toy_model, "synergy", do={"initial_trust": "high"}).set_index("judgement")
    assert frame.loc["baseline:initial_trust", "swing"] == 0.0


def test_nominal_baseline_moves_one_state():
    moved = shifted_baseline(np.array([0.5, 0.3, 0.2]), 0.7, ordered=False, state=1)
    assert moved.sum() == pytest.approx(1.0)
    assert moved[1] == pytest.approx(expit(logit(0.3) + 0.7))
    assert moved[0] / moved[2] == pytest.approx(0.5 / 0.2)
    ordered = shifted_baseline(np.array([0.5, 0.3, 0.2]), 0.7, ordered=True)
    assert ordered[2] > 0.2 and ordered[0] < 0.5  # toward the highest state


def test_scenario_and_errors(toy_theory, toy_model):
    via_scenario = judgement_sensitivity(toy_model, "synergy", scenario="enforced")
    direct = judgement_sensitivity(toy_model, "synergy", evidence={"mandated": "yes", "legal_agreements": "absent"})
    np.testing.assert_allclose(via_scenario["swing"], direct["swing"], atol=1e-14)
    with pytest.raises(BayesCMOError, match="did you mean 'enforced'"):
        judgement_sensitivity(toy_model, "synergy", scenario="enforce")
    with pytest.raises(BayesCMOError, match="unknown state"):
        judgement_sensitivity(toy_model, "synergy", state="high")
    with pytest.raises(BayesCMOError, match="target 'synergy' is fixed by the background"):
        judgement_sensitivity(toy_model, "synergy", evidence={"synergy": "inertia"})
    assert {j.kind for j in judgements(toy_theory)} == {"link weight", "baseline"}


def test_cli_sensitivity(capsys, tmp_path):
    import json

    from bayes_cmo.cli import main

    plot = tmp_path / "tornado.png"
    assert main(["plan", "sensitivity", "--model", str(TOY), "--target", "synergy", "--top", "3", "--json", "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    rows = json.loads(out[: out.rindex("]") + 1])
    assert len(rows) == 3 and rows[0]["judgement"] == "baseline:synergy"
    assert plot.stat().st_size > 0
