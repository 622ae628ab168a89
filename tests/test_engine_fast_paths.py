"""The engine's speed paths give the general paths' numbers: draws-last CPTs, direct path search,
greedy single-query plans, the constant-part cache."""

from __future__ import annotations

import itertools

import numpy as np
import opt_einsum
import pytest

import bayes_cmo as bc
from bayes_cmo.engine import core as _engine
from bayes_cmo.network import elicitation as el


@pytest.fixture(scope="module")
def shipped():
    return bc.load_model()


def test_cpts_over_draws_match_the_general_ordered_logit(shipped):
    theory = shipped.theory
    params = el.draw_parameters(theory, 7, seed=3)
    built = el.build_cpts(theory, params)
    checked = 0
    for node in theory.order():
        if node in params.tables or not theory.parents(node):
            continue
        eta = el.linear_predictor(theory, node, params.weights)
        baseline = np.asarray(params.baselines[node])
        reference = el.ordered_logit(baseline, eta, batched=True)
        assert built[node].shape == reference.shape
        np.testing.assert_allclose(built[node], reference, rtol=0, atol=1e-12)
        assert built[node].strides[0] == built[node].itemsize  # draws last in memory
        assert not built[node].flags.writeable
        checked += 1
    assert checked >= 10
    net = bc.build_model(theory, params).network  # the network keeps them draws last (no C-order copy)
    assert all(net.cpts[v].strides[0] == net.cpts[v].itemsize for v in built if theory.parents(v) and v not in params.tables)
    for v in built:
        np.testing.assert_array_equal(net.cpts[v], built[v])


def test_cpts_over_draws_do_not_depend_on_the_block_size(shipped, monkeypatch):
    """The tables are filled a block of parent configurations at a time: any block size, same numbers."""
    theory = shipped.theory
    params = el.draw_parameters(theory, 7, seed=3)
    whole = el.build_cpts(theory, params)
    monkeypatch.setattr(el, "_BLOCK_ELEMENTS", 50)  # 2-3 configurations a block, a short last block
    blocked = el.build_cpts(theory, params)
    assert sum(1 for v in whole if theory.parents(v)) >= 10
    for v in whole:
        np.testing.assert_array_equal(blocked[v], whole[v])


def test_paths_are_those_contract_path_finds_or_cheaper(shipped):
    """A few tables: opt_einsum's dp path; more: greedy's. A derivative's plan may first multiply the
    roots' priors hanging off one table into it at once: never costlier than greedy's own path."""
    net = shipped.network
    rng = np.random.default_rng(0)
    sym = {v: opt_einsum.get_symbol(i) for i, v in enumerate(net.variables)}
    size = {sym[v]: len(net.states[v]) for v in net.variables}
    cheaper = 0
    for _ in range(40):
        kept = list(net.variables)[: int(rng.integers(3, len(net.variables)))]
        terms = [sym[v] + "".join(sym[p] for p in net.parents[v] if p in kept) for v in kept]
        out = sym[kept[-1]]
        optimize = "dp" if len(terms) <= _engine._OPTIMAL_TERMS else "greedy"
        ref, info = opt_einsum.contract_path(",".join(terms) + "->" + out, *[tuple(size[c] for c in t) for t in terms], shapes=True, optimize=optimize)
        assert _engine._flops(terms, out, size, ref) == int(info.opt_cost)
        assert [tuple(p) for p in _engine._choose_path(terms, out, size, search=False)] == [tuple(p) for p in ref]
        ours = _engine._choose_path(terms, out, size, search=False, satellites=True)  # a derivative's plan
        if optimize == "dp":
            assert [tuple(p) for p in ours] == [tuple(p) for p in ref]
        else:
            assert _engine._flops(terms, out, size, ours) <= info.opt_cost
            cheaper += _engine._flops(terms, out, size, ours) < info.opt_cost
    assert cheaper >= 5


def test_satellites_are_multiplied_together_before_their_table():
    # a b c are roots; a and b only feed the table "abcx", c also feeds "cy": a and b are its satellites
    inputs = [frozenset(t) for t in ("a", "b", "c", "abcx", "cy", "xy")]
    path, rest = _engine._absorb_satellites(inputs, frozenset("y"))
    assert path == [(0, 1), (4, 1)]  # a*b (appended after c abcx cy xy), then a*b into abcx
    assert rest == [frozenset("c"), frozenset("cy"), frozenset("xy"), frozenset("cx")]  # a and b summed
    one = [frozenset(t) for t in ("a", "ab", "b", "bc")]  # one satellite each: left to the greedy path
    assert _engine._absorb_satellites(one, frozenset("c")) == ([], one)
    batched = [frozenset(t) for t in ("ad", "bd", "abd", "d")]  # a shared output index (draws) is no obstacle
    assert _engine._absorb_satellites(batched, frozenset("d")) == ([(0, 1), (2, 0)], [frozenset("d"), frozenset("d")])


def test_single_queries_on_new_patterns_match_marginals_with_draws(shipped):
    drawn = shipped.with_draws(20, seed=1)
    net = drawn.network
    contexts = shipped.theory.by_role("context")
    targets = [t for t in shipped.theory.by_role("outcome")][:2]
    for a, b in itertools.islice(itertools.combinations(contexts, 2), 6):
        for sa, sb in [(0, -1), (-1, 0)]:
            findings = {a: net.states[a][sa], b: net.states[b][sb]}
            fast = _engine.single_marginals(net, targets, findings)
            slow = _engine.marginals(net, targets, [findings])
            for t in targets:
                np.testing.assert_allclose(fast[t], slow[t][:, 0, :], rtol=0, atol=1e-12)
    held = net._cache["constants_held"]
    assert 0 < held <= _engine._constant_budget(net)
    # forward-only plans keep only what their varying steps read, not every intermediate
    for plan, (values, size) in net._cache["constants"].items():
        read = {i for ids, _, _ in plan.forward[plan.n_constant:] for i in ids} | {plan.final}
        assert set(values) <= read


def test_a_network_from_views_keeps_their_layout():
    cpt = np.moveaxis(np.ascontiguousarray(np.full((2, 2, 5), 0.5)), -1, 0)  # (D=5, 2, 2), draws last in memory
    prior = np.moveaxis(np.full((2, 5), 0.5), -1, 0)
    net = _engine.NetworkArrays(variables=("a", "b"), states={"a": ("x", "y"), "b": ("x", "y")},
                                parents={"a": (), "b": ("a",)}, cpts={"a": prior, "b": cpt})
    assert net.cpts["b"].strides[0] == 8 and not net.cpts["b"].flags.writeable
    assert not np.may_share_memory(net.cpts["b"], cpt)  # still a copy: the caller's array stays theirs
    with pytest.raises(bc.BayesCMOError, match="negative or non-finite"):
        _engine.NetworkArrays(variables=("a",), states={"a": ("x", "y")}, parents={}, cpts={"a": [np.inf, 0.0]})
    with pytest.raises(bc.BayesCMOError, match="negative or non-finite"):
        _engine.NetworkArrays(variables=("a",), states={"a": ("x", "y")}, parents={}, cpts={"a": [np.nan, 1.0]})
    with pytest.raises(bc.BayesCMOError, match="does not sum to 1"):
        _engine.NetworkArrays(variables=("a",), states={"a": ("x", "y")}, parents={}, cpts={"a": [0.5, 0.6]})
