"""shift / sweep / compare_scenarios: hand-computed values, cross-checks with pgmpy, draws, bad input, CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.special import expit

from bayes_cmo.network._pgmpy import to_pgmpy
from bayes_cmo import BayesCMOError, Model, ZeroProbabilityEvidence, compare_scenarios, load_model, shift, sweep
from bayes_cmo.engine.core import NetworkArrays, intervene, query
from bayes_cmo.cli import main

COLUMNS = ["context", "state", "target", "target_state", "mode", "p_baseline", "p", "delta", "ratio", "delta_logodds", "estimate"]
DRAW_COLUMNS = COLUMNS[:-1] + ["ci_low", "ci_high", "delta_ci_low", "delta_ci_high", "estimate"]
TOL = 1e-9


def row(frame: pd.DataFrame, **where) -> pd.Series:
    mask = np.ones(len(frame), dtype=bool)
    for key, value in where.items():
        mask &= frame[key].to_numpy() == value
    assert mask.sum() == 1, where
    return frame[mask].iloc[0]


# ---------------------------------------------------------------------------
# the toy theory by hand


def toy_by_hand():
    """P(initial_trust = high) and P(synergy = synergy) in the toy theory, written out.

    initial_trust has baseline 50/50, so its cutpoint is 0 and P(high | la, m) = expit(eta) with
    eta = 2.0 * score(la) - 1.0 * score(m), scores -0.5 / +0.5 (strong + = 2, moderate - = 1).
    synergy has baseline 50/50 and a strong + link from initial_trust:
    P(synergy | trust high) = expit(+1), P(synergy | trust low) = expit(-1).
    P(legal_agreements = present) = 0.4, P(mandated = yes) = 0.25.
    """
    p_la = {"absent": 0.6, "present": 0.4}
    p_m = {"no": 0.75, "yes": 0.25}
    score = {"absent": -0.5, "present": 0.5, "no": -0.5, "yes": 0.5}
    trust_high = {(la, m): expit(2.0 * score[la] - 1.0 * score[m]) for la in p_la for m in p_m}
    syn_given_trust = {"high": expit(1.0), "low": expit(-1.0)}

    def p_synergy(trust: float) -> float:
        return syn_given_trust["low"] + trust * (syn_given_trust["high"] - syn_given_trust["low"])

    baseline_trust = sum(p_la[la] * p_m[m] * trust_high[la, m] for la in p_la for m in p_m)
    trust_given_la = {la: sum(p_m[m] * trust_high[la, m] for m in p_m) for la in p_la}
    return p_synergy(baseline_trust), {la: p_synergy(t) for la, t in trust_given_la.items()}


def test_toy_shift_by_hand(toy_model):
    baseline, given_la = toy_by_hand()
    # the numbers themselves, so a change in the formula above cannot hide a change in both
    assert given_la["present"] == pytest.approx(0.268941 + 0.768796 * 0.462117, abs=1e-6)
    frame = shift(toy_model, "legal_agreements", ["synergy"])
    assert list(frame.columns) == COLUMNS
    assert len(frame) == 2 * 2 * 2  # context states x target states x modes
    for state in ("absent", "present"):
        for mode in ("observe", "do"):  # legal_agreements is a root: seeing it = setting it
            r = row(frame, state=state, target_state="synergy", mode=mode)
            p, b = given_la[state], baseline
            assert r.p_baseline == pytest.approx(b, abs=TOL)
            assert r.p == pytest.approx(p, abs=TOL)
            assert r.delta == pytest.approx(p - b, abs=TOL)
            assert r.ratio == pytest.approx(p / b, abs=TOL)
            assert r.delta_logodds == pytest.approx(np.log(p / (1 - p)) - np.log(b / (1 - b)), abs=TOL)
            other = row(frame, state=state, target_state="inertia", mode=mode)
            assert other.delta == pytest.approx(-r.delta, abs=TOL)
    assert row(frame, state="present", target_state="synergy", mode="observe").delta > 0


def test_shift_rows_are_ordered(toy_model):
    frame = shift(toy_model, "mandated", ["synergy", "initial_trust"], modes=("do", "observe"))
    assert list(frame["state"].iloc[:8]) == ["no"] * 8
    assert list(frame["target"].iloc[:4]) == ["synergy"] * 4
    assert list(frame["mode"].iloc[:2]) == ["do", "observe"]


# ---------------------------------------------------------------------------
# confounding: observe and do differ


CONFOUNDED_NODES = """
nodes:
  - {id: funding, label: Funding, role: context, states: [low, high], baseline: {high: 0.3}}
  - {id: legal_agreements, label: Legal agreements, role: context, states: [absent, present], baseline: {present: 0.4}}
  - {id: synergy, label: Synergy, role: outcome, states: [inertia, synergy], baseline: [0.5, 0.5]}
