"""A realist evaluator's slips at the command line: one line on stderr, exit 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bayes_cmo.cli import main

ASIA = str(Path(__file__).parent / "data" / "asia.bif")
from conftest import TOY as TOY_PATH

TOY = str(TOY_PATH)


def run(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:  # --help
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


MISTAKES = [
    # argparse's own mistakes: one line, with a did-you-mean where it is a near miss
    (["export"], r"bayes-cmo export: error: the following arguments are required: --out"),
    (["quer", "--target", "synergy"], r"unknown verb 'quer'; did you mean 'query'\?"),
    (["query", "--targt", "synergy"], r"unknown option '--targt'; did you mean '--target'\?"),
    (["sweep", "--target", "synergy", "--draws", "abc"], r"argument --draws: expected 0 or a positive integer, got 'abc'"),
    (["plan", "vio", "--target", "synergy"], r"unknown verb 'vio'; did you mean 'voi'\?"),
    # numbers out of range
    (["query", "--target", "synergy", "--seed", "-1", "--draws", "2"], r"argument --seed: expected 0 or a positive integer, got -1"),
    (["query", "--target", "synergy", "--level", "1.5"], r"argument --level: expected a number between 0 and 1 \(exclusive\), got 1.5 \(see"),
    (["shift", "-c", "legal_agreements", "-t", "synergy", "--level", "90"], r"got 90; did you mean 0.9\?"),
    (["query", "--target", "synergy", "--draws", "100000000"], r"100,000,000 parameter draws would need about .* GiB"),
    (["rounds", "--rounds", "0"], r"argument --rounds: expected an integer from 1 to 50, got 0"),
    (["rounds", "--samples", "10"], r"argument --samples: expected an integer of at least 100, got 10"),
    (["rounds", "--samples", "1000000000"], r"Monte Carlo samples would need about"),
    (["rounds", "--draws", "500", "--samples", "200"], r"200 samples cannot cover 500 parameter draws"),
    # findings the time view cannot use
    (["rounds", "--evidence", "dissolution=dissolved"], r"'dissolution' is what the round-by-round view estimates"),
    (["rounds", "--evidence", "trust=low", "--do", "trust=high"], r"'trust' is both observed .* and intervened on"),
    (["rounds", "--model", "/nonexistent/priors"], r"/nonexistent/priors: no such priors folder or network file"),
    (["rounds", "--model", ASIA], r"asia.bif: the round-by-round view needs a priors folder"),
    # export targets
    (["export", "--format", "bif", "--out", "{tmp}/cmo.xdsl"], r"cmo.xdsl: the name ends in '.xdsl', which .* read as xdsl, but the format is bif; name it cmo.bif"),
    (["export", "--out", "{tmp}"], r": is a folder; give a file name such as"),
    # output files
    (["links", "--csv", "{tmp}"], r": is a folder; give a file name inside it"),
    (["sweep", "-t", "synergy", "--plot", "{tmp}/f.png", "--heatmap", "{tmp}/f.png"], r"f.png: named by both --plot and --heatmap"),
    (["sweep", "-t", "synergy", "--heatmap", "{tmp}/f.txt"], r"--heatmap: expected a .png, .pdf or .svg file name, got '.*f.txt'"),
    (["scenarios", "-t", "synergy", "-s", "enforced_merger", "-s", "enforced_merger"], r"scenarios: expected each scenario once, got \['enforced_merger', 'enforced_merger'\]"),
    # impossible findings on a network file with zeros (either = tub or lung)
    (["shift", "--model", ASIA, "-c", "tub", "-t", "dysp", "-e", "either=no", "--mode", "do"],
     r"the background \(either=no\) has probability zero under do\(tub=yes\); its shift is undefined$"),
    (["shift", "--model", ASIA, "-c", "tub", "-t", "dysp", "-e", "either=no", "--mode", "observe"],
     r"tub=yes has probability zero together with the background \(either=no\)"),
    (["query", "--model", ASIA, "-t", "dysp", "-e", "either=no,lung=yes"],
     r"the evidence either=no, lung=yes has probability zero under the model; these findings cannot occur together$"),
    (["query", "--model", ASIA, "-t", "dysp", "-e", "either=no,lung=yes,smoke=yes"],
     r"the evidence either=no, lung=yes, smoke=yes has probability zero under the model; either=no, lung=yes cannot"),
    (["query", "--model", ASIA, "-t", "dysp", "-e", "either=no", "--do", "lung=yes"],
     r"the evidence either=no has probability zero under do\(lung=yes\)$"),
]


@pytest.mark.parametrize(("argv", "message"), MISTAKES, ids=[" ".join(a)[:60] for a, _ in MISTAKES])
def test_mistake_is_one_line_exit_2(tmp_path, capsys, argv, message):
    import re

    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    code, _, err = run(argv, capsys)
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert re.search(message, err.strip()), err
    assert not list(tmp_path.iterdir())  # nothing half-written


@pytest.fixture()
def unwritable_dir(tmp_path):
    """A 'folder' the OS refuses to write into, for any user: it is a file."""
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    return blocker


@pytest.mark.parametrize(
    "argv",
    [
        ["query", "--target", "synergy", "--csv", "{dir}/p.csv"],
        ["export", "--out", "{dir}/cmo.bif"],
        ["shift", "-c", "legal_agreements", "-t", "synergy", "--plot", "{dir}/s.png"],
    ],
)
def test_unwritable_output_is_one_line(unwritable_dir, capsys, argv):
    code, _, err = run([a.replace("{dir}", str(unwritable_dir)) for a in argv], capsys)
    assert code == 2 and err.count("\n") == 1 and "cannot write it" in err


FRAGMENTS = [
    "--target", "synergy", "dissolution", "synergi", "--evidence", "-e", "legal_agreements=present",
    "legal_agreements=presnt", "trust=high,trust=low", "x=y", "=", "a=", ",,", "--do", "--draws", "0", "-1", "3",
    "abc", "--level", "1.5", "0.5", "nan", "--seed", "-2", "--top", "--context", "trust", "--mode", "do",
    "--rounds", "2", "--samples", "100", "--scenario", "enforced_merger", "enforced", "--mechanisms", "--node",
    "--json", "--model", "/nonexistent", ASIA, TOY, "dysp", "either=no", "lung=yes", "--format", "bif", "",
    "synergy=synergy", "dissolution=dissolved", "é", "--targt",
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    verb=st.sampled_from(["check", "query", "export", "links", "rounds", "shift", "sweep", "scenarios"]),
    rest=st.lists(st.sampled_from(FRAGMENTS), max_size=7),
)
def test_random_command_lines_never_trace_back(capsys, verb, rest):
    argv = [verb, *rest]
    if verb == "rounds":
        argv += ["--rounds", "2", "--samples", "200"]
    if verb in ("export",) or "--out" in argv:
        return  # never write files from random input
    code, _, err = run(argv, capsys)
    assert code in (0, 1, 2)
    assert "Traceback" not in err
    if code == 2:
        assert err.count("\n") == 1, err


@settings(max_examples=40, deadline=None)
@given(evidence=st.text(alphabet=st.sampled_from(list("abc_=,lega_reemntspo ")), max_size=30))
def test_random_evidence_strings_never_trace_back(evidence):
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["query", "--model", TOY, "--target", "synergy", "--evidence", evidence])
    assert code in (0, 2) and "Traceback" not in err.getvalue()
    if code == 2:
        assert err.getvalue().count("\n") == 1
