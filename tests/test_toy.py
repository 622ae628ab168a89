"""Hand-computed probabilities on the four-node toy theory (tests/data/toy).

legal_agreements (P(present)=0.4) and mandated (P(yes)=0.25, "uncertain")
-> initial_trust (baseline 50/50; +2.0 from legal, -1.0 from mandated, scores
-0.5/+0.5) -> synergy (baseline 50/50; +2.0 from trust).
With a binary child and a 50/50 baseline, P(high | parents) = expit(eta).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from bayes_cmo import BayesCMOError, ZeroProbabilityEvidence, build_cpts, posterior, what_if
from bayes_cmo.inference.whatif import mean_score

# P(initial_trust = high | legal, mandated): eta = 2.0 * s_legal - 1.0 * s_mandated
T_PRESENT_NO = expit(2.0 * 0.5 - 1.0 * -0.5)  # expit(1.5)
T_PRESENT_YES = expit(2.0 * 0.5 - 1.0 * 0.5)  # expit(0.5)
T_ABSENT_NO = expit(-1.0 + 0.5)  # expit(-0.5)
T_ABSENT_YES = expit(-1.0 - 0.5)  # expit(-1.5)
S_HIGH, S_LOW = expit(1.0), expit(-1.0)  # P(synergy | trust high / low)


def test_baselines_and_anchor_words(toy_theory):
    assert toy_theory.nodes["mandated"].baseline == pytest.approx((0.75, 0.25))  # "uncertain" = 0.25
    assert toy_theory.nodes["legal_agreements"].baseline == pytest.approx((0.6, 0.4))  # one state omitted
    assert toy_theory.nodes["mandated"].states == ("no", "yes")  # not YAML booleans


def test_cpt_entries_are_the_ordered_logit(toy_theory):
    cpt = build_cpts(toy_theory)["initial_trust"]  # (trust, legal, mandated)
    assert cpt[1, 1, 0] == pytest.approx(T_PRESENT_NO, abs=1e-12)
    assert cpt[1, 1, 1] == pytest.approx(T_PRESENT_YES, abs=1e-12)
    assert cpt[1, 0, 0] == pytest.approx(T_ABSENT_NO, abs=1e-12)
    assert cpt[1, 0, 1] == pytest.approx(T_ABSENT_YES, abs=1e-12)
    np.testing.assert_allclose(cpt.sum(axis=0), 1.0)


def test_marginal_of_synergy_by_hand(toy_model):
    p_trust = 0.6 * (0.75 * T_ABSENT_NO + 0.25 * T_ABSENT_YES) + 0.4 * (0.75 * T_PRESENT_NO + 0.25 * T_PRESENT_YES)
    p_syn = p_trust * S_HIGH + (1 - p_trust) * S_LOW
    got = posterior(toy_model, "synergy")["synergy"]
    assert got[1] == pytest.approx(p_syn, abs=1e-12)


def test_legal_agreements_query_by_hand(toy_model):
    p_trust = 0.75 * T_PRESENT_NO + 0.25 * T_PRESENT_YES
    table = what_if(toy_model, ["synergy", "initial_trust"], evidence={"legal_agreements": "present"})
    got = table.set_index(["target", "state"])["p"]
    assert got["initial_trust", "high"] == pytest.approx(p_trust, abs=1e-12)
    assert got["synergy", "synergy"] == pytest.approx(p_trust * S_HIGH + (1 - p_trust) * S_LOW, abs=1e-12)
    assert list(table.columns) == ["target", "state", "p", "estimate"]


def test_diagnostic_reasoning_by_hand(toy_model):
    # P(legal = present | synergy = synergy) by Bayes' rule.
    def p_syn(p_trust):
        return p_trust * S_HIGH + (1 - p_trust) * S_LOW

    joint_present = 0.4 * p_syn(0.75 * T_PRESENT_NO + 0.25 * T_PRESENT_YES)
    joint_absent = 0.6 * p_syn(0.75 * T_ABSENT_NO + 0.25 * T_ABSENT_YES)
    got = posterior(toy_model, "legal_agreements", {"synergy": "synergy"})["legal_agreements"]
    assert got[1] == pytest.approx(joint_present / (joint_present + joint_absent), abs=1e-12)


def test_do_cuts_the_parents(toy_model):
    # do(initial_trust=high): synergy follows, legal_agreements keeps its prior.
    got = posterior(toy_model, ["synergy", "legal_agreements"], do={"initial_trust": "high"})
    assert got["synergy"][1] == pytest.approx(S_HIGH, abs=1e-12)
    assert got["legal_agreements"][1] == pytest.approx(0.4, abs=1e-12)
    observed = posterior(toy_model, "legal_agreements", {"initial_trust": "high"})["legal_agreements"]
    assert observed[1] > 0.5  # conditioning, unlike doing, moves the cause


def test_mean_score():
    assert mean_score(np.array([0.2, 0.3, 0.5])) == pytest.approx(0.3 * 0.5 + 0.5)
    assert mean_score(np.array([0.25, 0.75])) == pytest.approx(0.75)


def test_draws_give_intervals_around_the_point(toy_model):
    drawn = toy_model.with_draws(400, seed=3)
    table = what_if(drawn, "synergy", evidence={"legal_agreements": "present"}).set_index("state")
    point = what_if(toy_model, "synergy", evidence={"legal_agreements": "present"}).set_index("state")
    row = table.loc["synergy"]
    assert row["ci_low"] < point.loc["synergy", "p"] < row["ci_high"]
    assert 0.0 < row["ci_low"] < row["p"] < row["ci_high"] < 1.0
    again = what_if(toy_model.with_draws(400, seed=3), "synergy", evidence={"legal_agreements": "present"})
    assert again.equals(table.reset_index()[again.columns])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"evidence": {"legal_agreement": "present"}}, "did you mean 'legal_agreements'"),
        ({"evidence": {"legal_agreements": "presnt"}}, "did you mean 'present'"),
        ({"evidence": {"synergy": "synergy"}}, "target 'synergy' is fixed by the background"),
        ({"evidence": {"mandated": "yes"}, "do": {"mandated": "no"}}, "both observed"),
    ],
)
def test_bad_queries_are_one_line_errors(toy_model, kwargs, message):
    with pytest.raises(BayesCMOError, match=message) as info:
        what_if(toy_model, "synergy", **kwargs)
    assert "\n" not in str(info.value)


def test_impossible_evidence_names_the_findings(toy_theory, tmp_path):
    import shutil

    from bayes_cmo import load_model

    folder = tmp_path / "toy"
    shutil.copytree(toy_theory.path, folder)
    text = (folder / "nodes.yaml").read_text().replace("baseline: {yes: uncertain}", "baseline: {yes: impossible}")
    (folder / "nodes.yaml").write_text(text)
    model = load_model(folder)
    # "impossible" is kept at 1e-6, so the evidence is improbable but possible...
    assert posterior(model, "synergy", {"mandated": "yes"})["synergy"].sum() == pytest.approx(1.0)
    # ...whereas an explicit zero in a table makes it truly impossible.
    (folder / "tables").mkdir()
    (folder / "tables" / "synergy.csv").write_text("initial_trust,inertia,synergy\nlow,1,0\nhigh,1,0\n")
    model = load_model(folder)
    with pytest.raises(ZeroProbabilityEvidence, match="synergy"):
        posterior(model, "legal_agreements", {"synergy": "synergy"})


def test_impossible_findings_name_the_conflicting_pair(toy_copy):
    from bayes_cmo import load_model

    (toy_copy / "tables").mkdir()
    # Low initial trust never gives synergy; high trust does half the time.
    (toy_copy / "tables" / "synergy.csv").write_text("initial_trust,inertia,synergy\nlow,1,0\nhigh,0.5,0.5\n")
    model = load_model(toy_copy)
    evidence = {"legal_agreements": "present", "synergy": "synergy", "initial_trust": "low"}
    with pytest.raises(ZeroProbabilityEvidence, match="initial_trust=low, synergy=synergy cannot occur together"):
        posterior(model, "mandated", evidence)
    # Each finding alone, and any other pair, is possible.
    assert posterior(model, "mandated", {"legal_agreements": "present", "synergy": "synergy"})["mandated"].sum() == pytest.approx(1)


@pytest.mark.parametrize("level", [0.0, 1.5, 90, True])
def test_what_if_checks_level_without_draws(toy_model, level):
    from bayes_cmo import BayesCMOError, what_if

    with pytest.raises(BayesCMOError, match="level: expected a number between 0 and 1"):
        what_if(toy_model, "synergy", level=level)
