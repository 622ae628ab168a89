"""The page's computation (no browser): the numbers it shows are the public functions' numbers."""

from __future__ import annotations

import html

import numpy as np
import pytest

from bayes_cmo import posterior, value_of_information, what_if
import threading

from bayes_cmo.app.state import UNKNOWN, answer, headline_targets, make_page, next_factors, outcome_draws, split_settings, warm
from bayes_cmo.app.svg import link_citation, network_svg


@pytest.fixture(scope="module")
def page(default_model):
    return make_page(default_model, n_draws=60, seed=3, good_direction={"dissolution": "sustained"})


def test_targets_are_the_theory_outcomes_and_controls_its_contexts(page, default_theory):
    assert set(page.targets) >= set(default_theory.by_role("outcome"))
    controls = [n for g in page.groups.values() for n in g]
    assert sorted(controls) == sorted(set(default_theory.by_role("context")) - set(page.targets))
    # grouped under the paper's Table 3 headings (from each node's source), not one flat list
    assert "Trust" in page.groups and "legal_agreements" in page.groups["Trust"]
    assert page.good["dissolution"] == "sustained" and page.good["synergy"] == "synergy"


def test_answer_equals_what_if_on_the_same_draws(page, default_model):
    got = answer(page, {"legal_agreements": "present", "entry_point": UNKNOWN}, voi=False)
    drawn = default_model.with_draws(60, seed=3)
    table = what_if(drawn, list(page.targets), evidence={"legal_agreements": "present"})
    for o in got.outcomes:
        row = table[(table["target"] == o.target) & (table["state"] == page.shown[o.target])].iloc[0]
        assert o.p == pytest.approx(row["p"], abs=1e-12)
        assert (o.p_low, o.p_high) == pytest.approx((row["ci_low"], row["ci_high"]), abs=1e-12)
    # the interval is on the change, per draw: much narrower than the interval on P
    synergy = next(o for o in got.outcomes if o.target == "synergy")
    base = posterior(drawn, "synergy")["synergy"][:, -1]
    now = posterior(drawn, "synergy", {"legal_agreements": "present"})["synergy"][:, -1]
    assert synergy.delta == pytest.approx(float((now - base).mean()), abs=1e-12)
    assert synergy.delta_low == pytest.approx(float(np.quantile(now - base, 0.05)), abs=1e-12)
    assert synergy.delta_high - synergy.delta_low < (synergy.p_high - synergy.p_low) / 3
    assert synergy.delta > 0 and synergy.meaning == "good"
    dissolution = next(o for o in got.outcomes if o.target == "dissolution")
    assert dissolution.delta < 0 and dissolution.meaning == "good"  # down is good for dissolution


def test_do_toggle_and_best_next(page, default_model):
    # a context with causes in the theory: observe and do differ
    settings = {"constructive_conflict_resolution": "constructive"}
    observed = answer(page, settings, {"constructive_conflict_resolution": "observe"}, voi=False)
    done = answer(page, settings, {"constructive_conflict_resolution": "do"}, voi=False)
    assert abs(observed.outcomes[0].p - done.outcomes[0].p) > 1e-4
    assert split_settings({"a": "x", "b": UNKNOWN, "c": "y"}, {"c": "do"}) == ({"a": "x"}, {"c": "y"})
    # a root context gives the same either way
    root = answer(page, {"legal_agreements": "present"}, {"legal_agreements": "do"}, voi=False)
    same = answer(page, {"legal_agreements": "present"}, voi=False)
    assert root.outcomes[0].p == pytest.approx(same.outcomes[0].p, abs=1e-12)
    best = answer(page, {"legal_agreements": "present"}).best_next
    controls = [n for g in page.groups.values() for n in g if n != "legal_agreements"]
    for target, (node, change) in best.items():
        voi = value_of_information(default_model, target, evidence={"legal_agreements": "present"}, candidates=controls)
        assert change == pytest.approx(voi["expected_abs_change"].max(), abs=1e-12)
        assert node == voi.loc[voi["expected_abs_change"].idxmax(), "node"]


