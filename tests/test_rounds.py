"""The trust-building loop unrolled over rounds, checked against exact inference."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bayes_cmo import BayesCMOError, build_model, load_theory, posterior
from bayes_cmo.engine import core as _engine
from bayes_cmo.cli import main
from bayes_cmo.inference.rounds import dynamic_nodes, round_name, unroll, unroll_theory
from bayes_cmo.inference.survival import survival, survival_monte_carlo

LOOP_NODES = """
nodes:
  - {id: legal_agreements, role: context, states: [absent, present], baseline: {present: 0.5}}
  - {id: trust, role: mechanism, states: [low, high], baseline: {high: 0.5}}
  - {id: task_achievement, role: outcome, states: [low, high], baseline: {high: 0.5}}
  - {id: dissolution, role: outcome, states: [sustained, dissolved], baseline: {dissolved: 0.2}}
"""
LOOP_LINKS = """
links:
  - {from: legal_agreements, to: trust, sign: "+", strength: strong}
  - {from: trust, to: task_achievement, sign: "+", strength: strong}
  - {from: trust, to: dissolution, sign: "-", strength: very_strong}
  - {from: task_achievement, to: trust, sign: "+", strength: strong, lag: 1}
"""


LOOP_HEADLINE = """
headline:
  absorbing: {node: dissolution, state: dissolved}
"""


@pytest.fixture()
def loop(tmp_path):
    (tmp_path / "nodes.yaml").write_text(LOOP_NODES)
    (tmp_path / "links.yaml").write_text(LOOP_LINKS)
    (tmp_path / "headline.yaml").write_text(LOOP_HEADLINE)
    return load_theory(tmp_path)


def seeded(theory, seed, draws=0):
    """The theory's model carrying ``seed`` (and ``draws`` parameter draws)."""
    model = build_model(theory)
    return model.with_draws(draws, seed=seed) if draws else dataclasses.replace(model, seed=seed)


def exact_intact(theory, rounds, evidence=None):
    """P(no dissolution in rounds 1..r), exactly, from the unrolled network."""
    net = unroll(theory, rounds).network
    evidence = dict(evidence or {})
    sets = [evidence]
    for r in range(1, rounds + 1):
        sets.append({**sets[-1], round_name("dissolution", r): "sustained"})
    p = _engine.probability_of_evidence(net, sets)
    return p[1:] / p[0]


def test_unrolled_structure(loop):
    unrolled, link_map, node_map = unroll_theory(loop, 3)
    assert set(dynamic_nodes(loop)) == {"trust", "task_achievement", "dissolution"}
    assert len(unrolled.nodes) == 1 + 3 * 3
    assert unrolled.parents("trust_r1") == ("legal_agreements",)
    assert set(unrolled.parents("trust_r3")) == {"legal_agreements", "task_achievement_r2"}
    assert link_map["task_achievement_r2:trust_r3"] == "task_achievement:trust@lag1"
    assert node_map["trust_r2"] == "trust"


def test_one_round_equals_the_staged_network(loop):
    one = build_model(loop)
    unrolled = unroll(loop, 1)
    for node in loop.nodes:
        name = round_name(node, 1) if node in dynamic_nodes(loop) else node
        np.testing.assert_allclose(unrolled.network.cpts[name], one.network.cpts[node])


def _at_lagged_midpoint(theory, unrolled_net, node, r):
    """Round r's CPT of ``node`` with every lagged parent (round r - 1) at its score-0 state."""
    cpt, parents = unrolled_net.cpts[round_name(node, r)], unrolled_net.parents[round_name(node, r)]
    index = [slice(None)]
    for p in parents:
        if p.endswith(f"_r{r - 1}"):
            lagged = [lk for lk in theory.links if lk.lag and lk.target == node and round_name(lk.source, r - 1) == p]
            index.append(list(lagged[0].scores).index(0.0))
        else:
            index.append(slice(None))
    return cpt[tuple(index)], tuple(p for p in parents if not p.endswith(f"_r{r - 1}"))


def test_lagged_inputs_at_round_one_values_give_round_one_tables(tmp_path):
    # Round 1 leaves a lagged parent at score 0; a later round whose lagged inputs sit there must have
    # round 1's tables, also when the lagged source (an outcome) has no reference state: the reference
    # centring of the node's other links must not be lost from round 2 on.
    (tmp_path / "nodes.yaml").write_text(LOOP_NODES)
    (tmp_path / "headline.yaml").write_text(LOOP_HEADLINE)
    (tmp_path / "links.yaml").write_text(LOOP_LINKS.replace("lag: 1}", "lag: 1, scores: {low: 0.0, high: 1.0}}"))
    (tmp_path / "reference.yaml").write_text("reference: {legal_agreements: present, trust: low}\n")
    theory = load_theory(tmp_path)
    assert "task_achievement" not in theory.reference
    net = unroll(theory, 3).network
    for r in (2, 3):
        table, parents = _at_lagged_midpoint(theory, net, "trust", r)
        assert parents == net.parents["trust_r1"]
        np.testing.assert_allclose(table, net.cpts["trust_r1"], atol=1e-12)
    # and the round-2 copy is still centred at the reference: legal agreements present -> the baseline
    np.testing.assert_allclose(net.cpts["trust_r2"][:, 1, 0], theory.nodes["trust"].baseline, atol=1e-12)


