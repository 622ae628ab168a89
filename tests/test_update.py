"""Updating priors with case data: E-step, M-step, EM, refinement, priors folder, CLI."""

from __future__ import annotations

import hashlib
import itertools
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bayes_cmo import BayesCMOError, build_model, load_model, load_theory
from bayes_cmo.update.cases import AllBlankColumnWarning, case_findings, read_cases
from bayes_cmo.cli import main
from bayes_cmo.update.write import write_priors
from bayes_cmo.update.refinement import compare_models, data_conflict, refine, verdict
from bayes_cmo.update.simulate import set_link_weight, simulate_cases
from bayes_cmo.update.em import expected_counts, update_priors

from conftest import TOY
LINK = "legal_agreements:initial_trust"


@pytest.fixture()
def table_theory(tmp_path):
    """The toy theory with an explicit table for synergy."""
    folder = tmp_path / "priors"
    shutil.copytree(TOY, folder)
    (folder / "tables").mkdir()
    (folder / "tables" / "synergy.csv").write_text("initial_trust,inertia,synergy\nlow,0.7,0.3\nhigh,0.2,0.8\n")
    return load_theory(folder)


def brute_force_counts(net, findings):
    variables = net.variables
    out = {v: np.zeros(net.cpts[v].shape) for v in variables}
    for case in findings:
        joint = {}
        for combo in itertools.product(*(range(len(net.states[v])) for v in variables)):
            x = dict(zip(variables, combo))
            if any(net.states[k].index(s) != x[k] for k, s in case.items()):
                continue
            joint[combo] = np.prod([net.cpts[v][(x[v], *(x[p] for p in net.parents[v]))] for v in variables])
        total = sum(joint.values())
        for combo, p in joint.items():
            x = dict(zip(variables, combo))
            for v in variables:
                out[v][(x[v], *(x[p] for p in net.parents[v]))] += p / total
    return out


# ---------------------------------------------------------------------------
# E-step


def test_expected_counts_equal_brute_force_with_blanks(toy_model):
    cases = read_cases(simulate_cases(toy_model, 9, missing=0.45, seed=3), toy_model)
    counts = expected_counts(toy_model, cases)
    truth = brute_force_counts(toy_model.network, case_findings(cases))
    for v in toy_model.variables:
        np.testing.assert_allclose(counts[v], truth[v], atol=1e-12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mask=st.lists(st.lists(st.booleans(), min_size=4, max_size=4), min_size=1, max_size=12), seed=st.integers(0, 10_000))
def test_expected_counts_sum_to_cases_for_any_blank_pattern(toy_model, mask, seed):
    warnings.simplefilter("ignore", AllBlankColumnWarning)  # all-blank columns are allowed here
    frame = simulate_cases(toy_model, len(mask), seed=seed)
    nodes = list(toy_model.variables)
    frame[nodes] = frame[nodes].where(~np.array(mask), None)
    counts = expected_counts(toy_model, frame)
    for v in nodes:
        assert counts[v].sum() == pytest.approx(len(mask), abs=1e-9)
        assert (counts[v] >= -1e-12).all()


# ---------------------------------------------------------------------------
# complete data = counting


