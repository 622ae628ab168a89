"""Expert elicitation: questionnaires, pooling rules (hand-computed), round trips, one-line errors, the CLI."""

from __future__ import annotations

import io
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

import bayes_cmo as bc
from bayes_cmo.cli import main
from bayes_cmo.elicit import (
    check_questionnaire,
    dirichlet_pool,
    disagreement,
    feedback_frames,
    link_questions,
    baseline_questions,
    pool_experts,
    read_questionnaire,
    template_frames,
    write_feedback,
    write_pooled,
    write_template,
)
from bayes_cmo.elicit.sheets import about_frame, write_questionnaire
from bayes_cmo.theory import scales

EXAMPLES = Path(__file__).parents[1] / "analysis" / "experts"

MODERATED_LINKS = """
links:
  - from: legal_agreements
    to: initial_trust
    sign: "+"
    strength: strong
    confidence: medium
    citation: {section: toy, cmo: "Legal agreements -> greater initial trust"}
  - from: mandated
    to: initial_trust
    sign: "-"
    strength: moderate
    confidence: low
  - from: initial_trust
    to: synergy
    sign: "+"
    strength: strong
    confidence: high
    moderator: {node: mandated, multipliers: {"no": 1.0, "yes": -0.5}}
"""


@pytest.fixture()
def modtoy(tmp_path, toy_path):
    """The toy theory with one moderated link (mandated flips initial_trust -> synergy)."""
    folder = tmp_path / "modtoy"
    shutil.copytree(toy_path, folder)
    (folder / "links.yaml").write_text(MODERATED_LINKS)
    (folder / "claims.yaml").unlink()
    return bc.load_theory(folder)


def fill(theory, links=None, baselines=None, default=("raises", "moderate", "medium")):
    """Frames for a questionnaire: links[id] = (direction, strength, confidence); baselines[node] = ({state: p}, conf)."""
    frames = template_frames(theory)
    for i, qid in enumerate(frames["links"]["id"]):
        direction, strength, confidence = (links or {}).get(qid, default)
        frames["links"].loc[i, ["direction", "strength", "confidence"]] = [direction, strength or "", confidence or ""]
    for i, qid in enumerate(frames["baselines"]["id"]):
        node, state = qid.split("=")
        given, confidence = (baselines or {}).get(node, ({}, "medium"))
        n = theory.nodes[node]
        p = given.get(state, 1.0 / n.card) if given else 1.0 / n.card
        frames["baselines"].loc[i, ["probability", "confidence"]] = [p if state in given or not given else "", confidence]
    return frames


def write(path, theory, expert, **kwargs):
    return write_questionnaire(Path(path), about_frame(expert, str(theory.path)), fill(theory, **kwargs))


# ----------------------------------------------------------------------------- questions


def test_questions_cover_every_link_and_moderator_state(modtoy):
    ids = [q.id for q in link_questions(modtoy)]
    assert ids == [
        "legal_agreements:initial_trust", "mandated:initial_trust",
        "initial_trust:synergy@mandated=no", "initial_trust:synergy@mandated=yes",
    ]
    by_id = {q.id: q for q in link_questions(modtoy)}
    assert by_id["legal_agreements:initial_trust"].statement == (
        "Moving legal agreements from absent to present raises initial trust (towards high)"
    )
    assert "lowers synergy (towards inertia)" in by_id["initial_trust:synergy@mandated=yes"].statement
    assert by_id["legal_agreements:initial_trust"].citation == 'toy — "Legal agreements -> greater initial trust"'
    assert [q.id for q in baseline_questions(modtoy)][:2] == ["legal_agreements=absent", "legal_agreements=present"]