"""
CONFOUNDED_LINKS = """
links:
  - {from: funding, to: legal_agreements, sign: "+", strength: very_strong, confidence: high}
  - {from: funding, to: synergy, sign: "+", strength: strong, confidence: high}
  - {from: legal_agreements, to: synergy, sign: "+", strength: moderate, confidence: medium}
"""
CONFOUNDED_SCENARIOS = """
scenarios:
  - {id: funded, label: Well funded, evidence: {funding: high}}
  - {id: imposed, label: Agreement imposed, evidence: {}, do: {legal_agreements: present}}
"""


@pytest.fixture()
def confounded(tmp_path):
    folder = tmp_path / "confounded"
    folder.mkdir()
    (folder / "nodes.yaml").write_text(CONFOUNDED_NODES)
    (folder / "links.yaml").write_text(CONFOUNDED_LINKS)
    (folder / "scenarios.yaml").write_text(CONFOUNDED_SCENARIOS)
    return load_model(folder)


def test_observe_and_do_differ_under_confounding(confounded):
    net = confounded.network
    f_, l_, s_ = (net.cpts[v] for v in ("funding", "legal_agreements", "synergy"))
    assert net.parents["synergy"] == ("funding", "legal_agreements")  # s_ is (synergy, funding, la)
    frame = shift(confounded, "legal_agreements", "synergy")
    for k, state in enumerate(("absent", "present")):
        # do: average P(synergy | la, funding) over the prior of funding
        do = sum(f_[f] * s_[1, f, k] for f in range(2))
        # observe: average over P(funding | la) (Bayes)
        post = f_ * l_[k, :] / (f_ * l_[k, :]).sum()
        obs = sum(post[f] * s_[1, f, k] for f in range(2))
        assert row(frame, state=state, target_state="synergy", mode="do").p == pytest.approx(do, abs=TOL)
        assert row(frame, state=state, target_state="synergy", mode="observe").p == pytest.approx(obs, abs=TOL)
        assert abs(obs - do) > 0.01
    # funding is a root and unconfounded: observing it equals setting it
    root = sweep(confounded, "synergy", contexts=["funding"])
    both = root.pivot_table(index=["state", "target_state"], columns="mode", values="p")
    np.testing.assert_allclose(both["observe"], both["do"], atol=TOL)


def test_scenario_with_do_applies_graph_surgery(confounded):
    table = compare_scenarios(confounded, "synergy", scenarios=["imposed", "funded"])
    assert list(table["scenario"].unique()) == ["imposed", "funded"]
    imposed = row(table, scenario="imposed", target_state="synergy")
    expected = query(intervene(confounded.network, {"legal_agreements": "present"}), ["synergy"])[0, 1]
    assert imposed.p == pytest.approx(expected, abs=TOL)
    assert imposed.findings == "do(legal_agreements=present)"
    funded = row(table, scenario="funded", target_state="synergy")
    assert funded.p == pytest.approx(query(confounded.network, ["synergy"], [{"funding": "high"}])[0, 1], abs=TOL)
    assert funded.delta == pytest.approx(funded.p - funded.p_baseline, abs=TOL)
    # a background scenario with do() in shift: funding's shift with legal agreements imposed
    frame = shift(confounded, "funding", "synergy", scenario="imposed", modes="observe")
    net = intervene(confounded.network, {"legal_agreements": "present"})
    assert row(frame, state="high", target_state="synergy").p == pytest.approx(
        query(net, ["synergy"], [{"funding": "high"}])[0, 1], abs=TOL
    )


# ---------------------------------------------------------------------------
# against pgmpy


def _check_against_pgmpy(model: Model, frame: pd.DataFrame, evidence: dict, do_contexts=None) -> int:
    from bayes_cmo.network import _pgmpy

    network = to_pgmpy(model.network)
    ve = _pgmpy.VariableElimination(network)
    causal = _pgmpy.CausalInference(network)
    checked = 0
    for (context, state, target, mode), rows in frame.groupby(["context", "state", "target", "mode"], sort=False):
        if mode == "observe":
            factor = ve.query([target], evidence={**evidence, context: state}, show_progress=False)
        elif do_contexts is None or context in do_contexts:
            assert not evidence
            factor = causal.query([target], do={context: state}, show_progress=False)
        else:
            continue
        got = rows.set_index("target_state")["p"]
        for k, ts in enumerate(factor.state_names[target]):
            assert got[ts] == pytest.approx(factor.values[k], abs=TOL), (context, state, target, mode, ts)
        base = ve.query([target], evidence=evidence or None, show_progress=False)
        np.testing.assert_allclose(rows["p_baseline"].to_numpy(), base.values, atol=TOL)
        checked += 1
    return checked


def test_sweep_equals_pgmpy_on_the_toy_theory(toy_model):
    frame = sweep(toy_model, ["synergy", "initial_trust"])
    assert _check_against_pgmpy(toy_model, frame, {}) == 2 * 2 * 2 * 2


def test_sweep_equals_pgmpy_on_the_default_priors(default_model):
    theory = default_model.theory
    frame = sweep(default_model, ["synergy", "dissolution"])
    assert set(frame["context"]) == set(theory.by_role("context"))
    # do() through CausalInference is slower: every context with parents (where it matters) plus two roots
    confounded = {c for c in theory.by_role("context") if theory.parents(c)}
    assert confounded, "the default priors have contexts with parents"
    n = _check_against_pgmpy(default_model, frame, {}, do_contexts=confounded | {"legal_agreements", "entry_point"})
    assert n > len(frame) // 4


def test_sweep_with_background_equals_pgmpy(default_model):
    evidence = {"trust": "high", "organisational_size": "large"}
    frame = sweep(default_model, ["synergy", "dissolution"], evidence=evidence, modes="observe", include_mechanisms=True)
    assert "organisational_size" not in set(frame["context"])  # fixed by the background: skipped
    assert "communication" in set(frame["context"])  # a mechanism
    assert _check_against_pgmpy(default_model, frame, evidence) == len(frame) // 2


def test_sweep_is_ranked_by_impact(default_model):
    frame = sweep(default_model, ["synergy", "dissolution"], modes="observe")
    impact = frame["delta"].abs().groupby(frame["context"], sort=False).max().round(12)  # rounding ties
    assert list(impact) == sorted(impact, reverse=True)
    # one block per context
    blocks = (frame["context"] != frame["context"].shift()).sum()
    assert blocks == frame["context"].nunique()


@pytest.mark.parametrize("draws", [None, 7])
def test_sweep_as_columns_is_the_frame(toy_model, default_model, draws):
    model, targets = (default_model, ["synergy", "dissolution"]) if draws is None else (toy_model.with_draws(draws, seed=3), ["synergy"])
    frame = sweep(model, targets, modes=("observe", "do"))
    columns = sweep(model, targets, modes=("observe", "do"), as_frame=False)
    assert list(columns) == list(frame.columns)
    for name, values in columns.items():
        assert isinstance(values, np.ndarray) and values.shape == (len(frame),)
        if values.dtype == object:  # labels: str objects (pandas holds them as its str dtype)
            assert all(isinstance(v, str) for v in values) and list(values) == list(frame[name]), name
        else:
            assert values.dtype == frame[name].dtype and np.array_equal(values, frame[name].to_numpy()), name


def test_sweep_top_keeps_the_most_influential_contexts(default_model):
    full = sweep(default_model, ["synergy", "dissolution"], modes="observe")
    first = list(dict.fromkeys(full["context"]))[:4]
    # pandas' own selection of the same rows as the reference
    expected = full[full["context"].isin(first)].reset_index(drop=True)
    pd.testing.assert_frame_equal(sweep(default_model, ["synergy", "dissolution"], modes="observe", top=4), expected)
    assert len(sweep(default_model, "synergy", modes="observe", top=1000)) == len(sweep(default_model, "synergy", modes="observe"))


def test_sweep_ranking_equals_pandas_with_ties_and_nan():
    """The numpy ranking against pandas' groupby + stable sort on made-up rows (ties, a NaN delta, an all-NaN context)."""
    from bayes_cmo.inference.shift import _ranked

    context = np.array(["a", "a", "b", "b", "c", "d", "d", "e"], dtype=object)
    delta = np.array([0.1, -0.3, 0.3, np.nan, np.nan, -0.05, 0.2, 0.3])
    columns = {"context": context, "delta": delta, "row": np.arange(8)}
    frame = pd.DataFrame(columns)
    impact = frame["delta"].abs().groupby(frame["context"], sort=False).max()
    rank = {c: i for i, c in enumerate(impact.sort_values(ascending=False, kind="stable").index)}
    expected = frame.assign(_rank=frame["context"].map(rank)).sort_values("_rank", kind="stable")
    ranked = _ranked(columns, None)
    assert list(ranked["row"]) == list(expected["row"]) == [0, 1, 2, 3, 7, 5, 6, 4]
    assert list(_ranked(columns, 2)["context"]) == ["a", "a", "b", "b"]