def test_complete_data_root_and_table_are_hand_counts(table_theory):
    toy_model = build_model(table_theory)
    rows = [
        ("absent", "no", "low", "inertia"),
        ("absent", "yes", "low", "inertia"),
        ("present", "no", "high", "synergy"),
        ("present", "no", "high", "synergy"),
        ("present", "yes", "high", "inertia"),
        ("absent", "no", "high", "synergy"),
        ("absent", "no", "low", "synergy"),
    ]
    frame = pd.DataFrame(rows, columns=["legal_agreements", "mandated", "initial_trust", "synergy"])
    frame.insert(0, "case_id", [f"c{i}" for i in range(len(rows))])
    result = update_priors(toy_model, frame)
    # root: Dirichlet(10 * (0.6, 0.4)) + counts (4 absent, 3 present)
    legal = result.model.network.cpts["legal_agreements"]
    np.testing.assert_allclose(legal, [(6 + 4) / 17, (4 + 3) / 17], atol=1e-12)
    # mandated: baseline yes 0.25 -> alpha (7.5, 2.5) + counts (5 no, 2 yes)
    np.testing.assert_allclose(result.model.network.cpts["mandated"], [(7.5 + 5) / 17, (2.5 + 2) / 17], atol=1e-12)
    # table synergy | initial_trust: low (3 cases: 2 inertia, 1 synergy), high (4: 1 inertia, 3 synergy)
    syn = result.model.network.cpts["synergy"]
    np.testing.assert_allclose(syn[:, 0], [(7 + 2) / 13, (3 + 1) / 13], atol=1e-12)
    np.testing.assert_allclose(syn[:, 1], [(2 + 1) / 14, (8 + 3) / 14], atol=1e-12)
    # one E-step suffices: complete data has nothing to infer
    np.testing.assert_allclose(result.counts["synergy"], [[2, 1], [1, 3]], atol=1e-12)
    assert result.iterations <= 2


def test_zero_cases_change_nothing(toy_model, toy_theory):
    empty = pd.DataFrame({"case_id": pd.Series([], dtype=object), "synergy": pd.Series([], dtype=object)})
    result = update_priors(toy_model, empty)
    for v in toy_model.variables:
        np.testing.assert_allclose(result.model.network.cpts[v], toy_model.network.cpts[v], atol=1e-9)
    np.testing.assert_allclose(result.links["posterior_weight"], result.links["prior_weight"], atol=1e-9)
    np.testing.assert_allclose(result.links["posterior_sd"], result.links["prior_sd"], rtol=1e-5)
    assert set(refine(result)["verdict"]) == {"no information"}


def test_shuffling_cases_changes_nothing(toy_model):
    frame = simulate_cases(toy_model, 60, missing=0.3, seed=11)
    a = update_priors(toy_model, frame)
    b = update_priors(toy_model, frame.sample(frac=1.0, random_state=3).reset_index(drop=True))
    for v in toy_model.variables:
        np.testing.assert_allclose(a.model.network.cpts[v], b.model.network.cpts[v], atol=1e-9)
    np.testing.assert_allclose(a.links["posterior_sd"], b.links["posterior_sd"], atol=1e-7)


def test_em_log_posterior_never_decreases(toy_model):
    result = update_priors(toy_model, simulate_cases(toy_model, 80, missing=0.5, seed=2))
    trace = np.array(result.trace)
    assert result.converged and len(trace) >= 2
    assert (np.diff(trace) >= -1e-8).all()


def _max_cpt_distance(a, b):
    return max(float(np.abs(a.network.cpts[v] - b.network.cpts[v]).max()) for v in a.variables)


def test_recovery_moves_toward_truth_as_cases_grow(toy_theory, toy_model):
    true_theory = set_link_weight(toy_theory, LINK, 4.0)  # elicited 2.0 (sd 0.4)
    truth = build_model(true_theory)
    weights, distances = [], []
    for n in (20, 200, 2000):
        result = update_priors(toy_model, simulate_cases(truth, n, missing=0.3, seed=7))
        weights.append(float(result.links.set_index("link").loc[LINK, "posterior_weight"]))
        distances.append(_max_cpt_distance(result.model, truth))
    assert 2.0 < weights[0] < weights[1] < weights[2] < 4.6
    assert distances[0] > distances[1] > distances[2]
    assert weights[2] > 3.0  # the N(2, 0.4) prior still pulls a little at 2,000 cases


