"""Claims across rounds (NODE@ROUND, measure: hazard): loaded, checked through the time view, against exact inference."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import bayes_cmo as bc
from bayes_cmo.engine import core as engine
from bayes_cmo.inference.loop import absorbing_network
from bayes_cmo.inference.rounds import round_name, unroll

TOY_LOOP = Path(__file__).parent / "data" / "toy_loop"
HEADLINE = "headline:\n  absorbing: {node: dissolution, state: dissolved}\n"
CLAIMS = """
claims:
  - id: achievement_builds_trust
    statement: Task achievement in round 1 raises trust in round 2.
    compare: {task_achievement@1: high}
    against: {task_achievement@1: low}
    target: trust@2
    expect: increase
  - id: trust_observed_in_round_2
    statement: Observed high trust in round 2 means fewer dissolutions by round 3.
    compare: {trust@2: high}
    against: {trust@2: low}
    given: {legal_agreements: present}
    target: dissolution@3
    expect: decrease
    mode: observe
  - id: rate_falls
    statement: The per-round dissolution rate falls from round 2 to round 4.
    compare: {round: 4}
    against: {round: 2}
    target: dissolution
    measure: hazard
    expect: decrease
"""


def _folder(tmp_path, claims=CLAIMS):
    folder = tmp_path / "loop"
    shutil.copytree(TOY_LOOP, folder)
    (folder / "headline.yaml").write_text(HEADLINE)
    (folder / "claims.yaml").write_text(claims)
    return folder


def _exact(model, rounds, target_round, target, evidence=None, do=None):
    net = absorbing_network(unroll(model.theory, rounds, model.parameters).network, "dissolution", "dissolved", rounds)
    net = engine.intervene(net, do) if do else net
    return engine.query(net, [round_name(target, target_round)], [evidence] if evidence else None)[0]


def test_round_claims_are_loaded(tmp_path):
    theory = bc.load_theory(_folder(tmp_path))
    first, _, hazard = theory.claims
    assert first.target == "trust" and first.target_round == 2 and dict(first.compare) == {"task_achievement@1": "high"}
    assert first.over_rounds and hazard.measure == "hazard" and dict(hazard.compare) == {"round": "4"}


def test_round_claims_match_exact_inference(tmp_path):
    model = bc.load_model(_folder(tmp_path))
    table = bc.check_claims(model).set_index("claim")
    score = lambda p: p @ np.linspace(0, 1, len(p))
    hi = score(_exact(model, 2, 2, "trust", do={"task_achievement_r1": "high"}))
    lo = score(_exact(model, 2, 2, "trust", do={"task_achievement_r1": "low"}))
    assert table.loc["achievement_builds_trust", "target"] == "trust@2"
    assert table.loc["achievement_builds_trust", "difference"] == pytest.approx(hi - lo, abs=1e-12)
    ev = lambda s: {"trust_r2": s, "legal_agreements": "present"}
    hi = _exact(model, 3, 3, "dissolution", ev("high"))[1]
    lo = _exact(model, 3, 3, "dissolution", ev("low"))[1]
    assert table.loc["trust_observed_in_round_2", "difference"] == pytest.approx(hi - lo, abs=1e-12)
    intact = np.array([1.0] + [1 - _exact(model, 4, r, "dissolution")[1] for r in range(1, 5)])
    hazard = 1 - intact[1:] / intact[:-1]
    assert table.loc["rate_falls", "score_compare"] == pytest.approx(hazard[3], abs=1e-12)
    assert table.loc["rate_falls", "score_against"] == pytest.approx(hazard[1], abs=1e-12)
    assert table["holds"].all()


@pytest.mark.parametrize(
    "claims, message",
    [
        (CLAIMS.replace("trust@2\n", "trust@x\n"), r"'trust@x': expected NODE@ROUND"),
        (CLAIMS.replace("{round: 4}", "{round: 0}"), r"a hazard claim compares rounds; expected \{round: N\}"),
        (CLAIMS.replace("measure: hazard", "measure: hazzard"), r"measure must be 'mean' or 'hazard'.*did you mean 'hazard'"),
        (CLAIMS.replace("{task_achievement@1: high}", "{task_achievment@1: high}"), r"unknown node 'task_achievment'"),
    ],
)
def test_bad_round_claims(tmp_path, claims, message):
    with pytest.raises(bc.BayesCMOError, match=message):
        bc.load_theory(_folder(tmp_path, claims))


def test_a_round_on_a_context_names_the_claim(tmp_path):
    claims = CLAIMS.replace("given: {legal_agreements: present}", "given: {legal_agreements@2: present}")
    with pytest.raises(bc.BayesCMOError, match=r"claim 'trust_observed_in_round_2': .*the same in every round; drop '@2'"):
        bc.check_claims(bc.load_model(_folder(tmp_path, claims)))


def test_trust_erodes_in_a_mandated_destructive_partnership(default_model):
    # "as trust gradually reduces it may reach a threshold": at the reference partnership made mandated
    # and destructive (every context fixed, so exact), trust falls round on round and the dissolution rate
    # averaged over all partnerships rises -- while the rate among those still intact falls (survivor
    # selection on persistent trust), which is why the "rate rises" claim is not shipped (claims.yaml).
    from bayes_cmo.inference.loop import by_round

    theory = default_model.theory
    given = {n: s for n, s in theory.reference.items() if theory.nodes[n].role == "context"}
    given.update(entry_point="policy_directive", constructive_conflict_resolution="destructive")
    both = by_round(default_model, ["trust", "dissolution"], rounds=4, evidence=given)
    assert (both.method == "exact").all()
    low = both[(both.target == "trust") & (both.state == "low")].p.to_numpy()
    rate = both[(both.target == "dissolution") & (both.state == "dissolved")].p.to_numpy()
    assert np.all(np.diff(low) > 0) and low[-1] - low[0] > 0.03
    assert np.all(np.diff(rate) > 0)
    ended = by_round(default_model, "dissolution", rounds=4, evidence=given, absorbing=("dissolution", "dissolved"))
    intact = np.concatenate([[1.0], 1 - ended[ended.state == "dissolved"].p.to_numpy()])
    hazard = 1 - intact[1:] / intact[:-1]
    np.testing.assert_allclose(hazard[0], rate[0], atol=1e-12)  # round 1: nothing to select yet
    assert np.all(np.diff(hazard) < 0)