def test_baseline_question_uses_a_reference_case_when_the_theory_has_one(modtoy):
    import dataclasses

    class WithReference:  # the priors may soon carry a reference case; the wording follows it
        def __init__(self, theory, reference):
            self._t, self.reference = theory, reference

        def __getattr__(self, name):
            return getattr(self._t, name)

    plain = {q.id: q.question for q in baseline_questions(modtoy)}
    assert plain["initial_trust=high"].startswith("If every influence on it sat halfway between its poles")
    ref = {q.id: q.question for q in baseline_questions(WithReference(modtoy, {"legal_agreements": "absent", "mandated": "no"}))}
    assert ref["initial_trust=high"] == (
        "In the reference partnership (legal agreements absent, mandated partnering no), how likely is initial trust to be high?"
    )
    assert dataclasses.is_dataclass(modtoy)


# ----------------------------------------------------------------------------- pooling rules


def test_one_expert_pools_to_exactly_that_experts_numbers(modtoy, tmp_path):
    path = write(
        tmp_path / "a.xlsx", modtoy, "A",
        links={
            "legal_agreements:initial_trust": ("lowers", "strong", "high"),
            "mandated:initial_trust": ("no effect", None, "low"),
            "initial_trust:synergy@mandated=no": ("raises", 1.5, "medium"),
            "initial_trust:synergy@mandated=yes": ("lowers", "weak", "medium"),
        },
        baselines={"legal_agreements": ({"present": 0.3}, "high"), "synergy": ({"inertia": 0.6, "synergy": 0.4}, "low")},
    )
    pooled = pool_experts([path], modtoy)
    links = {link.id: link for link in pooled.theory.links}
    assert links["legal_agreements:initial_trust"].weight == -2.0
    assert links["legal_agreements:initial_trust"].weight_sd == scales.CONFIDENCE_SD["high"]
    assert links["mandated:initial_trust"].weight == 0.0
    assert links["mandated:initial_trust"].weight_sd == scales.CONFIDENCE_SD["low"]
    moderated = links["initial_trust:synergy"]
    effects = np.array(moderated.multipliers) * moderated.weight
    np.testing.assert_allclose(effects, [1.5, -0.5], atol=1e-12)  # each moderator state as the expert said
    assert moderated.weight_sd == scales.CONFIDENCE_SD["medium"]
    nodes = pooled.theory.nodes
    np.testing.assert_allclose(nodes["legal_agreements"].baseline, [0.7, 0.3], atol=1e-12)
    assert nodes["legal_agreements"].baseline_confidence == pytest.approx(scales.CONFIDENCE_ESS["high"], abs=1e-9)
    np.testing.assert_allclose(nodes["synergy"].baseline, [0.6, 0.4], atol=1e-12)
    assert nodes["synergy"].baseline_confidence == pytest.approx(scales.CONFIDENCE_ESS["low"], abs=1e-9)

    out = write_pooled(pooled, tmp_path / "pooled")
    loaded = bc.load_theory(out)
    for link in loaded.links:
        mine = links[link.id]
        assert link.weight == pytest.approx(mine.weight, abs=1e-4) and link.weight_sd == pytest.approx(mine.weight_sd, abs=1e-4)
        if link.moderator:
            np.testing.assert_allclose(link.multipliers, mine.multipliers, atol=1e-6)
    for node in loaded.nodes.values():
        np.testing.assert_allclose(node.baseline, nodes[node.id].baseline, atol=1e-6)
        assert node.baseline_confidence == pytest.approx(nodes[node.id].baseline_confidence, abs=1e-6)
    provenance = bc._files.read_yaml(out / "provenance.yaml")
    assert provenance["experts"][0]["name"] == "A"
    assert provenance["experts"][0]["sha256"] == bc._files.file_sha256(path)
    assert provenance["experts"][0]["modified"].startswith("20")
    assert "Pooled from 1 expert" in (out / "links.yaml").read_text()


