"""The engine at any size: past numpy's 52 einsum letters, the memory refusal, the single-query fast path."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from bayes_cmo._errors import BayesCMOError, ZeroProbabilityEvidence
from bayes_cmo.engine import core as _engine
from bayes_cmo.engine.core import (
    NetworkArrays,
    PlanTooLarge,
    differentiate,
    intervene,
    marginals,
    query,
    single_marginals,
    with_cpts,
)

TOL = 1e-9


def forward_sample(net: NetworkArrays, rng: np.random.Generator) -> dict:
    idx: dict[str, int] = {}
    for v in net.variables:
        col = net.cpts[v][(slice(None), *(idx[p] for p in net.parents[v]))]
        idx[v] = int(rng.choice(len(col), p=col / col.sum()))
    return {v: net.states[v][i] for v, i in idx.items()}


def random_network(n: int, rng: np.random.Generator, max_parents: int = 3, window: int = 12) -> NetworkArrays:
    """``n`` variables of 2-4 states; each has up to ``max_parents`` parents among the previous ``window``."""
    names = [f"v{i:04d}" for i in range(n)]
    cards = {v: int(rng.integers(2, 5)) for v in names}
    parents, cpts = {}, {}
    for i, v in enumerate(names):
        pool = names[max(0, i - window) : i]
        k = int(rng.integers(0, min(max_parents, len(pool)) + 1))
        ps = tuple(str(p) for p in rng.choice(pool, size=k, replace=False)) if k else ()
        parents[v] = ps
        shape = (cards[v], *(cards[p] for p in ps))
        g = rng.gamma(np.ones(shape))
        cpts[v] = g / g.sum(axis=0, keepdims=True)
    return NetworkArrays(
        variables=tuple(names),
        states={v: tuple(f"s{k}" for k in range(cards[v])) for v in names},
        parents=parents,
        cpts=cpts,
    )


def pgmpy_marginal(ve, target, evidence, net):
    factor = ve.query([target], evidence=evidence, show_progress=False)
    names = [str(s) for s in factor.state_names[target]]
    return np.array([factor.values[names.index(s)] for s in net.states[target]])


@pytest.fixture(scope="module")
def pg():
    from bayes_cmo.network import _pgmpy

    return _pgmpy


@pytest.fixture(scope="module")
def big():
    return random_network(320, np.random.default_rng(7))


def test_generated_network_of_320_variables_matches_pgmpy(big, pg):
    rng = np.random.default_rng(11)
    ve = pg.VariableElimination(pg.to_pgmpy(big))
    # the last variable depends (through the chain) on well over 52 others
    assert len(_engine.ancestral_set(big, [big.variables[-1]])) > 52
    for _ in range(4):
        full = forward_sample(big, rng)
        observed = [str(v) for v in rng.choice(big.variables[100:], size=4, replace=False)]
        target = big.variables[int(rng.integers(0, 300))]
        if target in observed:
            continue
        evidence = {v: full[v] for v in observed}
        ours = query(big, [target], [evidence])[0]
        theirs = pgmpy_marginal(ve, target, evidence, big)
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOL)
        fast = single_marginals(big, [target], evidence)[target]
        np.testing.assert_allclose(fast, ours, rtol=0, atol=1e-12)


def test_generated_network_batched_and_differentiated(big):
    rng = np.random.default_rng(5)
    sets = [{v: forward_sample(big, rng)[v] for v in ("v0300", "v0310")} for _ in range(3)]
    target = "v0250"
    draws = {v: np.stack([big.cpts[v]] * 2) for v in big.variables[240:]}
    batched = with_cpts(big, **draws)
    got = query(batched, [target], sets)
    np.testing.assert_allclose(got[0], query(big, [target], sets), rtol=0, atol=1e-12)
    z, grads = differentiate(big, sets, wrt=["v0299"])
    np.testing.assert_allclose(z, _engine.probability_of_evidence(big, sets), rtol=1e-12)
    assert grads["v0299"].shape == (3, *big.cpts["v0299"].shape)


@pytest.mark.parametrize("name", ["andes", pytest.param("munin1", marks=pytest.mark.slow)])
def test_bundled_large_networks_match_pgmpy(pg, name):
    model = pg.get_example_model(name)
    net = pg.arrays_from_pgmpy(model)
    ve = pg.VariableElimination(model)
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(3):
        full = forward_sample(net, rng)
        observed = [str(v) for v in rng.choice(net.variables, size=3, replace=False)]
        target = next(v for v in rng.permutation(net.variables) if v not in observed)
        evidence = {v: full[v] for v in observed}
        ours = single_marginals(net, [target], evidence)[target]
        theirs = pgmpy_marginal(ve, target, evidence, net)
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOL)
        checked += 1
    assert checked == 3


@pytest.mark.slow
@pytest.mark.parametrize("name", ["diabetes", "pathfinder", "link", "munin2", "munin3", "munin4", "munin"])
def test_every_big_bundled_network_answers_or_refuses(pg, name):
    model = pg.get_example_model(name)
    net = pg.arrays_from_pgmpy(model)
    ve = pg.VariableElimination(model)
    rng = np.random.default_rng(1)
    for _ in range(3):
        full = forward_sample(net, rng)
        observed = [str(v) for v in rng.choice(net.variables, size=3, replace=False)]
        target = next(v for v in rng.permutation(net.variables) if v not in observed)
        evidence = {v: full[v] for v in observed}
        try:
            ours = single_marginals(net, [target], evidence)[target]
        except PlanTooLarge as exc:
            assert "\n" not in str(exc) and target in str(exc)
            continue
        np.testing.assert_allclose(ours, pgmpy_marginal(ve, target, evidence, net), rtol=0, atol=TOL)


def test_memory_refusal_is_one_line_naming_query_and_size(big, monkeypatch):
    monkeypatch.setattr(_engine, "MAX_TABLE_ELEMENTS", 10)
    with pytest.raises(PlanTooLarge) as info:
        query(big, ["v0300"], [{"v0310": "s0"}])
    message = str(info.value)
    assert "\n" not in message and "P(v0300 | v0310)" in message and "numbers" in message
    assert isinstance(info.value, BayesCMOError)
    with pytest.raises(PlanTooLarge, match="P\\(v0300 \\| v0310\\)"):
        single_marginals(big, ["v0300"], {"v0310": "s0"})
    with pytest.raises(PlanTooLarge, match="differentiated"):
        differentiate(big, [{"v0310": "s0"}], wrt=["v0300"])


def test_ascii_relabelling_per_step():
    eq = _engine._ascii("".join(chr(0x100 + i) for i in range(5)) + "," + chr(0x100) + "->" + chr(0x101))
    assert eq == "ABCDE,A->B"  # code-point order kept
    assert _engine._ascii("ab,b->a") == "ab,b->a"  # ASCII subscripts are left alone
    with pytest.raises(PlanTooLarge, match="at most 52"):
        _engine._ascii("".join(chr(0x100 + i) for i in range(53)) + "->")


def test_single_marginals_equal_marginals_with_do_and_draws(pg):
    net = pg.arrays_from_pgmpy(pg.get_example_model("alarm"))
    findings = {"HRBP": "HIGH", "CO": "LOW"}
    do = {"HYPOVOLEMIA": "TRUE"}
    fast = single_marginals(net, ["LVFAILURE", "BP"], findings, do)
    slow = marginals(intervene(net, do), ["LVFAILURE", "BP"], [findings])
    for t in fast:
        np.testing.assert_allclose(fast[t], slow[t][0], rtol=0, atol=1e-14)
    # a second do() state of the same variable reuses the cached surgery and plan
    n = len(_engine._PLAN_CACHE)
    other = single_marginals(net, ["LVFAILURE"], findings, {"HYPOVOLEMIA": "FALSE"})
    assert len(_engine._PLAN_CACHE) == n
    expect = marginals(intervene(net, {"HYPOVOLEMIA": "FALSE"}), ["LVFAILURE"], [findings])["LVFAILURE"][0]
    np.testing.assert_allclose(other["LVFAILURE"], expect, rtol=0, atol=1e-14)
    # draws: shape (D, K), each draw its own answer
    rng = np.random.default_rng(0)
    cpt = net.cpts["LVFAILURE"]
    g = rng.gamma(np.broadcast_to(20 * cpt + 0.5, (3, *cpt.shape)))
    batched = with_cpts(net, LVFAILURE=g / g.sum(axis=1, keepdims=True))
    got = single_marginals(batched, ["LVFAILURE", "HYPOVOLEMIA"], findings)
    want = marginals(batched, ["LVFAILURE", "HYPOVOLEMIA"], [findings])
    for t in got:
        assert got[t].shape == (3, 2)
        np.testing.assert_allclose(got[t], want[t][:, 0], rtol=0, atol=1e-14)


def test_single_marginals_errors(pg):
    net = pg.arrays_from_pgmpy(pg.get_example_model("asia"))
    with pytest.raises(BayesCMOError, match="did you mean"):
        single_marginals(net, ["lung"], {"xrey": "yes"})
    with pytest.raises(BayesCMOError, match="unknown state 'maybe'"):
        single_marginals(net, ["lung"], {"xray": "maybe"})
    with pytest.raises(BayesCMOError, match="both observed and intervened"):
        single_marginals(net, ["lung"], {"smoke": "yes"}, {"smoke": "no"})
    with pytest.raises(ZeroProbabilityEvidence, match="probability zero"):
        single_marginals(net, ["smoke"], {"lung": "yes", "tub": "no", "either": "no"})


def test_import_does_not_pull_in_heavy_modules():
    code = (
        "import sys, bayes_cmo; "
        "heavy = [m for m in ('scipy.stats', 'scipy.optimize', 'pgmpy', 'matplotlib', 'seaborn') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
