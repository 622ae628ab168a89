"""Cases over rounds (long format, a round column): the lagged links are learnt (two-slice EM), seeded simulation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayes_cmo as bc
from bayes_cmo.engine.sampling import forward_sample
from bayes_cmo.inference.rounds import dynamic_nodes, round_name, unroll
from bayes_cmo.update.over_rounds import has_rounds, two_slice_cases, update_over_rounds
from bayes_cmo.update.simulate import set_link_weight

TOY_LOOP = Path(__file__).parent / "data" / "toy_loop"
LAGGED = "task_achievement:trust@lag1"


def _long_cases(theory, n_cases, rounds, seed):
    """Seeded forward samples of the unrolled network, written one row per case and round."""
    model = unroll(theory, rounds)
    drawn, _ = forward_sample(model.network, n_cases, np.random.default_rng(seed))
    dynamic = dynamic_nodes(theory)
    rows = []
    for i in range(n_cases):
        for r in range(1, rounds + 1):
            row = {"case_id": f"c{i}", "round": r}
            for v in theory.nodes:
                name = round_name(v, r) if v in dynamic else v
                if v in dynamic or r == 1:  # contexts written on the first row only
                    row[v] = theory.nodes[v].states[drawn[name][i]]
            rows.append(row)
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def prior():
    return bc.load_model(TOY_LOOP)


def test_long_format_becomes_round_one_cases_and_pairs(prior):
    cases = _long_cases(prior.theory, 3, 3, seed=0)
    assert has_rounds(cases) and not has_rounds(cases.drop(columns="round"))
    first, pairs = two_slice_cases(prior, cases)
    assert list(first.case_id) == ["c0", "c1", "c2"] and first.legal_agreements.notna().all()
    assert sorted(pairs.case_id) == ["c0@2", "c0@3", "c1@2", "c1@3", "c2@2", "c2@3"]
    row = pairs.set_index("case_id").loc["c1@3"]
    wide = cases.set_index(["case_id", "round"])
    assert row["trust_r1"] == wide.loc[("c1", 2), "trust"] and row["trust_r2"] == wide.loc[("c1", 3), "trust"]
    assert row["mandated"] == wide.loc[("c1", 1), "mandated"]


@pytest.mark.parametrize("true_weight", [3.0, -1.0])
def test_a_lagged_link_is_recovered(prior, true_weight):
    # the prior says +1 (moderate); the truth is much stronger, or of the other sign
    truth = set_link_weight(prior.theory, LAGGED, true_weight)
    cases = _long_cases(truth, 400, 4, seed=11)
    result = update_over_rounds(prior, cases)
    row = result.links.set_index("link").loc[LAGGED]
    prior_w = prior.theory.link(LAGGED).weight
    assert row.updated and row.n_both == 400 * 3
    assert row.prior_weight == pytest.approx(prior_w)
    # moves from the prior most of the way to the truth (seen: 2.72 +/- 0.16 for 3, -0.75 +/- 0.13 for -1;
    # the two-slice approximation and the prior both pull toward the prior), the truth within 3 posterior sd
    assert abs(row.posterior_weight - true_weight) < 0.4 * abs(prior_w - true_weight)
    assert abs(row.posterior_weight - true_weight) < 3 * row.posterior_sd
    assert result.theory.link(LAGGED).weight == pytest.approx(row.posterior_weight)
    # cases over rounds inform the lagged link, so it gets a verdict of its own, in the truth's direction
    verdict = bc.refine(result).set_index("link").loc[LAGGED, "verdict"]
    assert verdict == ("strengthened" if true_weight > prior_w else "reversed")


def test_bad_long_files(prior):
    cases = _long_cases(prior.theory, 2, 2, seed=0)
    with pytest.raises(bc.BayesCMOError, match=r"round 2 twice"):
        two_slice_cases(prior, pd.concat([cases, cases.iloc[[1]]]))
    with pytest.raises(bc.BayesCMOError, match=r"column 'round': expected a whole number from 1"):
        two_slice_cases(prior, cases.assign(round=["1", "x", "1", "2"]))
    clash = cases.copy()
    clash.loc[1, "mandated"] = "yes" if clash.loc[0, "mandated"] == "no" else "no"
    with pytest.raises(bc.BayesCMOError, match=r"case 'c0': mandated is the same in every round"):
        two_slice_cases(prior, clash)


def test_cli_update_reads_a_long_file(prior, tmp_path, capsys):
    from bayes_cmo.cli import main

    truth = set_link_weight(prior.theory, LAGGED, 3.0)
    path = tmp_path / "long.csv"
    _long_cases(truth, 60, 3, seed=2).to_csv(path, index=False)
    assert main(["update", str(path), "--model", str(TOY_LOOP), "--out", str(tmp_path / "new"), "--quiet"]) == 0
    updated = bc.load_theory(tmp_path / "new")
    assert updated.link(LAGGED).weight > prior.theory.link(LAGGED).weight
