"""One validation path: every parameter check has one message shape, in the library and at the CLI."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

import bayes_cmo as bc
from bayes_cmo import BayesCMOError
from bayes_cmo import _validate as check
from bayes_cmo.cli import main
from bayes_cmo.inference import Background


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: check.level(1.5), "level: expected a number between 0 and 1 (exclusive), got 1.5"),
        (lambda: check.level(90), "level: expected a number between 0 and 1 (exclusive), got 90; did you mean 0.9?"),
        (lambda: check.level(True), "level: expected a number between 0 and 1 (exclusive), got True"),
        (lambda: check.level("0.9"), "level: expected a number between 0 and 1 (exclusive), got '0.9'"),
        (lambda: check.level(float("nan")), "level: expected a number between 0 and 1 (exclusive), got nan"),
        (lambda: check.integer(0, "k"), "k: expected a positive integer, got 0"),
        (lambda: check.integer(2.5, "k"), "k: expected a positive integer, got 2.5"),
        (lambda: check.integer(-1, "seed", 0), "seed: expected 0 or a positive integer, got -1"),
        (lambda: check.integer(1, "replicates", 2), "replicates: expected an integer of at least 2, got 1"),
        (lambda: check.integer(60, "rounds", 1, 50), "rounds: expected an integer from 1 to 50, got 60"),
        (lambda: check.fraction(1.0, "missing", one="1 would leave every cell blank"),
         "missing: expected a fraction at least 0 and below 1, got 1 (1 would leave every cell blank)"),
        (lambda: check.fraction(30, "missing"), "missing: expected a fraction at least 0 and below 1, got 30; did you mean 0.3?"),
        (lambda: check.positive(0, "tol"), "tol: expected a positive number, got 0"),
        (lambda: check.choice("sceptic", "prior", ("elicited", "sceptical")),
         "prior: expected one of elicited, sceptical, got 'sceptic'; did you mean 'sceptical'?"),
        (lambda: check.choices(("observe", "observe"), "modes", ("observe", "do")),
         "modes: expected one or more of observe, do, each once, got ['observe', 'observe']"),
        (lambda: check.distinct([], "targets"), "targets: expected at least one node, got []"),
        (lambda: check.figure_path("f.txt"), "--plot: expected a .png, .pdf or .svg file name, got 'f.txt'"),
    ],
)
def test_one_message_shape(call, message):
    with pytest.raises(BayesCMOError) as info:
        call()
    assert str(info.value) == message


def test_good_values_pass_through():
    assert check.level(0.9) == 0.9
    assert check.integer(np.int64(3), "k") == 3
    assert check.fraction(0.0, "missing") == 0.0
    assert check.choices("do", "modes", ("observe", "do")) == ("do",)


def test_the_cli_uses_the_same_words(toy_path, capsys):
    """`--level 2` and `level=2` are refused in the same words."""
    with pytest.raises(BayesCMOError) as info:
        bc.what_if(bc.load_model(toy_path), "synergy", level=2)
    library = str(info.value).removeprefix("level: ")
    assert main(["query", "--model", str(toy_path), "--target", "synergy", "--level", "2"]) == 2
    err = capsys.readouterr().err
    assert f"argument --level: {library}" in err and err.count("\n") == 1
    convert = check.option(check.integer, check.parse_int, minimum=2)
    assert convert("3") == 3
    with pytest.raises(argparse.ArgumentTypeError, match="expected an integer of at least 2, got 1.5"):
        convert("1.5")
    with pytest.raises(argparse.ArgumentTypeError, match="got 'abc'"):
        convert("abc")


def test_background_merges_and_checks_once(toy_model):
    bg = Background.of(toy_model, {"legal_agreements": "absent"}, scenario="enforced")
    assert dict(bg.evidence) == {"mandated": "yes", "legal_agreements": "absent"} and bg.scenario == "enforced"
    with pytest.raises(TypeError):
        bg.evidence["mandated"] = "no"  # read-only
    # A Background is reused as given: every verb accepts one.
    direct = bc.what_if(toy_model, "synergy", evidence={"mandated": "yes", "legal_agreements": "absent"})
    via = bc.what_if(toy_model, "synergy", evidence=bg)
    assert via.equals(direct)
    assert bc.shift(toy_model, "initial_trust", "synergy", evidence=bg).equals(
        bc.shift(toy_model, "initial_trust", "synergy", scenario="enforced", evidence={"legal_agreements": "absent"})
    )
    with pytest.raises(BayesCMOError, match="contradicts scenario 'enforced'"):
        Background.of(toy_model, {"mandated": "no"}, scenario="enforced")
    with pytest.raises(BayesCMOError, match="'mandated' is both observed .evidence. and intervened on .do."):
        Background.of(toy_model, {"mandated": "yes"}, {"mandated": "yes"})
    with pytest.raises(BayesCMOError, match="evidence: unknown state 'maybe' for mandated"):
        Background.of(toy_model, {"mandated": "maybe"})
    with pytest.raises(BayesCMOError, match="give a Background or evidence/do/scenario, not both"):
        Background.of(toy_model, bg, {"mandated": "yes"})


@pytest.mark.parametrize(
    "verb",
    [
        lambda m, **kw: bc.what_if(m, "synergy", **kw),
        lambda m, **kw: bc.shift(m, "legal_agreements", "synergy", **kw),
        lambda m, **kw: bc.sweep(m, "synergy", **kw),
        lambda m, **kw: bc.compare_scenarios(m, "synergy", **kw),
        lambda m, **kw: bc.value_of_information(m, "synergy", **kw),
        lambda m, **kw: bc.best_measurements(m, "synergy", 1, **kw),
        lambda m, **kw: bc.judgement_sensitivity(m, "synergy", **kw),
    ],
)
def test_every_verb_takes_the_same_background_keywords(toy_model, verb):
    """evidence / do / scenario / progress on every query-like verb; an unknown state says so the same way."""
    verb(toy_model, evidence={"mandated": "yes"}, do={}, scenario=None, progress=False)
    with pytest.raises(BayesCMOError, match="do: unknown state 'maybe' for mandated"):
        verb(toy_model, do={"mandated": "maybe"})
