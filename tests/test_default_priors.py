"""The shipped default priors: valid, every claim holds, exact inference agrees with pgmpy."""

from __future__ import annotations

import numpy as np
import pytest

from bayes_cmo import check_claims, posterior, to_pgmpy
from bayes_cmo.cli import main

HEADLINE = {
    "legal_agreements": ("absent", "present"),
    "entry_point": (
        "funding_pressure",
        "existing_interdependence",
        "competitive_threat",
        "market_opportunity",
        "policy_directive",
        "innovation",
    ),
    "initial_trust": ("low", "medium", "high"),
    "trust": ("low", "medium", "high"),
    "ambition": ("low", "medium", "high"),  # the level (risk threshold); its misfit is overambition
    "synergy": ("inertia", "synergy"),
    "dissolution": ("sustained", "dissolved"),
}


def test_headline_nodes_and_states(default_theory):
    for node, states in HEADLINE.items():
        assert default_theory.nodes[node].states == states
    for node in ("prior_collaboration", "conflict", "faith", "power_imbalance", "communication", "task_complexity", "task_achievement"):
        assert node in default_theory.nodes
    assert 30 <= len(default_theory.nodes) <= 50


def test_every_link_traces_to_the_paper(default_theory):
    for link in default_theory.links:
        assert link.citation.get("section"), link.id
        assert link.citation.get("cmo") or link.citation.get("text"), link.id


def test_theory_expresses_sign_flips_nonmonotone_and_feedback(default_theory):
    moderated = {link.id for link in default_theory.links if link.moderator}
    assert any(m.startswith("combative_leadership:") for m in moderated)
    assert any(m.startswith("communication:conflict") for m in moderated)
    assert any(link.moderator and min(link.multipliers) < 0 for link in default_theory.links)
    # ambition's level and its misfit are separate: only the misfit costs achievement
    assert default_theory.link("ambition:overambition").sign == 1
    assert default_theory.link("overambition:task_achievement").sign == -1
    assert default_theory.link("ambition:task_achievement").sign == 1
    threshold = default_theory.link("trust:dissolution").scores  # non-monotone spacing: the trust threshold
    assert threshold[1] - threshold[0] > threshold[2] - threshold[1]
    assert any(link.lag == 1 for link in default_theory.links)


def test_all_claims_hold(default_model):
    claims = check_claims(default_model)
    assert len(claims) >= 25
    failing = claims.loc[~claims["holds"], "claim"].tolist()
    assert failing == []


def test_cli_check_passes(capsys):
    assert main(["check"]) == 0
    assert "claims hold" in capsys.readouterr().out


def test_cpt_columns_sum_to_one(default_model):
    for var, cpt in default_model.network.cpts.items():
        np.testing.assert_allclose(cpt.sum(axis=0), 1.0, atol=1e-12, err_msg=var)


QUERIES = [
    ({"legal_agreements": "present"}, ["synergy", "dissolution"]),
    ({"entry_point": "policy_directive", "legal_agreements": "absent"}, ["trust", "dissolution"]),
    ({"synergy": "inertia"}, ["legal_agreements", "initial_trust"]),
    ({"conflict": "high", "prior_collaboration": "successful"}, ["faith", "task_achievement"]),
]


@pytest.mark.parametrize(("evidence", "targets"), QUERIES)
def test_agrees_with_pgmpy_variable_elimination(default_model, evidence, targets):
    from bayes_cmo.network import _pgmpy

    reference = _pgmpy.VariableElimination(to_pgmpy(default_model))
    ours = posterior(default_model, targets, evidence)
    for target in targets:
        factor = reference.query([target], evidence=evidence, show_progress=False)
        expected = [factor.get_value(**{target: s}) for s in default_model.states(target)]
        np.testing.assert_allclose(ours[target], expected, atol=1e-9)


def test_do_agrees_with_pgmpy_causal_inference(default_model):
    from bayes_cmo.network import _pgmpy

    reference = _pgmpy.CausalInference(to_pgmpy(default_model))
    do = {"power_imbalance": "high"}
    factor = reference.query(["trust"], do=do, show_progress=False)
    expected = [factor.get_value(trust=s) for s in default_model.states("trust")]
    np.testing.assert_allclose(posterior(default_model, "trust", do=do)["trust"], expected, atol=1e-9)


def test_legal_agreements_raise_synergy_and_lower_dissolution(default_model):
    present = posterior(default_model, ["synergy", "dissolution"], {"legal_agreements": "present"})
    absent = posterior(default_model, ["synergy", "dissolution"], {"legal_agreements": "absent"})
    assert present["synergy"][1] > absent["synergy"][1]
    assert present["dissolution"][1] < absent["dissolution"][1]
