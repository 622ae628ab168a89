"""The time view by round: exact forward-backward given the contexts, against exact inference on the unrolled network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import bayes_cmo as bc
from bayes_cmo.engine import core as engine
from bayes_cmo.inference import loop
from bayes_cmo.inference.loop import absorbing_network, by_round
from bayes_cmo.inference.rounds import round_name, unroll

TOY_LOOP = Path(__file__).parent / "data" / "toy_loop"
ABSORBING = ("dissolution", "dissolved")


@pytest.fixture(scope="module")
def toy():
    return bc.load_model(TOY_LOOP)


def _exact(model, rounds, target, evidence=None, do=None):
    """P(target in each round) from one exact query per round on the whole unrolled network."""
    theory = model.theory
    net = absorbing_network(unroll(theory, rounds, model.parameters).network, *ABSORBING, rounds)
    if do:
        net = engine.intervene(net, do)
    sets = [evidence] if evidence else None
    return np.stack([engine.query(net, [round_name(target, r)], sets)[..., 0, :] for r in range(1, rounds + 1)], axis=-2)


def _answer(frame, target):
    part = frame[frame.target == target]
    return part.pivot(index="round", columns="state", values="p")[list(part.state.drop_duplicates())].to_numpy()


def test_toy_is_exact_and_matches_the_unrolled_network(toy):
    frame = by_round(toy, ["trust", "dissolution", "task_achievement"], rounds=4, absorbing=ABSORBING)
    assert set(frame.method) == {"exact"} and (frame.std_error == 0).all()
    for target in ("trust", "dissolution", "task_achievement"):
        np.testing.assert_allclose(_answer(frame, target), _exact(toy, 4, target), atol=1e-12)


def test_findings_and_interventions_by_round(toy):
    evidence = {"trust@2": "high", "legal_agreements": "present"}
    do = {"task_achievement@3": "low"}
    frame = by_round(toy, ["trust", "dissolution"], rounds=4, evidence=evidence, do=do, absorbing=ABSORBING)
    exact_ev = {"trust_r2": "high", "legal_agreements": "present"}
    exact_do = {"task_achievement_r3": "low"}
    for target in ("trust", "dissolution"):
        np.testing.assert_allclose(_answer(frame, target), _exact(toy, 4, target, exact_ev, exact_do), atol=1e-12)
    # The finding is reproduced in its round, and evidence in round 2 reaches back to round 1.
    trust = _answer(frame, "trust")
    assert trust[1, 2] == pytest.approx(1.0)
    assert trust[0, 2] > _answer(by_round(toy, "trust", rounds=4, evidence={"legal_agreements": "present"}), "trust")[0, 2]


def test_dissolution_is_absorbing(toy):
    p = _answer(by_round(toy, "dissolution", rounds=8, absorbing=ABSORBING), "dissolution")[:, 1]
    assert np.all(np.diff(p) > 0)


def test_importance_sampling_agrees_within_its_standard_error(toy, monkeypatch):
    monkeypatch.setattr(loop, "EXACT_CONFIGURATIONS", 0)
    frame = by_round(toy, ["trust", "dissolution"], rounds=3, evidence={"trust@2": "low"}, absorbing=ABSORBING, samples=4000, seed=3)
    assert set(frame.method) == {"importance sampling"}
    exact = {t: _exact(toy, 3, t, {"trust_r2": "low"}) for t in ("trust", "dissolution")}
    for target in ("trust", "dissolution"):
        part = frame[frame.target == target]
        got = part.p.to_numpy().reshape(3, -1)
        se = part.std_error.to_numpy().reshape(3, -1)
        assert (se[[0, 2]] > 0).all()
        assert np.all(np.abs(got - exact[target]) <= 4 * se + 1e-9)


def test_draws_average_the_per_draw_exact_answers(toy):
    drawn = toy.with_draws(40, seed=2)
    frame = by_round(drawn, "dissolution", rounds=3, absorbing=ABSORBING, level=0.8)
    per_draw = _exact(drawn, 3, "dissolution")  # (draws, rounds, states)
    part = frame[frame.state == "dissolved"]
    np.testing.assert_allclose(part.p, per_draw[..., 1].mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(part.ci_low, np.quantile(per_draw[..., 1], 0.1, axis=0), atol=1e-12)
    assert (part.ci_low < part.p).all() and (part.p < part.ci_high).all()


def test_shipped_priors_two_rounds_against_exact():
    model = bc.load_model()
    frame = by_round(model, ["dissolution"], rounds=2, absorbing=ABSORBING, samples=1500, seed=1)
    exact = _exact(model, 2, "dissolution")
    got = frame.p.to_numpy().reshape(2, -1)
    se = frame.std_error.to_numpy().reshape(2, -1)
    assert np.all(np.abs(got - exact) <= 4 * se + 1e-9)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"evidence": {"trust": "high"}}, r"changes from round to round; say which round, e\.g\. trust@1=high"),
        ({"evidence": {"legal_agreements@2": "present"}}, r"the same in every round; drop '@2'"),
        ({"evidence": {"trust@9": "high"}}, r"round 9 is past the last round \(3\)"),
        ({"evidence": {"trust@x": "high"}}, r"expected NODE@ROUND"),
        ({"evidence": {"trst@1": "high"}}, r"unknown node 'trst'; did you mean 'trust'"),
        ({"evidence": {"trust@1": "hi"}}, r"unknown state 'hi' for trust"),
        ({"evidence": {"trust@1": "high"}, "do": {"trust": "low"}}, r"'trust@1' is both observed"),
        ({"rounds": 0}, r"rounds: expected a whole number from 1"),
    ],
)
def test_bad_round_findings(toy, kwargs, message):
    kwargs = {"rounds": 3, **kwargs}
    with pytest.raises(bc.BayesCMOError, match=message):
        by_round(toy, "trust", **kwargs)


def test_survival_curves_per_context_state(tmp_path):
    import shutil

    from bayes_cmo.inference.survival import survival, survival_curves
    from bayes_cmo.plots.rounds import plot_survival_curves

    folder = tmp_path / "loop"
    shutil.copytree(TOY_LOOP, folder)
    (folder / "headline.yaml").write_text("headline:\n  absorbing: {node: dissolution, state: dissolved}\n")
    model = bc.load_model(folder)
    curves = survival_curves(model, 3, context="legal_agreements")
    assert len(curves.curve.unique()) == 2 and set(curves.context_state) == {"absent", "present"}
    for state, part in curves.groupby("context_state"):
        one = survival(model, 3, evidence={"legal_agreements": state})
        np.testing.assert_allclose(part.p_intact, one.p_intact, atol=1e-12)
        np.testing.assert_allclose(part.p_intact, 1 - _exact(model, 3, "dissolution", {"legal_agreements": state})[:, 1], atol=1e-12)
    present, absent = (curves[curves.context_state == s].p_intact.to_numpy() for s in ("present", "absent"))
    assert (present > absent).all()  # legal agreements -> trust -> less dissolution, every round
    with pytest.raises(bc.BayesCMOError, match=r"unknown scenario 'nope'"):
        survival_curves(model, 3, scenarios=["nope"])
    fig = plot_survival_curves(curves, unit="one toy cycle")
    assert "one round = one toy cycle" in fig.axes[0].get_xlabel()