def test_sweep_ranking_ties_contexts_that_differ_only_by_rounding():
    """A context that moves nothing shows 0 or a few 1e-17 by the order of summation: such rounding
    (below 1e-12) is a tie and keeps the given order; a real difference, however small, still ranks."""
    from bayes_cmo.inference.shift import _ranked

    context = np.array(["a", "b", "c", "d"], dtype=object)
    delta = np.array([0.0, 5.6e-17, 2e-12, -1e-13])
    ranked = _ranked({"context": context, "delta": delta}, None)
    assert list(ranked["context"]) == ["c", "a", "b", "d"]


def test_sweep_bad_top(toy_model):
    with pytest.raises(BayesCMOError, match=r"top: expected a positive integer, got 0"):
        sweep(toy_model, "synergy", top=0)


# ---------------------------------------------------------------------------
# random networks: the differential pass equals brute-force enumeration


@st.composite
def small_networks(draw):
    n = draw(st.integers(3, 5))
    cards = [draw(st.integers(2, 3)) for _ in range(n)]
    batch = draw(st.sampled_from([None, 3]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    names = [f"v{i}" for i in range(n)]
    parents = {}
    for i, v in enumerate(names):
        pool = names[:i]
        parents[v] = tuple(p for p in pool if draw(st.booleans()))[:3]
    cpts = {}
    for v, k in zip(names, cards):
        shape = tuple(cards[names.index(p)] for p in parents[v])
        alpha = np.ones(k)
        values = rng.dirichlet(alpha, size=(batch or 1, *shape))  # (..., k)
        values = np.moveaxis(values, -1, 1)  # (D, k, *shape)
        cpts[v] = values if batch else values[0]
    states = {v: tuple(f"s{j}" for j in range(k)) for v, k in zip(names, cards)}
    net = NetworkArrays(variables=tuple(names), states=states, parents=parents, cpts=cpts)
    target = names[-1]
    observed = draw(st.sampled_from([None, *names[:-1]]))
    evidence = {observed: "s0"} if observed else {}
    return net, target, evidence


def brute_joint(net: NetworkArrays) -> np.ndarray:
    """The full joint, (*batch, *cards), by multiplying every CPT on a grid."""
    cards = [len(net.states[v]) for v in net.variables]
    batch = () if net.batch_size is None else (net.batch_size,)
    joint = np.ones(batch + tuple(cards))
    for v in net.variables:
        axes = [net.variables.index(v)] + [net.variables.index(p) for p in net.parents[v]]
        cpt = net.cpts[v]
        if batch and not net.is_batched(v):
            cpt = np.broadcast_to(cpt, batch + cpt.shape)
        # bring the CPT onto the full grid (z: draws)
        letters = "abcdefgh"
        sub = ("z" if batch else "") + "".join(letters[a] for a in axes)
        out = ("z" if batch else "") + letters[: len(cards)]
        joint = joint * _expand(cpt, sub, out, batch + tuple(cards))
    return joint


def _expand(cpt, sub, out, shape):
    present = "".join(c for c in out if c in sub)
    arr = np.einsum(f"{sub}->{present}", cpt)
    arr = arr.reshape([shape[i] if c in sub else 1 for i, c in enumerate(out)])
    return np.broadcast_to(arr, shape)


def brute_conditional(joint, net, target, given: dict, do_var=None):
    """P(target | given) from a full joint; with do_var the joint must already be mutilated."""
    offset = joint.ndim - len(net.variables)
    index = [slice(None)] * joint.ndim
    for v, s in given.items():
        index[offset + net.variables.index(v)] = net.states[v].index(s)
    sub = joint[tuple(index)]
    remaining = [v for v in net.variables if v not in given]
    t = remaining.index(target)
    axes = tuple(offset + i for i in range(len(remaining)) if i != t)
    marg = sub.sum(axis=axes)
    return marg / marg.sum(axis=-1, keepdims=True)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_networks())
def test_sweep_equals_enumeration_on_random_networks(case):
    net, target, evidence = case
    model = Model(network=net)
    contexts = [v for v in net.variables if v != target and v not in evidence]
    frame = sweep(model, target, evidence=evidence, contexts=contexts)
    joint = brute_joint(net)
    base = brute_conditional(joint, net, target, evidence)
    for context in contexts:
        for state in net.states[context]:
            obs = brute_conditional(joint, net, target, {**evidence, context: state})
            do = brute_conditional(brute_joint(intervene(net, {context: state})), net, target, {**evidence, context: state})
            for mode, expected in (("observe", obs), ("do", do)):
                rows = frame[(frame.context == context) & (frame.state == state) & (frame["mode"] == mode)]
                expected_mean = expected.mean(axis=0) if expected.ndim == 2 else expected
                np.testing.assert_allclose(rows["p"].to_numpy(), expected_mean, atol=1e-10)
                base_mean = base.mean(axis=0) if base.ndim == 2 else base
                np.testing.assert_allclose(rows["p_baseline"].to_numpy(), base_mean, atol=1e-10)


# ---------------------------------------------------------------------------
# draws


def test_draws_give_intervals_around_the_point_values(toy_model):
    point = shift(toy_model, "legal_agreements", ["synergy"], modes="observe")
    drawn = shift(toy_model.with_draws(400, seed=3), "legal_agreements", ["synergy"], modes="observe", level=0.9)
    assert list(drawn.columns) == DRAW_COLUMNS
    assert (drawn["ci_low"] <= drawn["p"]).all() and (drawn["p"] <= drawn["ci_high"]).all()
    assert (drawn["delta_ci_low"] <= drawn["delta"]).all() and (drawn["delta"] <= drawn["delta_ci_high"]).all()
    assert (drawn["ci_high"] - drawn["ci_low"] > 0.01).all()
    # the elicited point values lie inside the 90% intervals, and near the draw means
    assert (drawn["ci_low"] <= point["p"]).all() and (point["p"] <= drawn["ci_high"]).all()
    np.testing.assert_allclose(drawn["delta"], point["delta"], atol=0.03)
    # a wider level gives wider intervals
    wide = shift(toy_model.with_draws(400, seed=3), "legal_agreements", ["synergy"], modes="observe", level=0.99)
    assert (wide["ci_high"] - wide["ci_low"] >= drawn["ci_high"] - drawn["ci_low"] - 1e-12).all()


def test_draw_means_are_means_of_per_draw_values(toy_model):
    model = toy_model.with_draws(50, seed=0)
    frame = shift(model, "mandated", ["synergy"], modes="observe")
    p = query(model.network, ["synergy"], [{"mandated": "yes"}])[:, 0, 1]
    base = query(model.network, ["synergy"])[:, 0, 1]
    r = row(frame, state="yes", target_state="synergy")
    assert r.p == pytest.approx(p.mean(), abs=TOL)
    assert r.ratio == pytest.approx((p / base).mean(), abs=TOL)
    assert r.delta_ci_low == pytest.approx(np.quantile(p - base, 0.05), abs=TOL)


def test_sweep_with_draws_equals_pgmpy_draw_by_draw(toy_model):
    """Every draw's numbers, from pgmpy VariableElimination on that draw's network (intervened for do),
    summarised as the sweep does: means, and central intervals by np.quantile."""
    from bayes_cmo.network import _pgmpy

    model = toy_model.with_draws(6, seed=11)
    targets = ["synergy", "initial_trust"]  # two targets: one differentiation serves both
    frame = sweep(model, targets, modes=("observe", "do"), level=0.8)
    net = model.network
    draws = [
        NetworkArrays(net.variables, net.states, net.parents, {v: net.cpts[v][i] for v in net.variables})
        for i in range(net.batch_size)
    ]

    def p(one, target, evidence=None, do=None):
        pg = to_pgmpy(intervene(one, do) if do else one)
        f = _pgmpy.VariableElimination(pg).query([target], evidence=evidence, show_progress=False)
        return dict(zip(f.state_names[target], f.values))

    checked = 0
    for r in frame.itertuples():
        per = np.array([
            p(one, r.target, evidence={r.context: r.state} if r.mode == "observe" else None,
              do={r.context: r.state} if r.mode == "do" else None)[r.target_state]
            for one in draws
        ])
        base = np.array([p(one, r.target)[r.target_state] for one in draws])
        assert r.p == pytest.approx(per.mean(), abs=1e-12)
        assert r.p_baseline == pytest.approx(base.mean(), abs=1e-12)
        assert r.ratio == pytest.approx((per / base).mean(), abs=1e-12)
        assert (r.ci_low, r.ci_high) == pytest.approx(tuple(np.quantile(per, [0.1, 0.9])), abs=1e-12)
        assert (r.delta_ci_low, r.delta_ci_high) == pytest.approx(tuple(np.quantile(per - base, [0.1, 0.9])), abs=1e-12)
        checked += 1
    assert checked == len(frame) == 2 * 2 * 2 * 2 * 2  # contexts x states x targets x target states x modes


def test_draws_are_seeded(toy_model):
    a = sweep(toy_model.with_draws(60, seed=7), ["synergy"])
    b = sweep(toy_model.with_draws(60, seed=7), ["synergy"])
    c = sweep(toy_model.with_draws(60, seed=8), ["synergy"])
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert not np.allclose(a["p"], c["p"])


def test_compare_scenarios_on_the_toy_theory(toy_model):
    table = compare_scenarios(toy_model, ["synergy"])
    r = row(table, scenario="enforced", target_state="synergy")
    expected = query(toy_model.network, ["synergy"], [{"mandated": "yes", "legal_agreements": "absent"}])[0, 1]
    assert r.p == pytest.approx(expected, abs=TOL)
    assert r.label == "Enforced, no agreement"
    assert r.delta < 0
    drawn = compare_scenarios(toy_model.with_draws(100, seed=1), "synergy", scenarios=[toy_model.theory.scenario("enforced")])
    assert {"ci_low", "ci_high", "delta_ci_low", "delta_ci_high"} <= set(drawn.columns)


def test_compare_default_scenarios(default_model):
    table = compare_scenarios(default_model, ["synergy", "dissolution"])
    ids = set(table["scenario"])
    assert {"enforced_merger", "voluntary_alliance_with_legal_agreement", "interdependence_to_merger", "buddying_under_special_measures"} <= ids
    merger = row(table, scenario="enforced_merger", target_state="dissolved")
    assert merger.delta > 0  # the paper: enforced entry puts the partnership at risk


# ---------------------------------------------------------------------------
# bad input


def test_unknown_context_suggests_a_name(toy_model):
    with pytest.raises(BayesCMOError, match="did you mean 'legal_agreements'") as err:
        shift(toy_model, "legal_agreement", ["synergy"])
    assert "\n" not in str(err.value)


def test_context_in_the_background_is_an_error(toy_model):
    with pytest.raises(BayesCMOError, match="context 'mandated' is already observed"):
        shift(toy_model, "mandated", ["synergy"], evidence={"mandated": "yes"})
    with pytest.raises(BayesCMOError, match="already observed"):
        shift(toy_model, "mandated", ["synergy"], scenario="enforced")
    with pytest.raises(BayesCMOError, match="already observed"):
        sweep(toy_model, ["synergy"], evidence={"mandated": "yes"}, contexts=["mandated"])
    with pytest.raises(BayesCMOError, match="both the context and a target"):
        shift(toy_model, "synergy", ["synergy"])
    with pytest.raises(BayesCMOError, match="target 'synergy' is fixed"):
        sweep(toy_model, ["synergy"], evidence={"synergy": "synergy"})


def test_unknown_scenario(toy_model):
    with pytest.raises(BayesCMOError, match="unknown scenario 'enforce'; did you mean 'enforced'"):
        compare_scenarios(toy_model, ["synergy"], scenarios=["enforce"])
    with pytest.raises(BayesCMOError, match="unknown scenario"):
        sweep(toy_model, ["synergy"], scenario="nope")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"modes": ("see",)}, "modes: expected one or more of observe, do, each once, got .'see'.; did you mean 'observe'"),
        ({"modes": ()}, r"modes: expected one or more of observe, do, each once, got \[\]"),
        ({"level": 1.5}, r"level: expected a number between 0 and 1 \(exclusive\), got 1.5$"),
        ({"evidence": {"mandated": "maybe"}}, "unknown state 'maybe'"),
    ],
)
def test_bad_arguments(toy_model, kwargs, message):
    with pytest.raises(BayesCMOError, match=message):
        shift(toy_model, "legal_agreements", ["synergy"], **kwargs)