def test_identical_experts_pool_to_one(modtoy, tmp_path):
    kwargs = dict(links={"legal_agreements:initial_trust": ("raises", "very strong", "low")},
                  baselines={"initial_trust": ({"low": 0.2, "high": 0.8}, "medium")})
    one = pool_experts([write(tmp_path / "a.csv", modtoy, "A", **kwargs)], modtoy).theory
    three = pool_experts([write(tmp_path / f"{n}.csv", modtoy, n, **kwargs) for n in "BCD"], modtoy).theory
    for a, b in zip(one.links, three.links, strict=True):
        assert (a.weight, a.weight_sd) == pytest.approx((b.weight, b.weight_sd), abs=1e-12)
        assert a.multipliers == pytest.approx(b.multipliers, abs=1e-12) if a.moderator else b.multipliers is None
    for node in one.nodes:
        np.testing.assert_allclose(one.nodes[node].baseline, three.nodes[node].baseline, atol=1e-12)
        assert one.nodes[node].baseline_confidence == pytest.approx(three.nodes[node].baseline_confidence, abs=1e-9)


def test_opposite_signs_pool_to_a_wide_centred_link(modtoy, tmp_path):
    a = write(tmp_path / "a.csv", modtoy, "A", links={"legal_agreements:initial_trust": ("raises", "strong", "high")})
    b = write(tmp_path / "b.csv", modtoy, "B", links={"legal_agreements:initial_trust": ("lowers", "strong", "high")})
    pooled = pool_experts([a, b], modtoy)
    link = pooled.theory.link("legal_agreements:initial_trust")
    assert link.weight == 0.0
    # within 0.25^2, between 2^2: sd = sqrt(0.0625 + 4), wider than either expert's 0.25
    assert link.weight_sd == pytest.approx(math.sqrt(0.0625 + 4.0), abs=1e-12)
    report = disagreement(pooled)
    top = report.iloc[0]
    assert (top["id"], bool(top["sign_disagreement"]), top["rank"]) == ("legal_agreements:initial_trust", True, 1)
    assert top["disagreement"] == pytest.approx(4.0 / 4.0625)
    assert (top["A"], top["B"], top["low"], top["high"]) == (2.0, -2.0, -2.0, 2.0)


def test_weighted_experts_and_dont_know(modtoy, tmp_path):
    a = write(tmp_path / "a.csv", modtoy, "A", links={"legal_agreements:initial_trust": ("raises", "strong", "medium")})
    b = write(tmp_path / "b.csv", modtoy, "B", links={"legal_agreements:initial_trust": ("don't know", None, None)})
    c = write(tmp_path / "c.csv", modtoy, "C", links={"legal_agreements:initial_trust": ("raises", "weak", "medium")})
    # B abstains; A weighs 3 to C's 1: mean 0.75*2 + 0.25*0.5, variance 0.16 + 0.75*0.25*1.5^2
    weights = tmp_path / "weights.csv"
    weights.write_text("expert,weight\nA,3\nB,1\nC,1\n")
    link = pool_experts([a, b, c], modtoy, weights=weights).theory.link("legal_agreements:initial_trust")
    assert link.weight == pytest.approx(0.75 * 2 + 0.25 * 0.5)
    assert link.weight_sd == pytest.approx(math.sqrt(0.16 + 0.75 * 0.25 * 1.5**2))
    weights.write_text("expert,weight\nA,1\nb,1\nC,1\n")
    with pytest.raises(bc.BayesCMOError, match=r"weights.csv: row 3, column expert: no questionnaire from 'b' \(experts: A, B, C\); did you mean 'B'"):
        pool_experts([a, b, c], modtoy, weights=weights)


def test_baseline_disagreement_lowers_the_equivalent_sample_size(modtoy, tmp_path):
    a = write(tmp_path / "a.csv", modtoy, "A", baselines={"legal_agreements": ({"present": 0.2}, "medium")})
    b = write(tmp_path / "b.csv", modtoy, "B", baselines={"legal_agreements": ({"present": 0.8}, "medium")})
    node = pool_experts([a, b], modtoy).theory.nodes["legal_agreements"]
    np.testing.assert_allclose(node.baseline, [0.5, 0.5])
    # per state: within 0.16/11, between 0.09; n + 1 = (2 * 0.25) / (2 * (0.16/11 + 0.09))
    assert node.baseline_confidence == pytest.approx(0.5 / (2 * (0.16 / 11 + 0.09)) - 1)
    assert node.baseline_confidence < scales.CONFIDENCE_ESS["medium"]
    mean, n, _ = dirichlet_pool(np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([10.0, 10.0]), np.ones(2))
    assert n == bc.elicit.MIN_ESS  # opposite corners: no information left, floored