@pytest.mark.slow  # ~1 min per EM on the re-encoded shipped theory (no parent cap); see benchmarks/prior_weight.py
def test_recovery_on_default_priors_names_the_strengthened_link():
    toy_theory = load_theory()
    truth = build_model(set_link_weight(toy_theory, LINK, 3.0))
    result = update_priors(build_model(toy_theory), simulate_cases(truth, 200, missing=0.3, seed=1))
    table = refine(result).set_index("link")
    assert table.loc[LINK, "posterior_weight"] > toy_theory.link(LINK).weight
    assert table.loc[LINK, "interval_verdict"] == "strengthened"
    # the FDR verdict needs more than this one run's 0.64 (see tests/test_verdicts.py); the direction is right
    assert table.loc[LINK, "p_stronger"] > 0.5 > table.loc[LINK, "p_weaker"]


# ---------------------------------------------------------------------------
# refinement


@pytest.mark.parametrize(
    "prior, low, high, informed, expected",
    [
        (1.0, 1.2, 2.0, True, "strengthened"),
        (1.0, 0.1, 0.8, True, "weakened"),
        (1.0, -1.0, -0.1, True, "reversed"),
        (1.0, 0.5, 1.5, True, "consistent"),
        (-1.0, -2.0, -1.2, True, "strengthened"),
        (-1.0, -0.8, -0.1, True, "weakened"),
        (-1.0, 0.2, 1.0, True, "reversed"),
        (0.0, 0.2, 1.0, True, "strengthened"),
        (1.0, 1.2, 2.0, False, "no information"),
    ],
)
def test_verdicts(prior, low, high, informed, expected):
    assert verdict(prior, low, high, informed) == expected


def test_no_information_when_no_case_observed_both_ends(toy_model, toy_theory):
    truth = build_model(set_link_weight(toy_theory, LINK, 4.0))
    frame = simulate_cases(truth, 300, seed=4)
    frame.loc[: 149, "legal_agreements"] = None
    frame.loc[150:, "initial_trust"] = None
    table = refine(update_priors(toy_model, frame)).set_index("link")
    assert table.loc[LINK, "n_both"] == 0 and table.loc[LINK, "verdict"] == "no information"
    assert table.loc["initial_trust:synergy", "verdict"] != "no information"


def test_reversed_link_is_reported(toy_model, toy_theory):
    truth = build_model(set_link_weight(toy_theory, LINK, -3.0))
    table = refine(update_priors(toy_model, simulate_cases(truth, 600, seed=8))).set_index("link")
    assert table.loc[LINK, "verdict"] == "reversed"
    assert table.loc[LINK, "p_same_sign"] < 0.05


def test_data_conflict_matches_definition(toy_model):
    frame = pd.DataFrame(
        {"case_id": ["fits", "odd", "one"], "legal_agreements": ["present", "present", "absent"],
         "initial_trust": ["high", "low", None], "synergy": ["synergy", "synergy", None]}
    )
    table = data_conflict(toy_model, frame).set_index("case_id")
    net = toy_model.network
    for case, row in frame.set_index("case_id").iterrows():
        findings = {k: v for k, v in row.items() if pd.notna(v)}
        joint = sum(
            p for combo, p in _joint_table(net).items()
            if all(net.states[k].index(s) == combo[net.variables.index(k)] for k, s in findings.items())
        )
        separate = sum(np.log(sum(p for combo, p in _joint_table(net).items() if combo[net.variables.index(k)] == net.states[k].index(s))) for k, s in findings.items())
        expected = separate - np.log(joint) if len(findings) >= 2 else 0.0
        assert table.loc[case, "conflict"] == pytest.approx(expected, abs=1e-10)
    assert table.loc["odd", "conflict"] > 0 > table.loc["fits", "conflict"]
    assert table.loc["one", "conflict"] == 0.0


def _joint_table(net):
    out = {}
    for combo in itertools.product(*(range(len(net.states[v])) for v in net.variables)):
        x = dict(zip(net.variables, combo))
        out[combo] = np.prod([net.cpts[v][(x[v], *(x[p] for p in net.parents[v]))] for v in net.variables])
    return out


