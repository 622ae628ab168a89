"""Tests for the batched einsum inference engine (bayes_cmo.engine.core)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bayes_cmo.network._pgmpy import arrays_from_pgmpy, to_pgmpy
from bayes_cmo.engine.core import (
    NetworkArrays,
    ancestral_set,
    differentiate,
    draw_blocks,
    evidence_likelihoods,
    intervene,
    marginals,
    probability_of_evidence,
    query,
    select_draws,
    with_cpts,
)
from bayes_cmo._errors import BayesCMOError, ZeroProbabilityEvidence

TOL = 1e-9


# ---------------------------------------------------------------------------
# helpers


def sprinkler_net() -> NetworkArrays:
    """rain -> sprinkler -> wet, rain -> wet.  States are (yes/on, no/off)."""
    wet = np.empty((2, 2, 2))  # (wet, sprinkler, rain)
    p_wet_yes = {("on", "yes"): 0.99, ("on", "no"): 0.9, ("off", "yes"): 0.8, ("off", "no"): 0.0}
    for i, s in enumerate(["on", "off"]):
        for j, r in enumerate(["yes", "no"]):
            wet[0, i, j] = p_wet_yes[(s, r)]
            wet[1, i, j] = 1 - p_wet_yes[(s, r)]
    return NetworkArrays(
        variables=("rain", "sprinkler", "wet"),
        states={"rain": ("yes", "no"), "sprinkler": ("on", "off"), "wet": ("yes", "no")},
        parents={"rain": (), "sprinkler": ("rain",), "wet": ("sprinkler", "rain")},
        cpts={
            "rain": np.array([0.2, 0.8]),
            # columns: rain=yes, rain=no
            "sprinkler": np.array([[0.01, 0.4], [0.99, 0.6]]),
            "wet": wet,
        },
    )


@pytest.fixture(scope="module")
def pg():
    from bayes_cmo.network import _pgmpy

    return _pgmpy


_MODELS: dict = {}


@pytest.fixture(scope="module")
def example(pg):
    def get(name):
        if name not in _MODELS:
            model = pg.get_example_model(name)
            _MODELS[name] = (model, arrays_from_pgmpy(model))
        return _MODELS[name]

    return get


def forward_sample(net: NetworkArrays, rng: np.random.Generator, draw: int | None = None) -> dict:
    """One full configuration by ancestral sampling (so any subset has P > 0)."""
    idx: dict[str, int] = {}
    for v in net.variables:
        cpt = net.cpts[v] if not net.is_batched(v) else net.cpts[v][draw]
        col = cpt[(slice(None), *(idx[p] for p in net.parents[v]))]
        idx[v] = int(rng.choice(len(col), p=col / col.sum()))
    return {v: net.states[v][i] for v, i in idx.items()}


def random_evidence_sets(net, rng, n_sets, exclude=(), max_obs=4):
    sets = []
    candidates = [v for v in net.variables if v not in exclude]
    for _ in range(n_sets):
        full = forward_sample(net, rng)
        k = int(rng.integers(0, max_obs + 1))
        chosen = rng.choice(candidates, size=k, replace=False)
        sets.append({str(v): full[str(v)] for v in chosen})
    return sets


def factor_to_array(factor, variables, net) -> np.ndarray:
    """pgmpy DiscreteFactor -> array with axes in ``variables`` order, states in net order."""
    vals = np.asarray(factor.values)
    fvars = [str(v) for v in factor.variables]
    vals = np.transpose(vals, [fvars.index(v) for v in variables])
    for axis, v in enumerate(variables):
        order = [list(map(str, factor.state_names[v])).index(s) for s in net.states[v]]
        vals = np.take(vals, order, axis=axis)
    return vals


def dirichlet_draws(net: NetworkArrays, D: int, rng, concentration=20.0) -> dict:
    out = {}
    for v in net.variables:
        cpt = net.cpts[v]
        alpha = np.moveaxis(concentration * cpt + 0.5, 0, -1)
        g = rng.gamma(np.broadcast_to(alpha, (D, *alpha.shape)))
        out[v] = np.moveaxis(g / g.sum(-1, keepdims=True), -1, 1)
    return out


def brute_force_joint(net: NetworkArrays) -> np.ndarray:
    """Full joint P(all variables) in net.variables order, via one plain np.einsum."""
    letters = {v: chr(ord("a") + i) for i, v in enumerate(net.variables)}
    terms = [letters[v] + "".join(letters[p] for p in net.parents[v]) for v in net.variables]
    eq = ",".join(terms) + "->" + "".join(letters[v] for v in net.variables)
    return np.einsum(eq, *[net.cpts[v] for v in net.variables])


# ---------------------------------------------------------------------------
# 1. hand-computed toy network


def test_toy_prior_marginal_by_hand():
    net = sprinkler_net()
    # P(wet=yes) = sum over rain, sprinkler of P(r) P(s|r) P(wet=yes|s,r)
    #   rain=yes, on : 0.2 * 0.01 * 0.99 = 0.00198
    #   rain=yes, off: 0.2 * 0.99 * 0.80 = 0.15840
    #   rain=no,  on : 0.8 * 0.40 * 0.90 = 0.28800
    #   rain=no,  off: 0.8 * 0.60 * 0.00 = 0.0
    p_wet = 0.00198 + 0.15840 + 0.28800 + 0.0  # = 0.44838
    got = query(net, ["wet"])
    assert got.shape == (1, 2)
    np.testing.assert_allclose(got[0], [p_wet, 1 - p_wet], rtol=0, atol=1e-12)
    np.testing.assert_allclose(probability_of_evidence(net, [{"wet": "yes"}]), [p_wet], atol=1e-12)


def test_toy_posterior_by_hand():
    net = sprinkler_net()
    # P(rain=yes | wet=yes) = (0.00198 + 0.15840) / 0.44838 = 0.16038 / 0.44838
    p_rain_given_wet = 0.16038 / 0.44838
    # P(rain=yes | wet=yes, sprinkler=off) = 0.1584 / (0.1584 + 0) = 1
    # P(rain=yes | sprinkler=on) = 0.2*0.01 / (0.2*0.01 + 0.8*0.4) = 0.002 / 0.322
    got = query(
        net,
        ["rain"],
        [{"wet": "yes"}, {"wet": "yes", "sprinkler": "off"}, {"sprinkler": "on"}, {}],
    )
    assert got.shape == (4, 2)
    np.testing.assert_allclose(got[0, 0], p_rain_given_wet, atol=1e-12)
    np.testing.assert_allclose(got[1, 0], 1.0, atol=1e-12)
    np.testing.assert_allclose(got[2, 0], 0.002 / 0.322, atol=1e-12)
    np.testing.assert_allclose(got[3, 0], 0.2, atol=1e-12)
    np.testing.assert_allclose(got.sum(-1), 1.0, atol=1e-12)


def test_toy_do_sprinkler_on_by_hand():
    net = sprinkler_net()
    done = intervene(net, {"sprinkler": "on"})
    assert done.parents["sprinkler"] == ()
    # P(wet=yes | do(sprinkler=on)) = 0.2*0.99 + 0.8*0.9 = 0.198 + 0.72 = 0.918
    np.testing.assert_allclose(query(done, ["wet"])[0], [0.918, 0.082], atol=1e-12)
    # intervening on sprinkler says nothing about rain: P(rain=yes | do(on)) = 0.2,
    # whereas observing it does: P(rain=yes | sprinkler=on) = 0.002/0.322
    np.testing.assert_allclose(query(done, ["rain"], [{"sprinkler": "on"}])[0, 0], 0.2, atol=1e-12)
    np.testing.assert_allclose(query(net, ["rain"], [{"sprinkler": "on"}])[0, 0], 0.002 / 0.322)
    # the original is untouched
    assert net.parents["sprinkler"] == ("rain",)


def test_joint_query_shape_and_values():
    net = sprinkler_net()
    got = query(net, ["wet", "rain"])  # axes: E, wet, rain
    assert got.shape == (1, 2, 2)
    # P(wet=yes, rain=yes) = 0.00198 + 0.1584; P(wet=yes, rain=no) = 0.288
    np.testing.assert_allclose(got[0, 0], [0.16038, 0.288], atol=1e-12)
    np.testing.assert_allclose(got.sum(), 1.0, atol=1e-12)


def test_query_of_observed_variable_is_point_mass():
    got = query(sprinkler_net(), ["sprinkler"], [{"sprinkler": "off"}])
    np.testing.assert_array_equal(got, [[0.0, 1.0]])


def test_soft_evidence_by_hand():
    net = sprinkler_net()
    # virtual evidence on wet with likelihood (0.9, 0.1):
    # P(rain=yes | ve) ∝ 0.2 * [0.9 * P(wet=yes|rain=yes) + 0.1 * P(wet=no|rain=yes)]
    # P(wet=yes|rain=yes) = 0.01*0.99 + 0.99*0.8 = 0.8019 ; P(wet=yes|rain=no) = 0.4*0.9 = 0.36
    a = 0.2 * (0.9 * 0.8019 + 0.1 * 0.1981)
    b = 0.8 * (0.9 * 0.36 + 0.1 * 0.64)
    got = query(net, ["rain"], likelihoods={"wet": np.array([[0.9, 0.1]])})
    np.testing.assert_allclose(got[0, 0], a / (a + b), atol=1e-12)
    np.testing.assert_allclose(
        probability_of_evidence(net, likelihoods={"wet": np.array([[0.9, 0.1]])}), [a + b]
    )
    # combined with hard evidence on the same E
    both = query(net, ["rain"], [{"sprinkler": "off"}], likelihoods={"wet": np.array([[0.9, 0.1]])})
    a2 = 0.2 * 0.99 * (0.9 * 0.8 + 0.1 * 0.2)
    b2 = 0.8 * 0.6 * (0.9 * 0.0 + 0.1 * 1.0)
    np.testing.assert_allclose(both[0, 0], a2 / (a2 + b2), atol=1e-12)


def test_evidence_likelihoods_layout():
    net = sprinkler_net()
    lik = evidence_likelihoods(net, [{"wet": "no"}, {"rain": "yes", "wet": "yes"}, {}])
    assert list(lik) == ["rain", "wet"]  # network order
    np.testing.assert_array_equal(lik["rain"], [[1, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(lik["wet"], [[0, 1], [1, 0], [1, 1]])


def test_marginals_and_empty_sets():
    net = sprinkler_net()
    m = marginals(net, ["rain", "wet"], [{"sprinkler": "on"}, {}])
    assert set(m) == {"rain", "wet"}
    assert m["rain"].shape == (2, 2) and m["wet"].shape == (2, 2)
    np.testing.assert_allclose(m["rain"][1], [0.2, 0.8], atol=1e-12)
    # evidence sets with no findings still give one row each
    assert query(net, ["wet"], [{}, {}, {}]).shape == (3, 2)
    assert query(net, ["wet"], []).shape == (0, 2)


# ---------------------------------------------------------------------------
# 2. agreement with pgmpy VariableElimination on bundled networks


@pytest.mark.parametrize(
    "name, seed", [("asia", 1), ("alarm", 2), ("child", 3), ("insurance", 4)]
)
def test_matches_pgmpy_variable_elimination(pg, example, name, seed):
    model, net = example(name)
    rng = np.random.default_rng(seed)
    ve = pg.VariableElimination(model)
    targets = [str(v) for v in rng.choice(net.variables, size=3, replace=False)]
    sets = random_evidence_sets(net, rng, n_sets=4, exclude=targets)
    got = marginals(net, targets, sets)  # all sets in one batched call per target
    for t in targets:
        assert got[t].shape == (len(sets), len(net.states[t]))
        for i, ev in enumerate(sets):
            f = ve.query([t], evidence=ev or None, show_progress=False)
            np.testing.assert_allclose(got[t][i], factor_to_array(f, [t], net), rtol=0, atol=TOL)
    # a two-variable joint posterior
    pair = targets[:2]
    joint = query(net, pair, sets[:2])
    for i, ev in enumerate(sets[:2]):
        f = ve.query(pair, evidence=ev or None, joint=True, show_progress=False)
        np.testing.assert_allclose(joint[i], factor_to_array(f, pair, net), rtol=0, atol=TOL)


def test_pgmpy_roundtrip_keeps_cpd_order(pg, example):
    model, net = example("insurance")
    back = arrays_from_pgmpy(to_pgmpy(net))
    assert back.variables == net.variables
    for v in net.variables:
        assert back.parents[v] == net.parents[v]
        assert back.states[v] == net.states[v]
        np.testing.assert_array_equal(back.cpts[v], net.cpts[v])
    # parent order follows cpd.variables (not the reversed cpd.get_evidence())
    cpd = model.get_cpds("ThisCarDam")
    assert net.parents["ThisCarDam"] == tuple(cpd.variables[1:])


# ---------------------------------------------------------------------------
# 3. batched parameter draws


def test_batched_draws_match_per_draw_queries(pg, example):
    _, net = example("child")
    rng = np.random.default_rng(11)
    D = 5
    batched = with_cpts(net, **dirichlet_draws(net, D, rng))
    assert batched.batch_size == D
    sets = random_evidence_sets(net, rng, n_sets=3, exclude=["Disease"])
    got = query(batched, ["Disease"], sets)
    assert got.shape == (D, 3, len(net.states["Disease"]))
    pz = probability_of_evidence(batched, sets)
    assert pz.shape == (D, 3)
    for d in range(D):
        one = with_cpts(net, **{v: batched.cpts[v][d] for v in net.variables})
        np.testing.assert_allclose(got[d], query(one, ["Disease"], sets)[...], atol=1e-12)
        np.testing.assert_allclose(pz[d], probability_of_evidence(one, sets), rtol=1e-12)
    # draws really differ, so the slice check above has teeth
    assert np.ptp(got[:, 0, 0]) > 1e-3
    # and one draw against pgmpy itself
    one = with_cpts(net, **{v: batched.cpts[v][2] for v in net.variables})
    f = pg.VariableElimination(to_pgmpy(one)).query(
        ["Disease"], evidence=sets[0] or None, show_progress=False
    )
    np.testing.assert_allclose(got[2, 0], factor_to_array(f, ["Disease"], net), atol=TOL)


def test_partially_batched_and_pruned_batch_axis():
    net = sprinkler_net()
    D = 4
    wet = np.repeat(net.cpts["wet"][None], D, axis=0).copy()
    wet[:, 0, 1, 1] = [0.0, 0.1, 0.2, 0.3]  # P(wet=yes | off, no) varies by draw
    wet[:, 1, 1, 1] = 1 - wet[:, 0, 1, 1]
    b = with_cpts(net, wet=wet)
    # only wet is batched; rain's ancestors exclude it, but the draw axis is still there
    prior = query(b, ["rain"])
    assert prior.shape == (D, 1, 2)
    np.testing.assert_allclose(prior[:, 0, 0], 0.2)
    got = query(b, ["wet"])
    # P(wet=yes) = 0.44838 + 0.8*0.6*x
    np.testing.assert_allclose(got[:, 0, 0], 0.44838 + 0.48 * np.array([0, 0.1, 0.2, 0.3]))
    with pytest.raises(BayesCMOError, match="batched"):
        to_pgmpy(b)


def test_plan_is_reused():
    from bayes_cmo.engine import core as _engine

    net = sprinkler_net()
    query(net, ["rain"], [{"wet": "yes"}])
    n = len(_engine._PLAN_CACHE)
    for p in (0.1, 0.3, 0.5):
        other = with_cpts(net, rain=np.array([p, 1 - p]))
        query(other, ["rain"], [{"wet": "no"}])
    assert len(_engine._PLAN_CACHE) == n


def test_memory_guard_chunks_evidence_sets(example, monkeypatch):
    from bayes_cmo.engine import core as _engine

    _, net = example("asia")
    rng = np.random.default_rng(3)
    batched = with_cpts(net, **dirichlet_draws(net, 3, rng))
    sets = random_evidence_sets(net, rng, n_sets=7, exclude=["lung"])
    whole = query(batched, ["lung"], sets)
    monkeypatch.setattr(_engine, "_MAX_INTERMEDIATE", 8)
    _engine._PLAN_CACHE.clear()
    calls = []
    real_plan = _engine._plan
    monkeypatch.setattr(
        _engine, "_plan", lambda *a: calls.append(a[-1]) or real_plan(*a)
    )
    chunked = query(batched, ["lung"], sets)
    assert len(set(calls)) > 1  # really contracted in smaller pieces
    np.testing.assert_allclose(chunked, whole, rtol=0, atol=1e-15)


# ---------------------------------------------------------------------------
# 4. interventions


def test_intervene_matches_pgmpy_causal_inference(pg, example):
    model, net = example("asia")
    ci = pg.CausalInference(model)
    for target, do in [("dysp", {"lung": "yes"}), ("xray", {"smoke": "no"}), ("dysp", {"either": "no"})]:
        f = ci.query([target], do=do, show_progress=False)
        got = query(intervene(net, do), [target])[0]
        np.testing.assert_allclose(got, factor_to_array(f, [target], net), atol=TOL)
    # with evidence: compare against VE on the mutilated network built by hand in pgmpy
    do, ev = {"either": "yes"}, {"xray": "no", "smoke": "yes"}
    mutilated = model.copy()
    mutilated.remove_edges_from([(p, "either") for p in list(mutilated.get_parents("either"))])
    old = mutilated.get_cpds("either")
    mutilated.remove_cpds(old)
    mutilated.add_cpds(pg.TabularCPD("either", 2, [[1.0], [0.0]], state_names={"either": ["yes", "no"]}))
    f = pg.VariableElimination(mutilated).query(["lung", "dysp"], evidence=ev, show_progress=False)
    got = query(intervene(net, do), ["lung", "dysp"], [ev])[0]
    np.testing.assert_allclose(got, factor_to_array(f, ["lung", "dysp"], net), atol=TOL)


# ---------------------------------------------------------------------------
# 5. errors


def test_zero_probability_evidence_names_the_set():
    net = sprinkler_net()
    sets = [{"wet": "yes"}, {"wet": "yes", "sprinkler": "off", "rain": "no"}]
    with pytest.raises(ZeroProbabilityEvidence, match=r"evidence set 1 .*'rain': 'no'"):
        query(net, ["rain"], sets)
    with pytest.raises(ZeroProbabilityEvidence):
        marginals(net, ["wet"], sets)
    # P(e) itself is fine to ask for: it is zero
    np.testing.assert_allclose(probability_of_evidence(net, sets), [0.44838, 0.0], atol=1e-12)


def test_zero_probability_in_one_draw_only():
    net = sprinkler_net()
    wet = np.repeat(net.cpts["wet"][None], 3, axis=0).copy()
    wet[[0, 2], 0, 1, 1] = 0.5  # draw 1 keeps P(wet=yes | off, no) = 0
    wet[[0, 2], 1, 1, 1] = 0.5
    b = with_cpts(net, wet=wet)
    with pytest.raises(ZeroProbabilityEvidence, match=r"evidence set 1 .*\(draw 1\)"):
        query(b, ["wet"], [{"sprinkler": "off", "rain": "no"}, {"wet": "yes", "sprinkler": "off", "rain": "no"}])


def test_soft_evidence_zero_probability():
    with pytest.raises(ZeroProbabilityEvidence, match="soft evidence on \\['wet'\\]"):
        query(sprinkler_net(), ["rain"], likelihoods={"wet": np.array([[0.0, 0.0]])})


def test_bad_names_suggest_near_misses():
    net = NetworkArrays(
        variables=("legal_agreements",),
        states={"legal_agreements": ("present", "absent")},
        parents={},
        cpts={"legal_agreements": np.array([0.3, 0.7])},
    )
    with pytest.raises(BayesCMOError) as exc:
        query(net, ["legal_agreements"], [{"legal_agreements": "presnt"}])
    assert str(exc.value) == (
        "unknown state 'presnt' for legal_agreements in evidence set 0; did you mean 'present'?"
    )
    net = sprinkler_net()
    with pytest.raises(BayesCMOError, match="in evidence set 1; did you mean 'sprinkler'"):
        query(net, ["rain"], [{}, {"sprinkle": "on"}])
    with pytest.raises(BayesCMOError, match="did you mean 'rain'"):
        query(net, ["rainn"])
    with pytest.raises(BayesCMOError, match="did you mean 'wet'"):
        intervene(net, {"wett": "yes"})
    with pytest.raises(BayesCMOError, match="did you mean 'on'"):
        intervene(net, {"sprinkler": "onn"})
    with pytest.raises(BayesCMOError, match="wrap a single evidence set in a list"):
        query(net, ["rain"], {"wet": "yes"})
    with pytest.raises(BayesCMOError, match=r"expected \(E, 2\)"):
        query(net, ["rain"], likelihoods={"wet": np.array([0.5, 0.5])})


def test_network_validation():
    net = sprinkler_net()
    with pytest.raises(BayesCMOError, match="does not sum to 1"):
        with_cpts(net, rain=np.array([0.5, 0.6]))
    with pytest.raises(BayesCMOError, match="shape"):
        with_cpts(net, sprinkler=np.array([0.5, 0.5]))
    with pytest.raises(BayesCMOError, match="disagree on the number of draws"):
        with_cpts(net, rain=np.full((3, 2), 0.5), sprinkler=np.full((4, 2, 2), 0.5))
    batched = with_cpts(net, rain=np.full((3, 2), 0.5))  # only the replaced tables are checked: against the kept ones too
    with pytest.raises(BayesCMOError, match="'rain' has 3, 'sprinkler' has 4"):
        with_cpts(batched, sprinkler=np.full((4, 2, 2), 0.5))
    assert batched.batch_size == 3 and with_cpts(batched, rain=np.array([0.5, 0.5])).batch_size is None
    with pytest.raises(BayesCMOError, match="topological"):
        NetworkArrays(
            variables=("wet", "rain"),
            states={"wet": ("y", "n"), "rain": ("y", "n")},
            parents={"wet": ("rain",)},
            cpts={"wet": np.full((2, 2), 0.5), "rain": np.array([0.5, 0.5])},
        )
    assert net.batch_size is None


def test_engine_import_does_not_import_pgmpy():
    code = "import sys, bayes_cmo.engine.core; assert 'pgmpy' not in sys.modules, 'pgmpy imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------------------
# 6. pyAgrum cross-check


def test_matches_pyagrum(example):
    gum = pytest.importorskip("pyagrum")
    _, net = example("insurance")
    bn = gum.BayesNet("insurance")
    for v in net.variables:
        bn.add(gum.LabelizedVariable(v, v, list(net.states[v])))
    for v in net.variables:
        for p in net.parents[v]:
            bn.addArc(p, v)
    for v in net.variables:
        pot = bn.cpt(v)
        names = list(pot.names)  # pot.toarray() axes are reversed(names)
        ours = ["\0"] + list(net.parents[v])  # our axis order: v, then parents
        ours[0] = v
        arr = np.transpose(net.cpts[v], [ours.index(n) for n in reversed(names)])
        pot.fillWith(arr.ravel().tolist())
        np.testing.assert_array_equal(pot.toarray(), arr)

    rng = np.random.default_rng(5)
    targets = ["ThisCarCost", "Accident", "RiskAversion"]
    sets = random_evidence_sets(net, rng, n_sets=4, exclude=targets, max_obs=5)
    got = marginals(net, targets, sets)
    for i, ev in enumerate(sets):
        ie = gum.LazyPropagation(bn)
        ie.setEvidence(ev)
        ie.makeInference()
        for t in targets:
            np.testing.assert_allclose(got[t][i], ie.posterior(t).toarray(), rtol=0, atol=TOL)


# ---------------------------------------------------------------------------
# 7. property test against brute-force enumeration


@st.composite
def small_networks(draw):
    n = draw(st.integers(3, 6))
    cards = draw(st.lists(st.integers(2, 3), min_size=n, max_size=n))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    names = [f"x{i}" for i in range(n)]
    parents = {}
    for i, v in enumerate(names):
        k = draw(st.integers(0, min(i, 3)))
        parents[v] = tuple(str(p) for p in rng.choice(names[:i], size=k, replace=False)) if k else ()
    cpts = {}
    for v, c in zip(names, cards):
        pc = [cards[names.index(p)] for p in parents[v]]
        alpha = draw(st.sampled_from([0.3, 1.0, 5.0]))
        cpts[v] = np.moveaxis(rng.dirichlet([alpha] * c, size=tuple(pc)), -1, 0)
    net = NetworkArrays(
        variables=tuple(names),
        states={v: tuple(f"s{j}" for j in range(c)) for v, c in zip(names, cards)},
        parents=parents,
        cpts=cpts,
    )
    n_sets = draw(st.integers(1, 3))
    sets = []
    for _ in range(n_sets):
        observed = draw(st.lists(st.sampled_from(names), max_size=n - 1, unique=True))
        sets.append({v: f"s{draw(st.integers(0, len(net.states[v]) - 1))}" for v in observed})
    q = draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True))
    soft_var = draw(st.sampled_from(names))
    soft = rng.uniform(0.1, 1.0, size=(n_sets, len(net.states[soft_var])))
    return net, sets, q, soft_var, soft


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_networks())
def test_agrees_with_brute_force_enumeration(case):
    net, sets, q, soft_var, soft = case
    joint = brute_force_joint(net)
    np.testing.assert_allclose(joint.sum(), 1.0, atol=1e-12)
    pos = {v: i for i, v in enumerate(net.variables)}
    lik = evidence_likelihoods(net, sets)
    for with_soft in (False, True):
        expected_q, expected_z = [], []
        for i in range(len(sets)):
            w = joint.copy()
            for v, m in lik.items():
                shape = [1] * joint.ndim
                shape[pos[v]] = -1
                w = w * m[i].reshape(shape)
            if with_soft:
                shape = [1] * joint.ndim
                shape[pos[soft_var]] = -1
                w = w * soft[i].reshape(shape)
            keep = tuple(pos[v] for v in q)
            m_q = w.sum(axis=tuple(a for a in range(joint.ndim) if a not in keep))
            # sum() keeps axes in network order; put them in query order
            m_q = np.transpose(m_q, np.argsort(np.argsort(keep)))
            expected_z.append(w.sum())
            expected_q.append(m_q)
        kwargs = {"likelihoods": {soft_var: soft}} if with_soft else {}
        z = probability_of_evidence(net, sets, **kwargs)
        np.testing.assert_allclose(z, expected_z, rtol=1e-10, atol=1e-300)
        if min(expected_z) <= 0:
            with pytest.raises(ZeroProbabilityEvidence):
                query(net, q, sets, **kwargs)
            continue
        got = query(net, q, sets, **kwargs)
        assert got.shape == (len(sets), *(len(net.states[v]) for v in q))
        expected = np.stack([m / zz for m, zz in zip(expected_q, expected_z)])
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)
        np.testing.assert_allclose(got.reshape(len(sets), -1).sum(-1), 1.0, atol=1e-12)


# ---------------------------------------------------------------------------
# differentiate: Z = P(e) and dZ/dCPT in one forward and one backward pass


def _family_posterior(net, v, z, grad):
    """cpt * dZ/dcpt / Z, shaped like grad: (*batch, E, card[v], *card[parents])."""
    cpt = net.cpts[v]
    core = 1 + len(net.parents[v])
    cpt = np.expand_dims(cpt, cpt.ndim - core)  # E axis before the CPT's own axes
    return cpt * grad / z.reshape(z.shape + (1,) * core)


def _normalised(net):
    """The network with every CPT column summing to one exactly (bundled BIFs are off by ~1e-7),
    so that pruning barren nodes changes nothing beyond rounding."""
    return with_cpts(net, **{v: np.asarray(c) / np.sum(c, axis=0, keepdims=True) for v, c in net.cpts.items()})


def _random_cpt(net, v, rng):
    shape = net.cpts[v].shape[net.cpts[v].ndim - 1 - len(net.parents[v]) :]
    g = rng.gamma(np.ones(shape))
    return g / g.sum(axis=0, keepdims=True)


def test_differentiate_equals_finite_differences(example):
    """Z is linear in each CPT, so Z(theta + t*delta) - Z(theta) = t * <dZ/dtheta, delta> exactly."""
    _, net = example("asia")
    rng = np.random.default_rng(5)
    sets = random_evidence_sets(net, rng, n_sets=6) + [{"dysp": "yes", "xray": "no"}]
    soft = {"bronc": rng.uniform(0.1, 1.0, size=(len(sets), 2))}
    for kwargs in ({}, {"likelihoods": soft}):
        z, grads = differentiate(net, sets, wrt=list(net.variables), **kwargs)
        np.testing.assert_allclose(z, probability_of_evidence(net, sets, **kwargs), rtol=1e-12)
        for v in net.variables:
            assert grads[v].shape == (len(sets), *net.cpts[v].shape)
            for _ in range(3):
                delta = _random_cpt(net, v, rng) - net.cpts[v]  # keeps the columns summing to one
                for t in (0.5, 1e-4):
                    moved = with_cpts(net, **{v: net.cpts[v] + t * delta})
                    diff = (probability_of_evidence(moved, sets, **kwargs) - z) / t
                    predicted = (grads[v] * delta).reshape(len(sets), -1).sum(axis=1)
                    np.testing.assert_allclose(diff, predicted, rtol=1e-6, atol=1e-10)
    # and entry by entry, by central differences, on one entry per node
    z, grads = differentiate(net, sets)
    h = 1e-7  # within the CPT column-sum tolerance
    for v in grads:
        cpt = np.array(net.cpts[v])
        entry = tuple(int(rng.integers(n)) for n in cpt.shape)
        up, down = cpt.copy(), cpt.copy()
        up[entry] += h
        down[entry] -= h
        if down[entry] < 0:
            continue
        fd = (
            probability_of_evidence(with_cpts(net, **{v: up}), sets)
            - probability_of_evidence(with_cpts(net, **{v: down}), sets)
        ) / (2 * h)
        np.testing.assert_allclose(fd, grads[v][(slice(None), *entry)], rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ["asia", "alarm"])
def test_differentiate_gives_family_posteriors(example, name):
    net = _normalised(example(name)[1])
    rng = np.random.default_rng(17)
    sets = random_evidence_sets(net, rng, n_sets=5, max_obs=6)
    z, grads = differentiate(net, sets, wrt=list(net.variables))
    assert z.shape == (5,)
    np.testing.assert_allclose(z, probability_of_evidence(net, sets), rtol=1e-10)
    for v in net.variables:
        family = [v, *net.parents[v]]
        np.testing.assert_allclose(
            _family_posterior(net, v, z, grads[v]), query(net, family, sets), atol=1e-10
        )


@pytest.mark.parametrize("name", ["asia", "alarm"])
def test_differentiate_batched_draws(example, name):
    net = _normalised(example(name)[1])
    rng = np.random.default_rng(23)
    D = 3
    batched = with_cpts(net, **dirichlet_draws(net, D, rng))
    sets = random_evidence_sets(net, rng, n_sets=4, max_obs=5)
    z, grads = differentiate(batched, sets, wrt=list(net.variables))
    assert z.shape == (D, 4)
    np.testing.assert_allclose(z, probability_of_evidence(batched, sets), rtol=1e-10)
    for v in net.variables:
        assert grads[v].shape == (D, 4, *net.cpts[v].shape)
        family = [v, *net.parents[v]]
        np.testing.assert_allclose(
            _family_posterior(batched, v, z, grads[v]), query(batched, family, sets), atol=1e-10
        )
    # per draw: the same as differentiating that draw's network alone
    for d in range(D):
        one = with_cpts(net, **{v: batched.cpts[v][d] for v in net.variables})
        z1, g1 = differentiate(one, sets, wrt=list(net.variables))
        np.testing.assert_allclose(z[d], z1, rtol=1e-12)
        for v in net.variables:
            np.testing.assert_allclose(grads[v][d], g1[v], rtol=1e-10, atol=1e-14)


def test_differentiate_per_case_equals_one_case_at_a_time(example):
    _, net = example("alarm")
    rng = np.random.default_rng(29)
    sets = random_evidence_sets(net, rng, n_sets=6, max_obs=8)
    soft = {"HRBP": rng.uniform(0.0, 1.0, size=(6, len(net.states["HRBP"])))}
    z, grads = differentiate(net, sets, likelihoods=soft)
    assert set(grads) == set(ancestral_set(net, {v for s in sets for v in s} | {"HRBP"}))
    for i, ev in enumerate(sets):
        zi, gi = differentiate(net, [ev], likelihoods={"HRBP": soft["HRBP"][i : i + 1]}, wrt=list(grads))
        np.testing.assert_allclose(z[i], zi[0], rtol=1e-12)
        for v in grads:
            np.testing.assert_allclose(grads[v][i], gi[v][0], rtol=1e-10, atol=1e-15)


def test_differentiate_shapes_and_edge_cases():
    net = sprinkler_net()
    # no evidence: Z = 1, dZ/dcpt = P(parents) broadcast over the node's states
    z, grads = differentiate(net, wrt=["wet", "rain"])
    assert z.shape == (1,) and grads["wet"].shape == (1, 2, 2, 2)
    np.testing.assert_allclose(z, 1.0)
    np.testing.assert_allclose(grads["rain"], 1.0)
    joint = query(net, ["sprinkler", "rain"])[0]
    np.testing.assert_allclose(grads["wet"][0], np.broadcast_to(joint, (2, 2, 2)), atol=1e-15)
    z, grads = differentiate(net)
    assert grads == {}
    np.testing.assert_array_equal(z, [1.0])
    # a lone root with no evidence
    z, grads = differentiate(net, wrt=["rain"])
    np.testing.assert_allclose(grads["rain"], 1.0)
    # do(): summing the gradient over the parents gives P(e | do(v = x))
    z, grads = differentiate(net, [{"wet": "yes"}], wrt=["sprinkler"])
    for k, state in enumerate(net.states["sprinkler"]):
        want = probability_of_evidence(intervene(net, {"sprinkler": state}), [{"wet": "yes"}])
        np.testing.assert_allclose(grads["sprinkler"][0, k].sum(), want[0], rtol=1e-12)
    # default wrt: the evidence and its ancestors (barren nodes pruned)
    _, grads = differentiate(net, [{"sprinkler": "on"}])
    assert list(grads) == ["rain", "sprinkler"]
    # a partially batched network: only wet carries draws, rain's gradient still has a draw axis
    D = 4
    wet = np.repeat(net.cpts["wet"][None], D, axis=0).copy()
    wet[:, 0, 1, 1] = [0.0, 0.1, 0.2, 0.3]
    wet[:, 1, 1, 1] = 1 - wet[:, 0, 1, 1]
    b = with_cpts(net, wet=wet)
    z, grads = differentiate(b, [{"wet": "yes"}, {}], wrt=["rain", "wet"])
    assert z.shape == (D, 2) and grads["rain"].shape == (D, 2, 2)
    np.testing.assert_allclose(z, probability_of_evidence(b, [{"wet": "yes"}, {}]), rtol=1e-12)
    np.testing.assert_allclose(
        _family_posterior(b, "rain", z, grads["rain"]), query(b, ["rain"], [{"wet": "yes"}, {}]), atol=1e-12
    )
    z, grads = differentiate(b, [{"sprinkler": "on"}], wrt=["rain"])  # draws pruned, still there
    assert z.shape == (D, 1) and grads["rain"].shape == (D, 1, 2)
    # zero probability is not an error here
    z, _ = differentiate(net, [{"wet": "yes", "sprinkler": "off", "rain": "no"}])
    assert z[0] == 0.0
    with pytest.raises(BayesCMOError, match="unknown variable 'wett' in wrt"):
        differentiate(net, wrt=["wett"])
    with pytest.raises(BayesCMOError, match="duplicate"):
        differentiate(net, wrt=["wet", "wet"])
    with pytest.raises(BayesCMOError, match="sequence"):
        differentiate(net, wrt="wet")


def test_differentiate_memory_guard_chunks_evidence_sets(example, monkeypatch):
    from bayes_cmo.engine import core as _engine

    _, net = example("asia")
    rng = np.random.default_rng(31)
    batched = with_cpts(net, **dirichlet_draws(net, 3, rng))
    sets = random_evidence_sets(net, rng, n_sets=7)
    z, grads = differentiate(batched, sets, wrt=list(net.variables))
    monkeypatch.setattr(_engine, "_MAX_INTERMEDIATE", 8)
    _engine._PLAN_CACHE.clear()
    calls = []
    real = _engine._compile
    monkeypatch.setattr(_engine, "_compile", lambda *a: calls.append(a[-1]) or real(*a))
    z2, grads2 = differentiate(batched, sets, wrt=list(net.variables))
    assert len(set(calls)) > 1
    np.testing.assert_allclose(z2, z, rtol=1e-14)
    for v in net.variables:
        np.testing.assert_allclose(grads2[v], grads[v], rtol=1e-13, atol=1e-16)


def test_ancestral_set():
    net = sprinkler_net()
    assert ancestral_set(net, ["sprinkler"]) == ["rain", "sprinkler"]
    assert ancestral_set(net, []) == []
    assert ancestral_set(net, {"wet"}) == ["rain", "sprinkler", "wet"]
    with pytest.raises(BayesCMOError, match="did you mean"):
        ancestral_set(net, ["wett"])


def _drawn_sprinkler(d: int, seed: int = 0) -> NetworkArrays:
    """The sprinkler net with ``d`` Dirichlet draws of every CPT (rain's stored draws-last, as the network stage does)."""
    net, rng = sprinkler_net(), np.random.default_rng(seed)
    cpts = {}
    for v, cpt in net.cpts.items():
        flat = cpt.reshape(cpt.shape[0], -1).T  # one row per parent configuration
        drawn = np.stack([rng.dirichlet(50 * row + 0.5, size=d) for row in flat], axis=-1)  # (D, K, configs)
        cpts[v] = drawn.reshape(d, *cpt.shape)
    cpts["rain"] = np.moveaxis(np.ascontiguousarray(cpts["rain"].T), -1, 0)
    return with_cpts(net, **cpts)


def test_select_draws_of_a_slice_are_read_only_views_of_those_draws():
    net = _drawn_sprinkler(7)
    some = select_draws(net, slice(2, 5))
    assert some.batch_size == 3 and some.variables == net.variables
    for v in net.variables:
        assert np.shares_memory(some.cpts[v], net.cpts[v]) and not some.cpts[v].flags.writeable
        np.testing.assert_array_equal(some.cpts[v], net.cpts[v][2:5])
    np.testing.assert_allclose(query(some, ["rain"], [{"wet": "yes"}]), query(net, ["rain"], [{"wet": "yes"}])[2:5], rtol=1e-13)
    assert select_draws(net, slice(5, 99)).batch_size == 2  # a slice past the end stops at the last draw
    mask = np.arange(7) % 3 == 0  # a boolean mask keeps those draws too
    np.testing.assert_array_equal(select_draws(net, mask).cpts["wet"], net.cpts["wet"][[0, 3, 6]])
    assert select_draws(net, mask).batch_size == 3
    assert select_draws(sprinkler_net(), slice(0, 1)).batch_size is None  # no draws: the network as it is


@pytest.mark.parametrize("d, elements, sizes", [
    (10, 10**9, [10]),  # small enough: one block, the network itself
    (10, 14 * 5, [5, 5]),  # 14 numbers of tables per draw
    (10, 14 * 3, [3, 3, 3, 1]),  # equal blocks but the last
    (3, 1, [1, 1, 1]),  # never less than a draw
])
def test_draw_blocks_cover_every_draw_in_order(d, elements, sizes):
    net = _drawn_sprinkler(d)
    blocks = list(draw_blocks(net, elements=elements))
    assert [b.batch_size for b in blocks] == sizes
    if len(blocks) == 1:
        assert blocks[0] is net
    evidence = [{"wet": "yes"}, {"sprinkler": "on"}]
    whole = query(net, ["rain"], evidence)
    np.testing.assert_allclose(np.concatenate([query(b, ["rain"], evidence) for b in blocks]), whole, rtol=1e-13)
    z, grads = differentiate(net, evidence)
    parts = [differentiate(b, evidence) for b in blocks]
    np.testing.assert_allclose(np.concatenate([p[0] for p in parts]), z, rtol=1e-13)
    for v in grads:
        np.testing.assert_allclose(np.concatenate([p[1][v] for p in parts]), grads[v], rtol=1e-13)


def test_draw_blocks_kept_on_the_network_or_made_as_reached():
    net = _drawn_sprinkler(10)
    kept = list(draw_blocks(net, elements=70))
    assert [b is c for b, c in zip(kept, draw_blocks(net, elements=70))] == [True, True]  # with their caches
    fresh = draw_blocks(net, keep=False, elements=42)
    first = next(fresh)
    assert first.batch_size == 3 and not any(first is b for b in draw_blocks(net, keep=False, elements=42))
    assert list(draw_blocks(sprinkler_net())) and next(draw_blocks(sprinkler_net())).batch_size is None


def _deferred_sprinkler(net: NetworkArrays, check_sums: bool, spoil=None, spoil_first=None):
    """A deferred copy of a drawn ``net``; ``spoil(tables, draws)`` edits the tables of later blocks,
    ``spoil_first`` those of the first draw."""
    from bayes_cmo.engine import deferred

    def tables(draws: slice):
        out = {v: np.array(net.cpts[v][draws]) for v in net.variables}
        edit = spoil if draws.start > 0 else spoil_first
        if edit is not None:
            edit(out, draws)
        return out

    return deferred(net.variables, net.states, net.parents, net.batch_size, tables, check_sums=check_sums)


def _halve_rain(tables, draws):
    tables["rain"] = tables["rain"] / 2


def _drop_a_draw(tables, draws):
    tables["wet"] = tables["wet"][1:]


def _drop_wet(tables, draws):
    del tables["wet"]


@pytest.mark.parametrize("check_sums, spoil, message", [
    (True, _halve_rain, "CPT of 'rain' does not sum to 1"),  # every block checked in full
    (False, _halve_rain, None),  # later blocks trusted to sum to one: shapes only
    (False, _drop_a_draw, r"deferred table of 'wet' has shape \(2, 2, 2, 2\); expected \(3, 2, 2, 2\)"),
    (True, _drop_a_draw, "batched CPTs disagree on the number of draws"),
    (False, _drop_wet, "deferred tables: 'wet' is missing"),
])
def test_deferred_blocks_are_checked_in_full_or_for_their_shapes(check_sums, spoil, message):
    net = _drawn_sprinkler(9)
    ok = _deferred_sprinkler(net, check_sums)
    blocks = list(draw_blocks(ok, keep=False, elements=14 * 3))
    for v in net.variables:  # unspoilt, either way: the given tables
        np.testing.assert_array_equal(np.concatenate([b.cpts[v] for b in blocks]), net.cpts[v])
    spoilt = draw_blocks(_deferred_sprinkler(net, check_sums, spoil), keep=False, elements=14 * 3)
    assert next(spoilt).batch_size == 3  # the first block (and draw) as made
    if message is None:
        np.testing.assert_array_equal(next(spoilt).cpts["rain"], net.cpts["rain"][3:6] / 2)
    else:
        with pytest.raises(BayesCMOError, match=message):
            next(spoilt)
    with pytest.raises(BayesCMOError, match="does not sum to 1"):  # the first draw is always checked in full
        _deferred_sprinkler(net, False, spoil=lambda tables, draws: None, spoil_first=_halve_rain)


def test_select_draws_keeps_those_draws():
    a = np.array([[0.2, 0.8], [0.5, 0.5], [0.9, 0.1]])  # 3 draws
    b = np.array([[0.3, 0.6], [0.7, 0.4]])  # shared (b, a)
    net = NetworkArrays(("a", "b"), {"a": ("x", "y"), "b": ("lo", "hi")}, {"a": (), "b": ("a",)}, {"a": a, "b": b})
    some = select_draws(net, np.array([2, 0]))
    assert some.batch_size == 2
    np.testing.assert_array_equal(some.cpts["a"], a[[2, 0]])
    np.testing.assert_array_equal(query(some, ["b"]), query(net, ["b"])[[2, 0]])
    one = select_draws(net, 1)  # an int: that draw, unbatched
    assert one.batch_size is None
    np.testing.assert_allclose(query(one, ["b"])[0], query(net, ["b"])[1, 0], atol=1e-15)


def test_a_roots_marginal_without_evidence_is_its_table_as_a_contraction_gives_it():
    net = _drawn_sprinkler(6)
    for v in ("rain", "sprinkler", "wet"):  # rain is the root; the others go through their plans
        plain = marginals(net, [v])[v]
        ones = marginals(net, [v], likelihoods={"wet": np.ones((1, 2))})[v]  # evidence that changes nothing
        assert plain.shape == (6, 1, 2)
        np.testing.assert_allclose(plain, ones, rtol=1e-14)
    np.testing.assert_array_equal(marginals(net, ["rain"])["rain"][:, 0], net.cpts["rain"] / net.cpts["rain"].sum(-1, keepdims=True))
    np.testing.assert_array_equal(marginals(sprinkler_net(), ["rain"])["rain"], sprinkler_net().cpts["rain"][np.newaxis])
    shared = with_cpts(sprinkler_net(), wet=np.repeat(sprinkler_net().cpts["wet"][None], 3, axis=0))
    assert marginals(shared, ["rain"])["rain"].shape == (3, 1, 2)  # a shared root's table, per draw
    assert query(sprinkler_net(), ["rain"], [{}, {}, {}]).shape == (3, 2)  # empty evidence sets: one answer each