# ----------------------------------------------------------------------------- files


def test_xlsx_written_and_read_back_loses_nothing(default_theory, tmp_path):
    path = write_template(default_theory, tmp_path / "a.xlsx", expert="A. Smith", prefill=True)
    q = read_questionnaire(path, default_theory)
    assert q.expert == "A. Smith" and q.round == 1
    for question in link_questions(default_theory):
        weight = question.link.weight * question.multiplier
        assert q.links[question.id].mean == pytest.approx(weight, abs=1e-4), question.id
        assert q.links[question.id].confidence == question.link.confidence
    for node in default_theory.nodes.values():
        np.testing.assert_allclose(q.baselines[node.id].probabilities, node.baseline, atol=1e-4)
    csv = write_template(default_theory, tmp_path / "a.csv", expert="A. Smith", prefill=True)
    q2 = read_questionnaire(csv, default_theory)
    assert q2.links == q.links.__class__({k: v.__class__(**{**vars(v), "row": q2.links[k].row}) for k, v in q.links.items()})
    for node in default_theory.nodes:
        np.testing.assert_allclose(q2.baselines[node].probabilities, q.baselines[node].probabilities, atol=1e-12)


def test_xlsx_has_drop_downs_instructions_and_frozen_header(modtoy, tmp_path):
    path = write_template(modtoy, tmp_path / "t.xlsx", expert="A")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["instructions", "links", "baselines"]
    links = book["links"]
    assert [c.value for c in links[1]] == ["id", "statement", "citation", "direction", "strength", "confidence", "comment"]
    assert links.freeze_panes == "B2"
    rules = {str(r.sqref): r.formula1 for r in links.data_validations.dataValidation}
    assert rules == {"D2:D5": "\"raises,lowers,no effect,don't know\"", "E2:E5": '"weak,moderate,strong,very strong"',
                     "F2:F5": '"very low,low,medium,high"'}
    base = {str(r.sqref): r.formula1 for r in book["baselines"].data_validations.dataValidation}
    assert base["C2:C9"].startswith('"certain,probable,expected,fifty-fifty')
    assert links.column_dimensions["B"].width >= 50
    assert links["C2"].value == 'toy — "Legal agreements -> greater initial trust"'


def test_reads_a_workbook_made_directly_with_openpyxl(modtoy, tmp_path):
    """An outside reference: not our writer; capitalised sheet names, typed numbers, a percent, no instructions sheet."""
    book = openpyxl.Workbook()
    links = book.active
    links.title = "Links"
    links.append(["ID", "Direction", "Strength", "Confidence", "my notes"])
    links.append(["legal_agreements:initial_trust", "Raises", 2.5, "Very Low", "x"])
    links.append(["mandated:initial_trust", "no effect", None, "high", None])
    links.append(["initial_trust:synergy@mandated=no", "raises", "very strong", "medium", None])
    links.append(["initial_trust:synergy@mandated=yes", "lowers", "weak", "medium", None])
    base = book.create_sheet("Baselines")
    base.append(["id", "probability", "confidence"])
    for row in [("legal_agreements=absent", "fifty-fifty", "low"), ("legal_agreements=present", None, None),
                ("mandated=no", "75%", "high"), ("mandated=yes", 0.25, None),
                ("initial_trust=low", 0.5, "low"), ("initial_trust=high", 0.5, None),
                ("synergy=inertia", "probable", "very low"), ("synergy=synergy", "improbable", None)]:
        base.append(list(row))
    path = tmp_path / "outside.xlsx"
    book.save(path)
    q = read_questionnaire(path, modtoy)
    assert q.expert == "outside"  # no name given: the file's
    assert q.links["legal_agreements:initial_trust"].mean == 2.5
    assert q.links["legal_agreements:initial_trust"].sd == 1.0
    assert q.links["initial_trust:synergy@mandated=no"].mean == 3.0
    assert q.links["mandated:initial_trust"].mean == 0.0
    assert q.baselines["legal_agreements"].probabilities == (0.5, 0.5)
    assert q.baselines["mandated"].probabilities == pytest.approx((0.75, 0.25))
    assert q.baselines["synergy"].probabilities == pytest.approx((0.85, 0.15))
    assert q.baselines["mandated"].confidence == "high"