def test_compare_models_headline_and_targets(toy_model, toy_theory):
    other = build_model(set_link_weight(toy_theory, "initial_trust:synergy", 0.0))
    table = compare_models(toy_model, other)
    assert list(table["target"]) == ["synergy", "synergy"]  # toy has no dissolution
    assert table["difference"].iloc[0] == pytest.approx(table["b"].iloc[0] - table["a"].iloc[0])
    assert table["b"].iloc[1] == pytest.approx(0.0, abs=1e-12)  # no path from legal to synergy any more
    with pytest.raises(BayesCMOError, match="did you mean 'synergy'"):
        compare_models(toy_model, other, targets=["synergyy"])


# ---------------------------------------------------------------------------
# priors folder and CLI


def _hashes(*paths):
    out = {}
    for path in paths:
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        out.update({str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in files})
    return out


def test_written_folder_loads_and_reproduces_the_update(tmp_path, toy_model, table_theory):
    for m in (toy_model, build_model(table_theory)):
        result = update_priors(m, simulate_cases(m, 50, missing=0.3, seed=1))
        out = write_priors(result, tmp_path / f"v2_{len(m.theory.tables)}")
        again = load_model(out)
        assert _max_cpt_distance(again, result.model) < 1e-4
        links = yaml.safe_load((out / "links.yaml").read_text())["links"]
        tables = set(m.theory.tables)
        assert all(("weight_sd" in entry) == (entry["to"] not in tables) for entry in links)
    with pytest.raises(BayesCMOError, match="input priors folder"):
        write_priors(result, table_theory.path, force=True)