def deterministic_model() -> Model:
    """a -> b copies a exactly; c depends on b. b = yes makes a = no impossible."""
    copy = np.array([[1.0, 0.0], [0.0, 1.0]])  # (b, a)
    net = NetworkArrays(
        variables=("a", "b", "c"),
        states={"a": ("yes", "no"), "b": ("yes", "no"), "c": ("lo", "hi")},
        parents={"a": (), "b": ("a",), "c": ("b",)},
        cpts={"a": np.array([0.3, 0.7]), "b": copy, "c": np.array([[0.8, 0.1], [0.2, 0.9]])},
    )
    return Model(network=net, source="deterministic.bif")


def test_zero_probability_evidence_names_the_findings():
    model = deterministic_model()
    with pytest.raises(ZeroProbabilityEvidence, match=r"a=no has probability zero together with the background \(b=yes\)"):
        shift(model, "a", ["c"], evidence={"b": "yes"}, modes="observe")
    # do(a = no) with b = yes observed is just as impossible
    with pytest.raises(ZeroProbabilityEvidence, match=r"do\(a=no"):
        shift(model, "a", ["c"], evidence={"b": "yes"}, modes="do")


@pytest.mark.parametrize("evidence", [{}, {"b": "hi"}])
def test_a_rare_first_target_state_keeps_its_digits(evidence):
    """The first target state's numbers come from a subtraction; a tiny one is computed directly instead."""
    rare = 1e-14  # P(t = rare | a = yes): the subtraction alone would leave ~1e-16 of absolute error
    net = NetworkArrays(
        variables=("a", "b", "t"),
        states={"a": ("yes", "no"), "b": ("lo", "hi"), "t": ("rare", "common")},
        parents={"a": (), "b": (), "t": ("a", "b")},
        cpts={
            "a": np.array([0.4, 0.6]),
            "b": np.array([0.5, 0.5]),
            "t": np.array([[[rare, rare], [0.3, 0.6]], [[1 - rare, 1 - rare], [0.7, 0.4]]]),  # (t, a, b)
        },
    )
    frame = sweep(Model(network=net), ["t"], evidence=evidence, contexts=["a"])
    for mode in ("observe", "do"):
        got = frame[(frame["mode"] == mode) & (frame["state"] == "yes") & (frame["target_state"] == "rare")]
        assert got["p"].item() == pytest.approx(rare, rel=1e-9, abs=0)
        expected = query(net, ["t"], [evidence or {}])[0, 0]  # P(t = rare | background)
        assert got["p_baseline"].item() == pytest.approx(expected, rel=1e-12, abs=0)
        assert got["ratio"].item() == pytest.approx(rare / expected, rel=1e-9, abs=0)


