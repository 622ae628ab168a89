"""Value of information against brute force from the full joint distribution."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bayes_cmo.network._pgmpy import arrays_from_pgmpy
from bayes_cmo import BayesCMOError
from bayes_cmo.engine.core import NetworkArrays
from bayes_cmo.network.model import Model
from bayes_cmo.planning.voi import best_measurements, read_costs, value_of_information

from conftest import TOY


def full_joint(net: NetworkArrays) -> np.ndarray:
    """P(all variables) by multiplying every CPT on a grid, axes in net.variables order."""
    cards = [len(net.states[v]) for v in net.variables]
    joint = np.ones(cards)
    for v in net.variables:
        axes = [net.variables.index(v), *(net.variables.index(p) for p in net.parents[v])]
        shape = [1] * len(cards)
        cpt = np.asarray(net.cpts[v])
        # move the CPT axes into network order, then broadcast
        order = np.argsort(axes)
        cpt = np.transpose(cpt, order)
        for ax, c in zip(sorted(axes), cpt.shape):
            shape[ax] = c
        joint = joint * cpt.reshape(shape)
    return joint


def brute_force(net, target, node, evidence, state=-1):
    """(MI in bits, expected |change| of P(target=state)) by enumeration of the full joint."""
    joint = full_joint(net)
    names = list(net.variables)
    index = [slice(None)] * len(names)
    for v, s in evidence.items():
        k = net.states[v].index(s)
        index[names.index(v)] = slice(k, k + 1)
    joint = joint[tuple(index)]
    joint = joint / joint.sum()
    t, x = names.index(target), names.index(node)
    keep = tuple(i for i in range(len(names)) if i not in (t, x))
    ptx = joint.sum(axis=keep)
    if t > x:
        ptx = ptx.T
    pt, px = ptx.sum(axis=1), ptx.sum(axis=0)
    mi = 0.0
    change = 0.0
    for i, j in itertools.product(range(ptx.shape[0]), range(ptx.shape[1])):
        if ptx[i, j] > 0:
            mi += ptx[i, j] * np.log2(ptx[i, j] / (pt[i] * px[j]))
    for j in range(ptx.shape[1]):
        if px[j] > 0:
            change += px[j] * abs(ptx[state, j] / px[j] - pt[state])
    return mi, change


def random_network(seed: int, n_nodes: int = 5) -> Model:
    rng = np.random.default_rng(seed)
    names = [f"v{i}" for i in range(n_nodes)]
    cards = rng.integers(2, 4, size=n_nodes)
    parents, cpts, states = {}, {}, {}
    for i, v in enumerate(names):
        ps = tuple(p for p in names[:i] if rng.random() < 0.5)[-3:]
        parents[v] = ps
        states[v] = tuple(f"s{k}" for k in range(cards[i]))
        shape = (cards[i], *(cards[names.index(p)] for p in ps))
        cpt = rng.dirichlet(np.ones(cards[i]), size=int(np.prod(shape[1:]))).T.reshape(shape)
        cpts[v] = cpt
    return Model(network=NetworkArrays(variables=tuple(names), states=states, parents=parents, cpts=cpts))


def test_toy_matches_brute_force(toy_model):
    for evidence in ({}, {"mandated": "yes"}, {"legal_agreements": "present", "mandated": "no"}):
        frame = value_of_information(toy_model, "synergy", evidence=evidence).set_index("node")
        assert set(frame.index) == set(toy_model.variables) - {"synergy"} - set(evidence)
        for node, row in frame.iterrows():
            mi, change = brute_force(toy_model.network, "synergy", node, evidence)
            assert row["mutual_information_bits"] == pytest.approx(mi, abs=1e-12)
            assert row["expected_abs_change"] == pytest.approx(change, abs=1e-12)


def test_toy_hand_value(toy_model):
    # Binary target: expected |change| of P(synergy) = E|P(syn | trust) - P(syn)|.
    net = toy_model.network
    p_trust = (full_joint(net).sum(axis=(0, 1, 3)))  # (low, high)
    p_syn_given = net.cpts["synergy"][1]  # P(synergy | initial_trust)
    p_syn = p_trust @ p_syn_given
    expected = p_trust @ np.abs(p_syn_given - p_syn)
    row = value_of_information(toy_model, "synergy").set_index("node").loc["initial_trust"]
    assert row["expected_abs_change"] == pytest.approx(expected, abs=1e-12)
    assert row["rank"] == 1  # the direct parent tells most


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), observe=st.booleans())
def test_random_networks_match_brute_force(seed, observe):
    model = random_network(seed)
    net = model.network
    target = "v4"
    evidence = {"v1": "s1"} if observe else {}
    frame = value_of_information(model, target, evidence=evidence, state="s0").set_index("node")
    for node, row in frame.iterrows():
        mi, change = brute_force(net, target, node, evidence, state=0)
        assert row["mutual_information_bits"] == pytest.approx(mi, abs=1e-10)
        assert row["expected_abs_change"] == pytest.approx(change, abs=1e-10)
        assert row["mutual_information_bits"] >= 0.0
        # symmetric: I(T; X | e) == I(X; T | e)
        back = value_of_information(model, node, evidence=evidence, candidates=[target])
        assert back["mutual_information_bits"].iloc[0] == pytest.approx(row["mutual_information_bits"], abs=1e-10)


def test_observed_node_is_worth_nothing(toy_model):
    evidence = {"initial_trust": "high"}
    frame = value_of_information(toy_model, "synergy", evidence=evidence, candidates=["initial_trust", "legal_agreements"])
    row = frame.set_index("node").loc["initial_trust"]
    assert row["mutual_information_bits"] == pytest.approx(0.0, abs=1e-12)
    assert row["expected_abs_change"] == pytest.approx(0.0, abs=1e-12)
    # and observed nodes are not candidates by default
    assert "initial_trust" not in set(value_of_information(toy_model, "synergy", evidence=evidence)["node"])


def test_d_separated_node_is_worth_nothing(toy_model):
    # synergy is d-separated from the contexts given initial trust
    frame = value_of_information(toy_model, "synergy", evidence={"initial_trust": "low"}).set_index("node")
    assert frame["mutual_information_bits"].abs().max() < 1e-12
    assert frame["expected_abs_change"].abs().max() < 1e-12
    # two root contexts are independent until their common child is observed (explaining away)
    alone = value_of_information(toy_model, "legal_agreements", candidates=["mandated"])
    assert alone["mutual_information_bits"].iloc[0] == pytest.approx(0.0, abs=1e-12)
    given_trust = value_of_information(toy_model, "legal_agreements", evidence={"initial_trust": "high"}, candidates=["mandated"])
    assert given_trust["mutual_information_bits"].iloc[0] > 1e-4


def test_asia_d_separation():
    from bayes_cmo.network import _pgmpy
    
    model = Model(network=arrays_from_pgmpy(_pgmpy.get_example_model("asia")))
    # xray depends on smoke only through lung/either; given either, smoke tells nothing about xray
    frame = value_of_information(model, "xray", evidence={"either": "yes"}).set_index("node")
    for node in ("asia", "smoke", "tub", "lung", "bronc", "dysp"):
        assert frame.loc[node, "mutual_information_bits"] == pytest.approx(0.0, abs=1e-12)
    assert value_of_information(model, "xray").set_index("node").loc["smoke", "mutual_information_bits"] > 1e-4


def test_greedy_first_pick_is_single_best_and_matches_joint(toy_model):
    ranking = value_of_information(toy_model, "synergy")
    best = best_measurements(toy_model, "synergy", k=3)
    assert best["node"].iloc[0] == ranking["node"].iloc[0]
    assert best["gain_bits"].iloc[0] == pytest.approx(ranking["mutual_information_bits"].iloc[0], abs=1e-12)
    assert np.all(np.diff(best["set_information_bits"]) > -1e-12)  # never loses information
    # the value of the whole set, by brute force: I(T; X1, X2, X3) from the full joint
    net = toy_model.network
    joint = full_joint(net)
    names = list(net.variables)
    picks = list(best["node"])
    order = [names.index("synergy"), *(names.index(p) for p in picks)]
    ptx = np.transpose(joint, order).reshape(2, -1)
    pt, px = ptx.sum(1, keepdims=True), ptx.sum(0, keepdims=True)
    nz = ptx > 0
    mi = float((ptx[nz] * np.log2(ptx[nz] / (pt * px)[nz])).sum())
    assert best["set_information_bits"].iloc[-1] == pytest.approx(mi, abs=1e-12)
    # once initial trust is picked, the contexts add nothing (d-separated)
    assert best["gain_bits"].iloc[1:].abs().max() < 1e-12


def test_greedy_conditions_on_earlier_picks():
    # random network: the k=2 set value equals I(T; X1, X2) computed independently
    model = random_network(3, n_nodes=6)
    best = best_measurements(model, "v5", k=2)
    net = model.network
    joint = full_joint(net)
    names = list(net.variables)
    order = [names.index("v5"), *(names.index(p) for p in best["node"])]
    rest = tuple(i for i in range(len(names)) if i not in order)
    sub = np.transpose(joint.sum(axis=rest, keepdims=True), order + list(rest)).reshape(joint.shape[order[0]], -1)
    pt, px = sub.sum(1, keepdims=True), sub.sum(0, keepdims=True)
    nz = sub > 0
    mi = float((sub[nz] * np.log2(sub[nz] / (pt * px)[nz])).sum())
    assert best["set_information_bits"].iloc[-1] == pytest.approx(mi, abs=1e-10)


def test_costs_rank_by_bits_per_cost(toy_model, tmp_path):
    costs = tmp_path / "costs.csv"
    costs.write_text("node,cost\ninitial_trust,100\nlegal_agreements,1\nmandated,2\n")
    frame = value_of_information(toy_model, "synergy", costs=costs)
    assert list(frame.columns) == ["target", "target_state", "node", "mutual_information_bits", "expected_abs_change", "cost", "bits_per_cost", "rank"]
    assert frame["bits_per_cost"].is_monotonic_decreasing
    np.testing.assert_allclose(frame["bits_per_cost"], frame["mutual_information_bits"] / frame["cost"])
    assert frame["node"].iloc[0] == "legal_agreements"  # cheap beats informative here
    best = best_measurements(toy_model, "synergy", k=2, costs=read_costs(costs, toy_model))
    assert best["node"].iloc[0] == "legal_agreements"
    assert best["total_cost"].iloc[-1] == best["cost"].sum()


def test_costs_file_errors(toy_model, tmp_path):
    bad = tmp_path / "costs.csv"
    bad.write_text("node,cost\ninitial_trsut,3\n")
    with pytest.raises(BayesCMOError, match=r"row 2, column node: unknown node 'initial_trsut'; did you mean 'initial_trust'"):
        read_costs(bad, toy_model)
    bad.write_text("node,cost\ninitial_trust,0\n")
    with pytest.raises(BayesCMOError, match="row 2, column cost: expected a positive number"):
        read_costs(bad, toy_model)
    bad.write_text("node,price\ninitial_trust,3\n")
    with pytest.raises(BayesCMOError, match="missing column 'cost'"):
        read_costs(bad, toy_model)
    # a file lists what can be measured; an explicit candidate without a cost is an error
    bad.write_text("node,cost\ninitial_trust,3\n")
    assert list(value_of_information(toy_model, "synergy", costs=bad)["node"]) == ["initial_trust"]
    with pytest.raises(BayesCMOError, match="'mandated' has no cost"):
        value_of_information(toy_model, "synergy", costs=bad, candidates=["mandated"])


def test_bad_arguments(toy_model):
    with pytest.raises(BayesCMOError, match="did you mean 'synergy'"):
        value_of_information(toy_model, "synergi")
    with pytest.raises(BayesCMOError, match="unknown state"):
        value_of_information(toy_model, "synergy", state="high")
    with pytest.raises(BayesCMOError, match="target itself"):
        value_of_information(toy_model, "synergy", candidates=["synergy"])
    with pytest.raises(BayesCMOError, match="k: expected a positive integer, got 0"):
        best_measurements(toy_model, "synergy", k=0)
    with pytest.raises(BayesCMOError, match="k: expected an integer from 1 to 3, got 4"):
        best_measurements(toy_model, "synergy", k=4)


def test_draws_give_intervals(toy_model):
    frame = value_of_information(toy_model.with_draws(40, seed=1), "synergy").set_index("node")
    row = frame.loc["initial_trust"]
    assert row["ci_low"] <= row["mutual_information_bits"] <= row["ci_high"]


def test_cli_voi_json_keys(capsys, tmp_path):
    import json

    from bayes_cmo.cli import main

    assert main(["plan", "voi", "--model", str(TOY), "--target", "synergy", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [set(r) for r in rows] == [{"target", "target_state", "node", "mutual_information_bits", "expected_abs_change", "rank"}] * 3
    costs = tmp_path / "c.csv"
    costs.write_text("node,cost\ninitial_trust,2\nmandated,1\n")
    assert main(["plan", "voi", "--model", str(TOY), "--target", "synergy", "--costs", str(costs), "--k", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["ranking"][0]) == {"target", "target_state", "node", "mutual_information_bits", "expected_abs_change", "cost", "bits_per_cost", "rank"}
    assert [r["node"] for r in out["best_set"]] == ["initial_trust", "mandated"]
    plot = tmp_path / "voi.png"
    assert main(["plan", "voi", "--model", str(TOY), "--target", "synergi"]) == 2
    assert "did you mean 'synergy'" in capsys.readouterr().err
    assert main(["plan", "voi", "--model", str(TOY), "--target", "synergy", "--plot", str(plot)]) == 0
    assert plot.stat().st_size > 0
    assert main(["plan", "voi", "--model", str(TOY), "--target", "synergy", "--plot", str(plot)]) == 2  # no overwrite


# one backward pass for every target (what the what-if page asks): the same numbers as one call per target,
# and the joints P(T, X | e) those numbers come from equal pgmpy's VariableElimination and a forward query


def _pgmpy_joint(ve, target, node, evidence, states):
    """P(target, node | evidence) from pgmpy, axes (target, node) in our state order."""
    f = ve.query([target, node], evidence=dict(evidence), joint=True, show_progress=False)
    order = [f.variables.index(target), f.variables.index(node)]
    values = np.transpose(f.values, order)
    rows = [f.state_names[target].index(s) for s in states[target]]
    cols = [f.state_names[node].index(s) for s in states[node]]
    return values[np.ix_(rows, cols)]


@pytest.mark.parametrize("evidence", [{}, {"mandated": "yes"}, {"legal_agreements": "present", "mandated": "no"}])
def test_one_pass_for_every_target_equals_per_target_and_pgmpy(toy_model, evidence):
    from bayes_cmo import engine, to_pgmpy
    from bayes_cmo.network import _pgmpy
    from bayes_cmo.planning.voi import expected_abs_change, mutual_information_bits, pair_joints

    net = toy_model.network
    targets = ["synergy", "initial_trust"]
    nodes = [v for v in net.variables if v not in evidence]
    rows = engine.evidence_likelihoods(net, [evidence]) if evidence else {}
    p_e, joints = pair_joints(net, targets, nodes, rows)
    ve = _pgmpy.VariableElimination(to_pgmpy(toy_model))
    for target in targets:
        assert p_e[target] == pytest.approx(float(engine.probability_of_evidence(net, [evidence])[0]), abs=1e-12)
        frame = value_of_information(toy_model, target, evidence=evidence).set_index("node")
        for node in nodes:
            if node == target:
                continue
            joint = joints[target][node]
            np.testing.assert_allclose(joint, _pgmpy_joint(ve, target, node, evidence, net.states), atol=1e-12)
            row = frame.loc[node]
            k = len(net.states[target]) - 1
            assert float(mutual_information_bits(joint)) == pytest.approx(row["mutual_information_bits"], abs=1e-12)
            assert float(expected_abs_change(joint, k)) == pytest.approx(row["expected_abs_change"], abs=1e-12)


def test_one_pass_with_draws_and_soft_rows_equals_forward_queries(toy_model):
    """Batched CPTs, a background given as rows of ones (no evidence) and a one-hot row: each draw's joint as a forward query."""
    from bayes_cmo import engine
    from bayes_cmo.planning.voi import pair_joints

    net = toy_model.with_draws(7, seed=2).network
    rows = {"mandated": np.array([[0.0, 1.0]]), "initial_trust": np.ones((1, 2))}
    targets = ["synergy", "legal_agreements"]
    nodes = list(net.variables)
    p_e, joints = pair_joints(net, targets, nodes, rows)
    for target in targets:
        assert p_e[target].shape == (7,)
        for node in nodes:
            if node == target:
                continue
            want = engine.query(net, [target, node], [{"mandated": "yes"}])[:, 0]
            want = want / want.sum(axis=(-2, -1), keepdims=True)
            assert joints[target][node].shape == (7, 2, 2)
            np.testing.assert_allclose(joints[target][node], want, atol=1e-12)