def test_cli_round_trip_files_untouched_force_and_provenance(tmp_path, capsys):
    priors = tmp_path / "priors"
    shutil.copytree(TOY, priors)
    cases = tmp_path / "cases.csv"
    assert main(["simulate", "--model", str(priors), "--n", "150", "--missing", "0.2", "--seed", "1",
                 "--out", str(cases), "--set-link", f"{LINK}=4"]) == 0
    before = _hashes(priors, cases)
    out = tmp_path / "v2"
    # posterior P(stronger by > 0.5) is 0.85 here: flagged at --fdr 0.2, not at the default 0.1
    code = main(["update", str(cases), "--model", str(priors), "--out", str(out), "--quiet", "--fdr", "0.2",
                 "--report", str(tmp_path / "links.csv"), "--plot", str(tmp_path / "forest.png")])
    text = capsys.readouterr().out
    assert code == 0 and "strengthened" in text and LINK in text
    assert _hashes(priors, cases) == before
    assert (tmp_path / "forest.png").stat().st_size > 0
    provenance = yaml.safe_load((out / "provenance.yaml").read_text())
    assert provenance["cases"]["count"] == 150
    assert provenance["cases"]["sha256"] == hashlib.sha256(cases.read_bytes()).hexdigest()
    assert provenance["priors"]["sha256"]["links.yaml"] == hashlib.sha256((priors / "links.yaml").read_bytes()).hexdigest()
    assert set(provenance["priors"]["sha256"]) == {"nodes.yaml", "links.yaml", "claims.yaml", "scenarios.yaml", "headline.yaml"}
    assert provenance["iterations"] >= 1 and provenance["converged"] is True and "expectation-maximisation" in provenance["method"]
    assert {"created", "created_by"} <= set(provenance)
    assert (out / "claims.yaml").read_bytes() == (priors / "claims.yaml").read_bytes()

    # refuses to overwrite; --force replaces atomically
    written = _hashes(out)
    assert main(["update", str(cases), "--model", str(priors), "--out", str(out), "--quiet"]) == 2
    assert "already exists" in capsys.readouterr().err and _hashes(out) == written
    assert main(["update", str(cases), "--model", str(priors), "--out", str(out), "--quiet", "--force", "--max-iter", "1"]) == 0
    assert yaml.safe_load((out / "provenance.yaml").read_text())["iterations"] == 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".v2.")]  # no temp folders left

    # the new folder is a model; compare shows the shift
    assert main(["compare", str(priors), str(out)]) == 0
    assert "synergy" in capsys.readouterr().out
    assert main(["query", "--model", str(out), "--target", "synergy"]) == 0


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("case_id,legal_agreement\nA,present\n", "did you mean 'legal_agreements'"),
        ("case_id,legal_agreements\nA,presnt\n", "did you mean 'present'"),
        ("case_id,synergy\nA,synergy\nA,inertia\n", "duplicate case id"),
        ("not,a\x00csv", "row"),
    ],
)
def test_cli_bad_input_exit_2_one_line(tmp_path, capsys, content, fragment):
    cases = tmp_path / "cases.csv"
    cases.write_text(content)
    code = main(["update", str(cases), "--model", str(TOY), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert err.startswith("bayes-cmo update: error:")
    assert not (tmp_path / "out").exists()


def test_cli_all_blank_column_warns(tmp_path, capsys):
    cases = tmp_path / "cases.csv"
    cases.write_text("case_id,mandated,synergy\nA,,synergy\nB,,inertia\n")
    assert main(["update", str(cases), "--model", str(TOY), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    assert "warning:" in capsys.readouterr().err


def test_cli_simulate_bad_link_and_network_file(tmp_path, capsys):
    code = main(["simulate", "--model", str(TOY), "--n", "3", "--out", str(tmp_path / "c.csv"), "--set-link", "legal:trust=2"])
    assert code == 2 and "unknown link" in capsys.readouterr().err


def test_verdict_of_a_failed_interval_is_undetermined():
    from bayes_cmo.update.refinement import verdict

    assert verdict(1.0, float("nan"), float("nan")) == "undetermined"
    assert verdict(1.0, 1.2, 2.0) == "strengthened"
    assert verdict(1.0, 0.2, 0.8) == "weakened"
    assert verdict(1.0, -2.0, -0.5) == "reversed"
    assert verdict(1.0, 0.5, 1.5) == "consistent"
    assert verdict(-1.0, -2.0, -1.2) == "strengthened"
    assert verdict(1.0, 0.5, 1.5, informed=False) == "no information"


def test_batched_e_step_equals_one_batch(toy_model, monkeypatch):
    """Cases going through the E-step in batches (as 100,000 cases must) give the same update as one batch."""
    from bayes_cmo.update import em

    cases = simulate_cases(toy_model, 60, missing=0.3, seed=5)
    whole = update_priors(toy_model, cases)
    cells = sum(c.size for c in toy_model.network.cpts.values())
    monkeypatch.setattr(em, "ESTEP_BUDGET_BYTES", 7 * 8 * em._ARRAYS_PER_CELL * cells)
    assert em._EStep(toy_model, read_cases(cases, toy_model)).batch_size == 7  # 9 batches, the last one short
    batched = update_priors(toy_model, cases)
    assert batched.iterations == whole.iterations
    np.testing.assert_allclose(batched.trace, whole.trace, rtol=1e-12)
    for node, counts in whole.counts.items():
        np.testing.assert_allclose(batched.counts[node], counts, atol=1e-10)
    for column in ("posterior_weight", "posterior_sd"):
        np.testing.assert_allclose(batched.links[column], whole.links[column], atol=1e-9)


def test_e_step_batches_fit_the_budget_for_100000_cases(default_model):
    """100,000 cases on the shipped priors need several batches, each within the E-step's memory budget."""
    from bayes_cmo.update import em

    cells = sum(c.size for c in default_model.network.cpts.values())
    frame = pd.DataFrame({"case_id": [f"c{i}" for i in range(100_000)]})
    estep = em._EStep(default_model, read_cases(frame, default_model))
    batches = estep.batches()
    assert len(batches) > 1 and batches[-1].stop == 100_000
    assert estep.batch_size * cells * 8 * em._ARRAYS_PER_CELL <= em.ESTEP_BUDGET_BYTES
    assert sum(b.stop - b.start for b in batches) == 100_000
