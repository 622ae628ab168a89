"""User mistakes on update / simulate / compare / plan: one line on stderr, exit 2, inputs untouched.

And the forgiving readings of files saved from a spreadsheet (BOM, ';', CRLF,
blank rows, trailing empty columns, header and state case).
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from bayes_cmo import read_cases
from bayes_cmo.cli import main
from bayes_cmo.planning.voi import read_costs

from conftest import TOY
CASES = "case_id,legal_agreements,initial_trust,synergy\nA,present,high,synergy\nB,absent,low,inertia\nC,present,,synergy\n"


@pytest.fixture()
def work(tmp_path, monkeypatch):
    """A toy priors copy, a case file and a costs file in a fresh working folder."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(TOY, tmp_path / "toy")
    (tmp_path / "cases.csv").write_text(CASES, encoding="utf-8")
    (tmp_path / "costs.csv").write_text("node,cost\nlegal_agreements,1\ninitial_trust,2\n", encoding="utf-8")
    return tmp_path


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def _fails(argv, capsys, *fragments):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize(
    "argv, fragments",
    [
        (["update", "cases.csv", "--out", "new", "--model", "toy", "--report", "cases.csv", "--force"], ["--report cases.csv", "is the input"]),
        (["update", "cases.csv", "--out", "new", "--model", "toy", "--plot", "toy/x.png"], ["inside the input folder toy"]),
        (["update", "cases.csv", "--out", ".", "--model", "toy", "--force"], ["would replace the folder holding the input"]),
        (["update", "cases.csv", "--out", "toy/sub", "--model", "toy"], ["inside the input folder toy"]),
        (["update", "cases.csv", "--out", "toy", "--model", "toy", "--force"], ["is the input toy"]),
        (["update", "cases.csv", "--out", "cases.csv", "--model", "toy", "--force"], ["is the input cases.csv"]),
        (["update", "cases.csv", "--out", "new", "--model", "toy", "--plot", "forest.txt"], ["--plot: expected a .png", "got 'forest.txt'"]),
        (["update", "cases.csv", "--out", "new", "--model", "toy", "--level", "90"], ["--level: expected a number between 0 and 1", "got 90", "did you mean 0.9"]),
        (["update", "cases.csv", "--out", "new", "--model", "toy", "--max-iter", "0"], ["--max-iter: expected a positive integer, got 0"]),
        (["update", "blank.csv", "--out", "new", "--model", "toy"], ["blank.csv", "no cases"]),
        (["update", "header.csv", "--out", "new", "--model", "toy"], ["header.csv", "no cases"]),
        (["update", "yesno.csv", "--out", "new", "--model", "toy"], ["row 2", "column legal_agreements", "'yes'", "did you mean 'present'"]),
        (["update", "cases.xlsx", "--out", "new", "--model", "toy"], ["cases.xlsx", "save it as CSV"]),
        (["simulate", "--n", "0", "--out", "s.csv", "--model", "toy"], ["--n: expected a positive integer, got 0"]),
        (["simulate", "--n", "5", "--missing", "1.0", "--out", "s.csv", "--model", "toy"], ["--missing: expected a fraction", "got 1", "every cell blank"]),
        (["simulate", "--n", "5", "--out", "toy", "--model", "toy", "--force"], ["is a folder"]),
        (["simulate", "--n", "5", "--out", "toy/nodes.yaml", "--model", "toy", "--force"], ["inside the input folder toy"]),
        (["compare", "toy", "toy", "--csv", "toy/claims.yaml", "--force"], ["inside the input folder toy"]),
        (["plan", "voi", "--model", "toy", "--target", "synergy", "--costs", "costs.csv", "--csv", "costs.csv", "--force"], ["is the input costs.csv"]),
        (["plan", "voi", "--model", "toy", "--target", "synergy", "--k", "9"], ["--k 9", "at most 3"]),
        (["plan", "voi", "--model", "toy", "--target", "synergy", "--k", "3", "--costs", "costs.csv"], ["--k 3", "at most 2", "costs.csv"]),
        (["plan", "voi", "--model", "toy", "--target", "synergy", "--costs", "badcost.csv"], ["badcost.csv, row 3, column cost", "blank cost for 'initial_trust'"]),
        (["plan", "sensitivity", "--model", "toy", "--target", "synergy", "--csv", "toy/links.yaml", "--force"], ["inside the input folder toy"]),
        (["plan", "sample-size", "--model", "toy", "--link", "legal_agreements:initial_trust", "--n", "0"], ["--n: expected a positive integer, got 0"]),
        (["plan", "sample-size", "--model", "toy", "--link", "legal_agreements:initial_trust", "--replicates", "1"], ["--replicates: expected an integer of at least 2, got 1"]),
        (["plan", "sample-size", "--model", "toy", "--link", "legal_agreements:initial_trust", "--missing", "1"], ["--missing: expected a fraction", "got 1"]),
        (["plan", "sample-size", "--model", "toy", "--link", "legal_agreements:initial_trust", "--level", "95"], ["did you mean 0.95"]),
        (["plan", "sample-size", "--model", "toy", "--link", "synergy:legal_agreements"], ["synergy is not a cause of legal_agreements"]),
    ],
)
def test_user_mistakes_one_line_exit_2_inputs_untouched(work, capsys, argv, fragments):
    header = CASES.splitlines()[0]
    (work / "blank.csv").write_text(header + "\n,,,\n,,,\n", encoding="utf-8")
    (work / "header.csv").write_text(header + "\n", encoding="utf-8")
    (work / "yesno.csv").write_text("case_id,legal_agreements\nA,yes\n", encoding="utf-8")
    (work / "cases.xlsx").write_bytes(b"PK\x03\x04")
    (work / "badcost.csv").write_text("node,cost\nlegal_agreements,1\ninitial_trust,\n", encoding="utf-8")
    before = _hashes(work)
    _fails(argv, capsys, *fragments)
    assert _hashes(work) == before
    assert not (work / "new").exists()


