"""The shipped programme theory as the paper says it: restored links, paths, the reference
partnership, the evidence audit and the confidence scale."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import bayes_cmo as bc
from bayes_cmo import BayesCMOError
from bayes_cmo.cli import main
from bayes_cmo.inference.whatif import mean_score, posterior
from bayes_cmo.network.elicitation import build_cpts, draw_parameters, elicited_parameters
from bayes_cmo.theory import scales
from bayes_cmo.theory.lint import count_evidence, lint_links, prior_cases, unexplained

PAPER = Path("/work/shared/paper/000_6928d31e97453c0f.txt")

#: Links the six-parent cap had routed away (or that were missing), restored same-round.
RESTORED = (
    "communication:trust",
    "coordination:conflict",
    "organisational_flexibility:trust",
    "power_imbalance:conflict",
    "regulatory_environment:initial_trust",
    "local_collaboration_history:initial_trust",
    "partner_reputation:initial_trust",
    "individualist_interests:conflict",
    "decision_ownership_dispute:conflict",
    "ongoing_evaluation:conflict",
    "geographical_proximity:task_achievement",
    "stakeholder_involvement:shared_vision",
    "entry_point:prior_collaboration",
    "entry_point:combative_leadership",
    "size_asymmetry:power_imbalance",
)


@pytest.fixture(scope="module")
def theory():
    return bc.load_theory()


@pytest.fixture(scope="module")
def model(theory):
    return bc.build_model(theory)


def _poles(theory, link):
    """The source states with the lowest and highest score (nominal parents: by score)."""
    scores = np.asarray(link.scores)
    states = theory.nodes[link.source].states
    return states[int(np.argmin(scores))], states[int(np.argmax(scores))]


@pytest.mark.parametrize("link_id", RESTORED)
def test_restored_links_have_the_papers_sign_in_exact_inference(theory, model, link_id):
    link = theory.link(link_id)
    low, high = _poles(theory, link)
    p_high = posterior(model, link.target, do={link.source: high})[link.target]
    p_low = posterior(model, link.target, do={link.source: low})[link.target]
    change = float(mean_score(p_high) - mean_score(p_low))
    assert np.sign(change) == link.sign, f"{link_id}: do({link.source}) moves {link.target} by {change:+.4f}"
    assert abs(change) > 1e-3


@pytest.mark.parametrize(
    "source, target, sign",
    [
        ("geographical_proximity", "trust", +1),  # through communication, no culture given
        ("information_exchange", "conflict", -1),  # through coordination, same round
        ("initial_trust", "ambition", +1),  # the level rises with trust ...
        ("initial_trust", "overambition", -1),  # ... but the misfit falls
    ],
)
def test_same_round_effects_the_issue_found_missing(model, source, target, sign):
    states = model.states(source)
    change = float(
        mean_score(posterior(model, target, do={source: states[-1]})[target])
        - mean_score(posterior(model, target, do={source: states[0]})[target])
    )
    assert np.sign(change) == sign and abs(change) > 0.01


def test_no_cited_same_round_outcome_is_reached_only_through_a_lagged_link(theory):
    graph = theory.graph()  # lag-0 links only
    checked = 0
    for link in theory.dag_links:
        for outcome in link.citation.get("outcome") or []:
            assert outcome in theory.nodes, f"{link.id}: citation.outcome names unknown node {outcome}"
            assert outcome == link.target or nx.has_path(graph, link.target, outcome), (
                f"{link.id}: the paper describes a same-round effect on {outcome}, but no lag-0 path reaches it"
            )
            checked += 1
    assert checked > 60


def test_reference_reproduces_every_baseline_in_point_values_and_draws(theory):
    reference_nodes = [n for n in theory.nodes if theory.parents(n) and n not in theory.tables]
    assert reference_nodes and all(theory.reference_index(n) is not None for n in reference_nodes)
    cpts = build_cpts(theory, elicited_parameters(theory))
    for node in reference_nodes:
        at = cpts[node][(slice(None), *theory.reference_index(node))]
        np.testing.assert_allclose(at, theory.nodes[node].baseline, rtol=0, atol=1e-9, err_msg=node)
    params = draw_parameters(theory, 5, seed=2)
    drawn = build_cpts(theory, params)
    for node in reference_nodes:
        at = drawn[node][(slice(None), slice(None), *theory.reference_index(node))]
        np.testing.assert_allclose(at, params.baselines[node], rtol=0, atol=1e-9, err_msg=node)


def test_a_node_with_a_parent_lacking_a_reference_state_keeps_the_midpoint(theory):
    import dataclasses

    partial = dict(theory.reference)
    del partial["legal_agreements"]
    other = dataclasses.replace(theory, reference=partial)
    assert other.reference_index("accountability") is None  # its only parent lost its state
    cpt = build_cpts(other)["accountability"]
    # binary parent scored -0.5 / +0.5: the baseline's log-odds sit halfway between the two rows
    logit = np.log(cpt[1] / cpt[0])
    base = theory.nodes["accountability"].baseline
    assert logit.mean() == pytest.approx(np.log(base[1] / base[0]), abs=1e-9)


def test_an_update_with_no_cases_keeps_the_reference_baselines(theory, model):
    import pandas as pd

    empty = pd.DataFrame({"case_id": pd.Series([], dtype=str)})
    empty.attrs.update(rows={}, source="none")
    result = bc.update_priors(model, empty)
    for node in theory.nodes:
        np.testing.assert_allclose(result.theory.nodes[node].baseline, theory.nodes[node].baseline, atol=1e-9)


def test_reference_is_validated(tmp_path):
    folder = tmp_path / "p"
    shutil.copytree(bc.default_priors_path(), folder)
    (folder / "reference.yaml").write_text("reference:\n  legal_agreements: maybe\n", encoding="utf-8")
    with pytest.raises(BayesCMOError, match=r"reference.yaml: reference.legal_agreements: unknown state 'maybe'"):
        bc.load_theory(folder)


# ---------------------------------------------------------------- evidence audit


def test_shipped_links_are_lint_clean(theory):
    lint = lint_links(theory)
    assert len(lint) > 0  # departures exist, each with its reason
    assert unexplained(lint).empty, unexplained(lint).to_string()


def test_counting_studies_from_the_sentence():
    assert count_evidence("the concept of partnership synergy (12,13,42–47), which was") == (8, 0)
    assert count_evidence("the larger one may dominate (31).") == (0, 1)
    assert count_evidence("Murray et al., (2018) suggest that (43,47,51) and (33)") == (4, 1)
    assert count_evidence("Round, Ashworth, Crilly, Ferlie, and Wolfe (2018, 300) mention") == (1, 0)
    assert count_evidence("(figure 3) (table 3)") == (0, 0)


def test_check_lists_a_departure_without_a_rule_exception(tmp_path, capsys):
    folder = tmp_path / "p"
    shutil.copytree(bc.default_priors_path(), folder)
    links = folder / "links.yaml"
    text = links.read_text(encoding="utf-8")
    marker = "  - from: legal_agreements\n    to: initial_trust\n    sign: \"+\"\n    strength: moderate\n    confidence: medium"
    assert marker in text
    links.write_text(text.replace(marker, marker.replace("confidence: medium", "confidence: high")), encoding="utf-8")
    assert main(["check", "--model", str(folder)]) == 1
    out = capsys.readouterr()
    assert "legal_agreements:initial_trust" in out.out and "confidence" in out.out
    assert "1 departure(s)" in out.err
    text = links.read_text(encoding="utf-8")
    links.write_text(
        text.replace("confidence: high\n    evidence: {studies: 4", "confidence: high\n    rule_exception: test reason\n    evidence: {studies: 4"),
        encoding="utf-8",
    )
    assert main(["check", "--model", str(folder)]) == 0


@pytest.mark.skipif(not PAPER.exists(), reason="the paper is not on this machine")
def test_every_citation_is_an_exact_sentence_of_the_paper(theory):
    def norm(text: str) -> str:
        text = text.replace("à", "->").replace("\ufffd", "#")
        for ligature in ("ffi", "ffl", "fi", "fl", "ff"):
            text = text.replace(ligature, "#")
        text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
        return " ".join(text.split())

    paper = norm(re.sub(r"-\n\s*", "-", PAPER.read_text(encoding="utf-8")))
    for link in theory.links:
        if str(link.citation.get("section", "")).startswith("Table 3"):
            continue  # a Table 3 row, its cells joined by '->'
        for sentence in [link.citation["cmo"], *(link.citation.get("support") or [])]:
            assert norm(sentence) in paper, f"{link.id}: not a sentence of the paper: {sentence[:80]}"


# ---------------------------------------------------------------- confidence scale


def test_cases_scale_makes_each_confidence_worth_its_cases():
    for word, ess in scales.CONFIDENCE_ESS.items():
        sd = scales.CONFIDENCE_SD_CASES[word]
        assert scales.cases_worth(sd, scales.REFERENCE_CASE_INFORMATION) == pytest.approx(ess)
    assert scales.CONFIDENCE_SD_CASES["medium"] == pytest.approx(1 / np.sqrt(10 / 16))


def test_shipped_priors_use_the_cases_scale_and_are_worth_tens_not_hundreds_of_cases(theory):
    assert theory.confidence_scale == "cases"
    worth = [prior_cases(theory, link) for link in theory.dag_links]
    assert np.median(worth) < 30
    table = bc.link_table(theory).set_index("link")
    assert table.loc["legal_agreements:initial_trust", "prior_cases"] == pytest.approx(
        prior_cases(theory, theory.link("legal_agreements:initial_trust"))
    )


def test_a_links_file_naming_no_scale_keeps_the_v01_numbers(tmp_path):
    folder = tmp_path / "p"
    shutil.copytree(bc.default_priors_path(), folder)
    links = folder / "links.yaml"
    links.write_text(links.read_text(encoding="utf-8").replace("confidence_scale: cases\n", ""), encoding="utf-8")
    old = bc.load_theory(folder)
    assert old.confidence_scale == "v0.1"
    assert old.link("legal_agreements:initial_trust").weight_sd == 0.4
    links.write_text("confidence_scale: big\n" + links.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(BayesCMOError, match="confidence_scale must be one of cases, v0.1"):
        bc.load_theory(folder)