ROW = {  # spreadsheet row of each question in the modtoy template (header = row 1)
    "legal_agreements:initial_trust": 2, "mandated:initial_trust": 3,
    "legal_agreements=absent": 2, "legal_agreements=present": 3, "initial_trust=low": 6,
}

BAD = [
    # (sheet, id, column, value, expected message after "sheet S, row R, column C: ")
    ("links", "legal_agreements:initial_trust", "strength", "strnog",
     "unknown strength 'strnog' (expected weak, moderate, strong, very strong or a number of log-odds); did you mean 'strong'?"),
    ("links", "legal_agreements:initial_trust", "confidence", "hihg",
     "unknown confidence 'hihg' (expected very low, low, medium, high); did you mean 'high'?"),
    ("links", "legal_agreements:initial_trust", "direction", "rises",
     "unknown direction 'rises' (expected raises, lowers, no effect, don't know); did you mean 'raises'?"),
    ("links", "legal_agreements:initial_trust", "direction", "",
     "blank; expected raises, lowers, no effect or don't know"),
    ("links", "legal_agreements:initial_trust", "strength", "",
     "blank; expected weak, moderate, strong, very strong or a number of log-odds"),
    ("links", "legal_agreements:initial_trust", "confidence", "",
     "blank; expected very low, low, medium, high"),
    ("links", "legal_agreements:initial_trust", "strength", "-1",
     "strength must be a number >= 0 (the direction says raises or lowers), got -1"),
    ("links", "legal_agreements:initial_trust", "id", "legal_agreement:initial_trust",
     "unknown question id 'legal_agreement:initial_trust' (not a question of these priors); did you mean 'legal_agreements:initial_trust'?"),
    ("links", "mandated:initial_trust", "id", "legal_agreements:initial_trust",
     "'legal_agreements:initial_trust' is answered twice (also on row 2)"),
    ("baselines", "legal_agreements=absent", "probability", "1.5", "probability must be from 0 to 1, got 1.5"),
    ("baselines", "legal_agreements=absent", "probability", "probabel",
     "unknown probability 'probabel' (expected a number from 0 to 1 or one of certain, probable, expected, fifty-fifty, "
     "uncertain, improbable, impossible); did you mean 'probable'?"),
    ("baselines", "legal_agreements=absent", "confidence", "meduim",
     "unknown confidence 'meduim' (expected very low, low, medium, high); did you mean 'medium'?"),
]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
@pytest.mark.parametrize("sheet, qid, column, value, expected", BAD, ids=[f"{b[0]}-{b[2]}-{b[3] or 'blank'}" for b in BAD])
def test_every_bad_cell_is_one_line_naming_sheet_row_and_column(modtoy, tmp_path, suffix, sheet, qid, column, value, expected):
    frames = fill(modtoy, links={"mandated:initial_trust": ("lowers", "weak", "low")})
    frame = frames[sheet]
    frame.loc[frame["id"] == qid, column] = value
    path = write_questionnaire(tmp_path / f"bad{suffix}", about_frame("A", ""), frames)
    problems = check_questionnaire(path, modtoy)
    kind = "sheet" if suffix == ".xlsx" else "section"
    # the CSV holds 4 about rows, then the links, then the baselines
    row = ROW[qid] if suffix == ".xlsx" else ROW[qid] + 4 + (len(frames["links"]) if sheet == "baselines" else 0)
    if suffix == ".csv":
        expected = expected.replace("(also on row 2)", "(also on row 6)")
    wanted = f"{path}: {kind} {sheet}, row {row}, column {column}: {expected}"
    assert wanted in problems, problems
    assert all("\n" not in p for p in problems)
    with pytest.raises(bc.BayesCMOError) as error:
        read_questionnaire(path, modtoy)
    assert "\n" not in str(error.value)