def _rare_first_state_in_one_draw() -> NetworkArrays:
    """t's first state has probability 1e-14 in the second of three draws (a, b -> t)."""
    rare = 1e-14
    t_cpt = np.empty((3, 2, 2, 2))  # (draw, t, a, b)
    t_cpt[:, 0] = [[[0.2, 0.3], [0.3, 0.6]], [[rare, rare], [0.3, 0.6]], [[0.5, 0.4], [0.1, 0.2]]]
    t_cpt[:, 1] = 1 - t_cpt[:, 0]
    return NetworkArrays(
        variables=("a", "b", "t"),
        states={"a": ("yes", "no"), "b": ("lo", "hi"), "t": ("rare", "common")},
        parents={"a": (), "b": (), "t": ("a", "b")},
        cpts={"a": np.array([[0.4, 0.6], [0.5, 0.5], [0.9, 0.1]]), "b": np.array([0.5, 0.5]), "t": t_cpt},
    )


def test_a_rare_first_target_state_in_some_draws_keeps_its_digits():
    """Only the draws where the first state is rare are computed again; every draw is exact."""
    net = _rare_first_state_in_one_draw()
    frame = sweep(Model(network=net), ["t"], contexts=["a"], modes="observe")
    base = query(net, ["t"], [{}])[:, 0, 0]  # P(t = rare) per draw, no subtraction
    for state in ("yes", "no"):
        p = query(net, ["t"], [{"a": state}])[:, 0, 0]
        got = frame[(frame["state"] == state) & (frame["target_state"] == "rare")]
        assert got["p"].item() == pytest.approx(p.mean(), rel=1e-12, abs=0)
        # the log-odds change weighs the rare draw's digits: logit(1e-14) ~ -32
        logodds = (np.log(p) - np.log1p(-p)) - (np.log(base) - np.log1p(-base))
        assert got["delta_logodds"].item() == pytest.approx(logodds.mean(), rel=1e-9, abs=0)