def test_shipped_round_tables_match_round_one_at_the_lagged_midpoint(default_theory):
    net = unroll(default_theory, 2).network
    lagged_targets = {lk.target for lk in default_theory.links if lk.lag}
    assert {"trust", "conflict", "faith"} <= lagged_targets
    for node in sorted(lagged_targets):
        table, parents = _at_lagged_midpoint(default_theory, net, node, 2)
        np.testing.assert_allclose(table, net.cpts[round_name(node, 1)], atol=1e-12, err_msg=node)


def test_shared_weights_across_rounds(loop):
    from bayes_cmo import draw_parameters

    params = draw_parameters(loop, 5, seed=2)
    model = unroll(loop, 3, params)
    # Round 2 and round 3 trust have the same parents' weights, hence the same CPT in every draw.
    np.testing.assert_allclose(model.network.cpts["trust_r2"], model.network.cpts["trust_r3"])


def test_monte_carlo_matches_exact(loop):
    table = survival(seeded(loop, 1), 4, samples=40_000)
    exact = exact_intact(loop, 4)
    assert np.all(np.abs(table["p_intact"] - exact) <= 4 * table["std_error"] + 1e-12)
    assert np.all(np.diff(table["p_intact"]) <= 0)  # survival never rises


def test_survival_is_exact_on_a_small_frontier(loop):
    table = survival(seeded(loop, 1), 4)
    assert (table["std_error"] == 0).all()
    np.testing.assert_allclose(table["p_intact"], exact_intact(loop, 4), atol=1e-12)
    np.testing.assert_allclose(table["p_absorbed_in_round"].iloc[1:], 1 - table.p_intact.iloc[1:].to_numpy() / table.p_intact.iloc[:-1].to_numpy())


def test_plain_monte_carlo_still_matches_exact(loop):
    table = survival_monte_carlo(seeded(loop, 1), 4, samples=40_000)
    exact = exact_intact(loop, 4)
    assert (table["std_error"] > 0).all()
    assert np.all(np.abs(table["p_intact"] - exact) < 4 * table["std_error"])
    table = survival_monte_carlo(seeded(loop, 3), 3, evidence={"trust": "low"}, samples=40_000)
    assert np.all(np.abs(table["p_intact"] - exact_intact(loop, 3, {"trust_r1": "low"})) < 4 * table["std_error"])


def test_likelihood_weighting_matches_exact(loop):
    table = survival(seeded(loop, 3), 3, evidence={"trust": "low"}, samples=40_000)
    exact = exact_intact(loop, 3, {"trust_r1": "low"})
    assert np.all(np.abs(table["p_intact"] - exact) <= 4 * table["std_error"] + 1e-12)


def test_do_on_a_dynamic_node_holds_every_round(loop):
    table = survival(seeded(loop, 4), 3, do={"trust": "high"}, samples=20_000)
    p_dissolve = posterior(build_model(loop), "dissolution", do={"trust": "high"})["dissolution"][1]
    exact = (1 - p_dissolve) ** np.arange(1, 4)  # rounds are independent once trust is fixed
    assert np.all(np.abs(table["p_intact"] - exact) <= 4 * table["std_error"] + 1e-12)


def test_default_priors_round_one_matches_exact(default_theory, default_model):
    table = survival(seeded(default_theory, 0), 2, samples=20_000)
    sustained = posterior(default_model, "dissolution")["dissolution"][0]
    assert abs(table.loc[0, "p_intact"] - sustained) <= 4 * table.loc[0, "std_error"] + 1e-12
    # Two unrolled rounds of the shipped theory (no parent cap since the re-encoding) need more
    # einsum indices than numpy offers; the exact round-2 check runs on the loop theory instead.


def test_draws_give_intervals(loop):
    table = survival(seeded(loop, 0, draws=50), 3, samples=10_000)
    assert np.all(table["ci_low"] <= table["p_intact"]) and np.all(table["p_intact"] <= table["ci_high"])


def test_no_loop_is_an_error(toy_theory):
    with pytest.raises(BayesCMOError, match="no link has 'lag: 1'"):
        unroll(toy_theory, 3)
    with pytest.raises(BayesCMOError, match="no 'absorbing' key; the round-by-round view needs"):
        survival(build_model(toy_theory), 3)


def test_bad_rounds(loop):
    with pytest.raises(BayesCMOError, match="rounds: expected an integer from 1 to 50, got 0"):
        survival(build_model(loop), 0)


def test_cli_rounds(capsys, tmp_path):
    assert main(["rounds", "--rounds", "3", "--samples", "2000", "--json"]) == 0
    import json

    rows = json.loads(capsys.readouterr().out)
    assert [r["round"] for r in rows] == [1, 2, 3]
    assert main(["rounds", "--model", str(tmp_path / "x.bif"), "--rounds", "2"]) == 2