NODE_BAD = [
    ({"legal_agreements=absent": 0.3, "legal_agreements=present": 0.3},
     "rows 2, 3 (legal_agreements), column probability: the states sum to 0.6, expected 1 (or leave one blank to take the rest)"),
    ({"initial_trust=low": "", "initial_trust=high": ""},
     "rows 6, 7 (initial_trust), column probability: blank for every state; give a probability for each (one may stay blank) or write don't know"),
    ({"legal_agreements=absent": 0.8, "legal_agreements=present": "fifty-fifty"},
     "rows 2, 3 (legal_agreements), column probability: the states sum to 1.3, expected 1 (or leave one blank to take the rest)"),
    ({"legal_agreements=absent": "don't know", "legal_agreements=present": 0.5},
     "rows 2, 3 (legal_agreements), column probability: mixes don't know with numbers; write don't know on every state or on none"),
]


@pytest.mark.parametrize("cells, expected", NODE_BAD)
def test_baselines_of_a_node_must_sum_to_one(modtoy, tmp_path, cells, expected):
    frames = fill(modtoy)
    for qid, value in cells.items():
        frames["baselines"].loc[frames["baselines"]["id"] == qid, "probability"] = value
    path = write_questionnaire(tmp_path / "bad.xlsx", about_frame("A", ""), frames)
    assert f"{path}: sheet baselines, {expected}" in check_questionnaire(path, modtoy)


def test_one_blank_state_takes_the_rest_and_all_problems_come_at_once(modtoy, tmp_path):
    frames = fill(modtoy, baselines={"mandated": ({"yes": 0.1}, "low")})
    path = write_questionnaire(tmp_path / "ok.xlsx", about_frame("A", ""), frames)
    assert read_questionnaire(path, modtoy).baselines["mandated"].probabilities == pytest.approx((0.9, 0.1))
    frames["links"].loc[0, "strength"] = "huge"
    frames["links"].loc[1, "confidence"] = "sure"
    frames["baselines"] = frames["baselines"].iloc[:-2]  # synergy's rows removed: questions without a row
    path = write_questionnaire(tmp_path / "bad.xlsx", about_frame("A", ""), frames)
    problems = check_questionnaire(path, modtoy)
    assert len(problems) == 3
    assert problems[-1] == f"{path}: sheet baselines, column id: no row for question(s) synergy=inertia, synergy=synergy"