# ---------------------------------------------------------------------------
# draws block by block (bayes_cmo.engine.draw_blocks)


def _blocks_of(monkeypatch, net: NetworkArrays, draws_per_block: int) -> list[int]:
    """Make the engine's blocks ``draws_per_block`` draws of ``net``; returns the block sizes the verbs then use."""
    from bayes_cmo.engine import core

    cells = sum(int(np.prod(c.shape[1:])) for v, c in net.cpts.items() if net.is_batched(v))
    monkeypatch.setattr(core, "_BLOCK_ELEMENTS", cells * draws_per_block)
    seen: list[int] = []
    real = core.draw_blocks

    def spy(*args, **kwargs):
        for block in real(*args, **kwargs):
            seen.append(block.batch_size)
            yield block

    monkeypatch.setattr(core, "draw_blocks", spy)
    return seen


def _same_columns(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for name in a:
        if a[name].dtype == object:
            assert list(a[name]) == list(b[name]), name
        else:
            np.testing.assert_allclose(a[name], b[name], rtol=1e-12, atol=1e-15, err_msg=name)


def test_sweep_block_by_block_equals_all_draws_at_once(default_model, monkeypatch):
    model = default_model.with_draws(30, seed=5)
    whole = sweep(model, ["synergy", "dissolution"], as_frame=False)
    seen = _blocks_of(monkeypatch, model.network, 7)
    _same_columns(sweep(model, ["synergy", "dissolution"], as_frame=False), whole)
    assert seen == [6, 6, 6, 6, 6]  # blocks as equal as they go; one differentiation (the targets are both binary), each block once
    evidence = {"legal_agreements": "present"}
    blocked = shift(model, "entry_point", ["synergy"], evidence=evidence)
    monkeypatch.undo()
    pd.testing.assert_frame_equal(blocked, shift(model, "entry_point", ["synergy"], evidence=evidence), rtol=1e-12)


def test_a_rare_first_state_is_computed_again_within_its_block(monkeypatch):
    """The draws computed again directly are found per block: here the second of three, in a block of its own."""
    net = _rare_first_state_in_one_draw()
    whole = sweep(Model(network=net), ["t"], contexts=["a"], as_frame=False)
    seen = _blocks_of(monkeypatch, net, 1)
    _same_columns(sweep(Model(network=net), ["t"], contexts=["a"], as_frame=False), whole)
    assert seen == [1, 1, 1]
    p = query(net, ["t"], [{"a": "yes"}])[:, 0, 0]  # no subtraction anywhere
    row = (whole["state"] == "yes") & (whole["target_state"] == "rare") & (whole["mode"] == "observe")
    assert whole["p"][row].item() == pytest.approx(p.mean(), rel=1e-12, abs=0)


def test_what_if_block_by_block_equals_all_draws_at_once(default_model, monkeypatch):
    from bayes_cmo import what_if

    model = default_model.with_draws(30, seed=5)
    evidence = {"legal_agreements": "present"}
    whole = what_if(model, ["synergy", "dissolution"], evidence=evidence, do={"unequal_resources": "present"})
    seen = _blocks_of(monkeypatch, model.network, 8)
    blocked = what_if(model, ["synergy", "dissolution"], evidence=evidence, do={"unequal_resources": "present"})
    assert seen == [8, 8, 8, 6]
    pd.testing.assert_frame_equal(blocked, whole, rtol=1e-12)
    again = what_if(model, ["synergy", "dissolution"], evidence=evidence, do={"unequal_resources": "present"})
    assert seen == [8, 8, 8, 6] * 2  # the same blocks (kept on the network, with what they cache)
    pd.testing.assert_frame_equal(again, whole, rtol=1e-12)


def test_network_file_contexts_default_to_root_nodes():
    frame = sweep(deterministic_model(), ["c"])
    assert set(frame["context"]) == {"a"}
    with pytest.raises(BayesCMOError, match="no scenarios"):
        compare_scenarios(deterministic_model(), ["c"])


# ---------------------------------------------------------------------------
# CLI


def test_cli_shift_json(toy_path, capsys):
    code = main(["shift", "--model", str(toy_path), "--context", "legal_agreements", "--target", "synergy", "--json"])
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 8 and list(rows[0]) == COLUMNS
    code = main(
        ["shift", "--model", str(toy_path), "-c", "legal_agreements", "-t", "synergy", "--json", "--draws", "30", "--mode", "do"]
    )
    rows = json.loads(capsys.readouterr().out)
    assert list(rows[0]) == DRAW_COLUMNS and {r["mode"] for r in rows} == {"do"}


def test_cli_sweep_table_csv_and_plot(toy_path, tmp_path, capsys):
    out, png = tmp_path / "sweep.csv", tmp_path / "tornado.png"
    argv = ["sweep", "--model", str(toy_path), "-t", "synergy", "--draws", "40", "--csv", str(out), "--plot", str(png)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "legal_agreements" in printed and "90% CI" in printed
    written = pd.read_csv(out)
    assert list(written.columns) == DRAW_COLUMNS
    assert png.stat().st_size > 1000
    # never overwrite
    assert main(argv) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(argv + ["--force"]) == 0


def test_cli_errors_are_one_line(toy_path, capsys):
    assert main(["shift", "--model", str(toy_path), "-c", "legal_agreemnts", "-t", "synergy"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did you mean 'legal_agreements'" in err
    assert main(["scenarios", "--model", str(toy_path), "-t", "synergy", "-s", "enforce"]) == 2
    assert "did you mean 'enforced'" in capsys.readouterr().err


def test_json_rows_of_columns_equal_pandas_records():
    """The one JSON writer: a DataFrame and the same columns as numpy arrays give pandas' records, NaN as null."""
    from bayes_cmo.cli._common import json_rows

    frame = pd.DataFrame(
        {"name": ["x", "y", "z"], "n": [1, 2, 3], "p": [0.25, np.nan, 1e-300], "ok": [True, False, True]}
    )
    records = [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()} for r in frame.to_dict(orient="records")]
    for table in (frame, {name: frame[name].to_numpy() for name in frame.columns}):
        rows = json_rows(table)
        assert rows == records
        assert json.dumps(rows) == json.dumps(records)
        assert [type(v) for v in rows[0].values()] == [str, int, float, bool]


def test_cli_sweep_json_is_the_frame_s_rows(toy_path, capsys):
    """--json alone goes through the columns, with --csv through the frame: the same rows."""
    argv = ["sweep", "--model", str(toy_path), "-t", "synergy", "--draws", "20", "--json", "--top", "2", "--mode", "both"]
    assert main(argv) == 0
    rows = json.loads(capsys.readouterr().out)
    frame = sweep(load_model(toy_path).with_draws(20, seed=0), "synergy", modes=("observe", "do"), top=2)
    expected = json.loads(frame.to_json(orient="records", double_precision=15))  # pandas' own JSON writer
    assert [list(r) for r in rows] == [list(r) for r in expected]
    for row, want in zip(rows, expected):
        for key, value in want.items():
            assert row[key] == (pytest.approx(value, rel=1e-13, abs=1e-300) if isinstance(value, float) else value), key


def test_cli_scenarios_json(toy_path, capsys):
    assert main(["scenarios", "--model", str(toy_path), "-t", "synergy", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["scenario"] for r in rows} == {"enforced"}
    assert rows[0]["p"] == pytest.approx(rows[0]["p_baseline"] + rows[0]["delta"])