def test_one_fixed_plan_gives_posteriors_numbers(page, default_model):
    """Every control as soft evidence (ones = unknown), do() on a caused factor in its cut network: same numbers."""
    drawn = page.drawn
    caused = [n for n in page.controls if n not in page.roots]
    assert "constructive_conflict_resolution" in caused and "legal_agreements" in page.roots
    cases = [
        ({}, {}),
        ({"legal_agreements": "present", "entry_point": "policy_directive"}, {}),
        ({"legal_agreements": "absent"}, {caused[0]: default_model.states(caused[0])[0]}),
        ({}, {caused[0]: default_model.states(caused[0])[-1], caused[1]: default_model.states(caused[1])[0],
              "legal_agreements": "present"}),
    ]
    for evidence, do in cases:
        got = outcome_draws(page, evidence, do)
        want = posterior(drawn, list(page.targets), evidence, do)
        for t in page.targets:
            assert got[t].shape == want[t].shape == (60, len(default_model.states(t)))
            np.testing.assert_allclose(got[t], want[t], atol=1e-12)
    with pytest.raises(Exception, match="both observed"):
        outcome_draws(page, {"legal_agreements": "present"}, {"legal_agreements": "absent"})
    # do() is a point mass in the same network, not a cut one: a new set of interventions compiles no plan
    from bayes_cmo.engine import core

    before = set(core._PLAN_CACHE)
    outcome_draws(page, {"entry_point": "policy_directive"}, {caused[2]: default_model.states(caused[2])[0],
                                                               caused[3]: default_model.states(caused[3])[-1]})
    assert set(core._PLAN_CACHE) == before
    # warming compiles what to measure next's one plan; a second call has nothing left to do
    warm(page)
    assert warm(page) == 0


def test_what_to_measure_next_equals_value_of_information_per_target(page, default_model):
    """One backward pass for every target and candidate on the page = value_of_information one target at a time."""
    caused = [n for n in page.controls if n not in page.roots]
    controls = [n for g in page.groups.values() for n in g]
    settings = [
        ({"entry_point": "policy_directive", caused[1]: default_model.states(caused[1])[0]}, {}),
        ({"legal_agreements": "absent"}, {caused[0]: default_model.states(caused[0])[-1]}),
    ]
    for evidence, do in settings:
        how = {n: "do" for n in do}
        best = next_factors(page, {**evidence, **do}, how)
        assert set(best) == set(page.targets)
        free = [n for n in controls if n not in evidence and n not in do]
        for target, (node, change) in best.items():
            voi = value_of_information(default_model, target, evidence=evidence, do=do, candidates=free)
            assert change == pytest.approx(voi["expected_abs_change"].max(), abs=1e-12)
            assert node == voi.loc[voi["expected_abs_change"].idxmax(), "node"]


def test_what_to_measure_next_gives_way_when_stopped(page):
    stop = threading.Event()
    stop.set()
    assert next_factors(page, {"entry_point": "policy_directive"}, stop=stop) is None
    done = next_factors(page, {"entry_point": "policy_directive"})  # not cached as given up: computed now
    assert set(done) == set(page.targets) and all(change > 0 for _, change in done.values())


def test_impossible_settings_are_a_message_not_a_crash(toy_model):
    page = make_page(toy_model, n_draws=10)
    assert headline_targets(toy_model) == ("synergy",)
    ok = answer(page, {"legal_agreements": "present"})
    assert not ok.error and len(ok.outcomes) == 1


def test_network_svg_has_every_link_with_its_citation(default_theory):
    svg = network_svg(default_theory, {"legal_agreements": "present"})
    assert svg.count('class="arc"') == len(default_theory.links)
    assert svg.count('class="node"') == len(default_theory.nodes)
    link = default_theory.links[0]
    assert html.escape(link_citation(default_theory, link)) in svg
    assert ">Legal agreements</text>" in svg and ">= present</text>" in svg
    assert "http://" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_app_builds(default_model):
    pytest.importorskip("shiny")
    from bayes_cmo.app.page import make_app

    app = make_app(default_model, n_draws=10)
    assert app is not None


def test_serve_slips_are_one_line(capsys):
    from bayes_cmo.cli import main

    assert main(["serve", "--port", "70000"]) == 2
    err = capsys.readouterr().err
    assert "--port must be from 1 to 65535" in err and len(err.strip().splitlines()) == 1
    assert main(["serve", "--draws", "1"]) == 2
    assert "--draws must be at least 2" in capsys.readouterr().err
    assert main(["serve", "--good", "dissolution"]) == 2
    assert "NODE=STATE" in capsys.readouterr().err


def test_point_masses_replace_cpts_as_a_checked_network_does(page):
    """engine.with_cpts checks only the replaced CPTs: same arrays and structure as a network checked whole, a cache of its own."""
    from bayes_cmo import engine
    from bayes_cmo.app import state

    base = state._base(page)
    root = sorted(page.roots & set(page.controls))[0]
    masses = {root: state._point_mass(base, root, 0)}
    fast = engine.with_cpts(base, **masses)
    slow = engine.NetworkArrays(base.variables, base.states, base.parents, {**base.cpts, **masses})
    assert fast._structure == slow._structure and fast.batch_size == slow.batch_size == 60
    assert all(np.array_equal(fast.cpts[v], slow.cpts[v]) for v in base.variables)
    assert fast._cache is not base._cache and not fast._cache