def test_lagged_link_named_without_its_lag(tmp_path, capsys):
    _fails(
        ["plan", "sample-size", "--link", "task_achievement:trust", "--replicates", "2", "--n", "5", "--quiet"],
        capsys,
        "feedback (lagged) link",
    )


def _excel(text: str) -> bytes:
    """As Excel saves CSV in a ';' locale: BOM, ';', CRLF, trailing empty column and rows."""
    lines = [line.replace(",", ";") + ";" for line in text.strip().splitlines()]
    width = lines[0].count(";")
    lines += [";" * width] * 2
    return "\ufeff".encode() + "\r\n".join(lines).encode() + b"\r\n"


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(_excel(CASES), id="excel-semicolon-bom-crlf-trailing"),
        pytest.param(("\ufeff" + CASES).encode(), id="bom"),
        pytest.param(CASES.replace("\n", "\r\n").encode(), id="crlf"),
        pytest.param(CASES.replace("legal_agreements", "Legal Agreements").replace("case_id", "Case ID").encode(), id="header-case-spaces"),
        pytest.param(CASES.replace(",present,", ",Present ,").replace(",synergy\n", ", SYNERGY\n").encode(), id="state-case-spaces"),
        pytest.param(CASES.replace("\n", "\t\n").replace(",", "\t").encode(), id="tab-trailing-column"),
        pytest.param((CASES + ",,,\n\n").encode(), id="trailing-blank-rows"),
    ],
)
def test_spreadsheet_saved_case_files_read_as_the_plain_file(tmp_path, content, toy_model):
    model = toy_model
    plain = tmp_path / "plain.csv"
    plain.write_text(CASES, encoding="utf-8")
    saved = tmp_path / "saved.csv"
    saved.write_bytes(content)
    expected, got = read_cases(plain, model), read_cases(saved, model)
    assert got.equals(expected)
    assert got.attrs["rows"] == expected.attrs["rows"]


def test_blank_row_in_the_middle_keeps_spreadsheet_row_numbers(tmp_path, toy_model):
    model = toy_model
    path = tmp_path / "cases.csv"
    path.write_text("case_id,synergy\nA,synergy\n,\n\nB,synergy\nC,synergie\n", encoding="utf-8")
    with pytest.raises(ValueError, match="row 6 .case 'C'.*did you mean 'synergy'"):
        read_cases(path, model)


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"\xef\xbb\xbfNode;Cost\r\nlegal_agreements;1,5\r\nInitial Trust;2\r\n;\r\n", {"legal_agreements": 1.5, "initial_trust": 2.0}),
        (b"node,cost\nlegal_agreements,1\n,\n", {"legal_agreements": 1.0}),
    ],
)
def test_costs_saved_from_a_spreadsheet(tmp_path, content, expected, toy_model):
    model = toy_model
    path = tmp_path / "costs.csv"
    path.write_bytes(content)
    assert read_costs(path, model) == expected


def test_update_reads_excel_file_like_the_plain_one(work, capsys):
    (work / "excel.csv").write_bytes(_excel(CASES))
    assert main(["update", "cases.csv", "--out", "a", "--model", "toy", "--quiet", "--json"]) == 0
    plain = capsys.readouterr().out
    assert main(["update", "excel.csv", "--out", "b", "--model", "toy", "--quiet", "--json"]) == 0
    excel = capsys.readouterr().out
    assert plain.replace('"a"', '"b"') == excel