def test_missing_sheet_and_column_are_named(modtoy, tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "link"
    book.active.append(["id", "direction"])
    book.create_sheet("baselines").append(["id", "probabilty", "confidence"])
    path = tmp_path / "bad.xlsx"
    book.save(path)
    assert check_questionnaire(path, modtoy) == [
        f"{path}: no sheet 'links' (found link, baselines); did you mean 'link'?",
        f"{path}: sheet baselines, row 1: no column 'probability' (expected columns id, question, probability, "
        "confidence, comment); did you mean 'probabilty'?",
    ]


# ----------------------------------------------------------------------------- report and second round


def test_feedback_shows_the_group_and_reads_back(modtoy, tmp_path):
    files = [
        write(tmp_path / "a.csv", modtoy, "A", links={"legal_agreements:initial_trust": ("raises", "strong", "high")}),
        write(tmp_path / "b.csv", modtoy, "B", links={"legal_agreements:initial_trust": ("lowers", "weak", "low")}),
        write(tmp_path / "c.csv", modtoy, "C", links={"legal_agreements:initial_trust": ("no effect", None, "low")}),
    ]
    pooled = pool_experts(files, modtoy)
    frames = feedback_frames(pooled, "B")
    row = frames["links"].set_index("id").loc["legal_agreements:initial_trust"]
    assert (row["direction"], row["strength"], row["confidence"]) == ("lowers", "weak", "low")
    assert (row["group_median"], row["group_low"], row["group_high"]) == (0.0, -0.5, 2.0)
    assert row["group_says"] == "1 raises, 1 lowers, 1 no effect"
    out = write_feedback(pooled, expert="B", out=tmp_path / "b_round2.xlsx")
    again = read_questionnaire(out, modtoy)
    assert again.expert == "B" and again.round == 2
    assert again.links == {k: v.__class__(**{**vars(v), "row": again.links[k].row}) for k, v in pooled.questionnaires[1].links.items()}
    with pytest.raises(bc.BayesCMOError, match=r"no questionnaire from 'b' \(experts: A, B, C\); did you mean 'B'"):
        feedback_frames(pooled, "b")


def test_cli_pools_the_examples_into_priors_that_check_and_query_accept(tmp_path, capsys, default_theory):
    files = sorted(str(p) for p in EXAMPLES.glob("example_expert_*"))
    assert len(files) == 3
    assert main(["elicit", "check", *files]) == 0
    out = tmp_path / "pooled"
    assert main(["elicit", "pool", *files, "--out", str(out)]) == 0
    capsys.readouterr()
    # check loads and validates the pooled folder, lint clean; the panel's dissent on communication -> conflict
    # between conflicting cultures is real: pooled, that claim no longer holds, and check says so (exit 1, named)
    assert main(["check", "--model", str(out)]) == 1
    said = "".join(capsys.readouterr())
    assert "1 of 69 claims fail: communication_breeds_conflict_between_conflicting_cultures" in said
    assert main(["query", "--model", str(out), "--evidence", "legal_agreements=present", "--target", "synergy", "--json"]) == 0
    assert '"state": "synergy"' in capsys.readouterr().out
    # the report names the contested links first: the two the example experts disagree on in sign
    rows = disagreement(files, default_theory)
    assert rows["sign_disagreement"].iloc[:2].all() and not rows["sign_disagreement"].iloc[2:].any()
    assert set(rows["id"].iloc[:2]) == {"legal_agreements:initial_trust", "communication:conflict@cultural_compatibility=low"}
    assert main(["elicit", "pool", *files, "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip().endswith("already exists; choose another --out or pass --force to replace it")


def test_cli_report_and_feedback(modtoy, tmp_path, capsys):
    model = ["--model", str(modtoy.path)]
    files = [
        str(write(tmp_path / "a.csv", modtoy, "A", links={"legal_agreements:initial_trust": ("raises", "strong", "high")})),
        str(write(tmp_path / "b.xlsx", modtoy, "B", links={"legal_agreements:initial_trust": ("lowers", "weak", "low")})),
    ]
    capsys.readouterr()
    assert main(["elicit", "report", *files, *model, "--out", str(tmp_path / "report"), "--json"]) == 0
    rows = pd.read_json(io.StringIO(capsys.readouterr().out))
    assert rows.loc[0, "id"] == "legal_agreements:initial_trust" and rows.loc[0, "sign_disagreement"]
    assert (rows.loc[0, "A"], rows.loc[0, "B"]) == (2.0, -0.5)
    written = pd.read_csv(tmp_path / "report" / "disagreement.csv")
    assert list(written["id"]) == list(rows["id"])
    assert (tmp_path / "report" / "disagreement.png").stat().st_size > 5_000
    assert len(pd.read_csv(tmp_path / "report" / "answers.csv")) == 2 * (4 + 8)
    second = tmp_path / "b2.xlsx"
    assert main(["elicit", "feedback", *files, *model, "--expert", "B", "--out", str(second)]) == 0
    assert main(["elicit", "check", *model, str(second)]) == 0
    capsys.readouterr()
    assert main(["elicit", "feedback", *files, *model, "--expert", "B", "--out", files[1], "--force"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is the questionnaire of B; write the second round to a new file" in err


def test_cli_check_lists_every_problem(modtoy, tmp_path, capsys):
    frames = fill(modtoy)
    frames["links"].loc[0, "strength"] = "strnog"
    frames["links"].loc[1, "direction"] = ""
    path = write_questionnaire(tmp_path / "bad.csv", about_frame("A", ""), frames)
    assert main(["elicit", "check", "--model", str(modtoy.path), str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and err[-1] == "bayes-cmo elicit check: 2 problem(s)"
    assert "section links, row 6, column strength" in err[0] and "did you mean 'strong'?" in err[0]
    assert main(["elicit", "template", "--model", str(modtoy.path), "--expert", "A", "--out", str(path)]) == 2
    assert main(["elicit", "template", "--model", str(modtoy.path), "--expert", "A", "--out", str(tmp_path / "x.txt")]) == 2
    assert "expected a .xlsx or .csv file name" in capsys.readouterr().err


def test_import_does_not_load_openpyxl_or_seaborn():
    code = "import sys, bayes_cmo; print(sorted(m for m in ('openpyxl', 'seaborn', 'matplotlib', 'pgmpy') if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"


@pytest.mark.slow
def test_analysis_script_pools_the_examples(tmp_path, capsys):
    sys.path.insert(0, str(EXAMPLES.parent))
    try:
        import elicitation
    finally:
        sys.path.pop(0)
    assert elicitation.main(["--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    held, total = map(int, re.search(r"claims that hold under the pooled priors: (\d+) of (\d+)", printed).groups())
    pooled = bc.load_theory(tmp_path / "out" / "priors_pooled")
    assert total == len(bc.load_theory().claims) == len(pooled.claims)  # pooling keeps every shipped claim
    assert held == int(bc.check_claims(bc.build_model(pooled))["holds"].sum())
    assert held >= total - 3  # three fictional panellists disagree on a few links, not on the theory
    assert len(list((tmp_path / "out").glob("round2_expert_*.xlsx"))) == 3


def test_moderated_state_split_by_experts_is_flagged_not_hidden(modtoy, tmp_path, capsys):
    a = write(tmp_path / "a.csv", modtoy, "A", links={"initial_trust:synergy@mandated=yes": ("raises", "strong", "high"),
                                                       "initial_trust:synergy@mandated=no": ("raises", "very strong", "high")})
    b = write(tmp_path / "b.csv", modtoy, "B", links={"initial_trust:synergy@mandated=yes": ("lowers", "strong", "high"),
                                                       "initial_trust:synergy@mandated=no": ("raises", "very strong", "high")})
    pooled = pool_experts([a, b], modtoy)
    link = pooled.theory.link("initial_trust:synergy")
    assert (link.weight, link.multipliers, link.weight_sd) == (3.0, (1.0, 0.0), 0.25)  # 'no' is the reference state
    row = pooled.links.set_index("id").loc["initial_trust:synergy@mandated=yes"]
    assert row["sd"] == pytest.approx(math.sqrt(0.0625 + 4.0)) and row["model_sd"] == 0.0
    assert main(["elicit", "pool", str(a), str(b), "--model", str(modtoy.path), "--out", str(tmp_path / "p")]) == 0
    err = capsys.readouterr().err
    assert "note: initial_trust:synergy@mandated=yes: the pooled sd is 2.02 but the model carries 0.00" in err


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_comments_names_and_numbers_survive_the_round_trip(modtoy, tmp_path, suffix):
    frames = fill(modtoy, links={"legal_agreements:initial_trust": ("raises", 1.75, "very low")},
                  baselines={"legal_agreements": ({"absent": 0.125, "present": 0.875}, "high")})
    frames["links"].loc[0, "comment"] = "Œuvre d'équipe, «contracts» — 3 cases, see p. 12"
    frames["baselines"].loc[1, "comment"] = "=not a formula"
    path = write_questionnaire(tmp_path / f"q{suffix}", about_frame("Dr Ø. Ünal, NHS", ""), frames)
    q = read_questionnaire(path, modtoy)
    assert q.expert == "Dr Ø. Ünal, NHS"
    answer = q.links["legal_agreements:initial_trust"]
    assert (answer.mean, answer.confidence, answer.comment) == (1.75, "very_low", "Œuvre d'équipe, «contracts» — 3 cases, see p. 12")
    assert q.baselines["legal_agreements"].probabilities == (0.125, 0.875)
    assert q.baselines["legal_agreements"].comments == {"present": "=not a formula"}
