"""Names for shipped things (--model default) and Excel in and out: .xlsx case and cost files, every
problem of a case file at once, coder's columns ignored by name or prefix, --xlsx tables."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from bayes_cmo import BayesCMOError, load_model, load_theory, read_cases
from bayes_cmo.cli import main
from bayes_cmo.network.model import max_abs_difference
from bayes_cmo.planning.voi import read_costs
from bayes_cmo.theory import default_priors_path
from bayes_cmo.update.cases import CaseFileError
from conftest import TOY

CASES = "case_id,legal_agreements,initial_trust,synergy\nA,present,high,synergy\nB,absent,low,inertia\nC,present,,synergy\n"


# --------------------------------------------------------------------------- --model default


def test_default_names_the_shipped_priors(default_model):
    assert load_theory("default").path == default_priors_path()
    assert max_abs_difference(load_model("default"), default_model) == 0.0


def test_a_local_folder_named_default_is_still_reachable(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(TOY, tmp_path / "default")
    assert load_theory("./default").path.resolve() == (tmp_path / "default").resolve()
    assert "synergy" in load_model(tmp_path / "default").variables and len(load_model(tmp_path / "default").variables) < 10


def test_compare_default_with_my_priors_outside_the_repository(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(default_priors_path(), tmp_path / "my_priors")
    assert main(["compare", "default", "my_priors", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    differences = [row.get("difference", row.get("delta")) for row in rows]
    assert len(rows) >= 3 and all(d is not None and abs(d) < 1e-12 for d in differences)
    assert main(["query", "--model", "default", "--target", "synergy", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sum(row.get("probability", row.get("p")) for row in rows) == pytest.approx(1.0)


def test_output_into_the_shipped_priors_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cases.csv").write_text("case_id,synergy\nA,synergy\n", encoding="utf-8")
    inside = str(default_priors_path() / "new")
    assert main(["update", "cases.csv", "--model", "default", "--out", inside]) == 2
    assert "inside the input folder" in capsys.readouterr().err


# --------------------------------------------------------------------------- Excel in


def _workbook(path, sheets: dict[str, list[list]]):
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for row in rows:
            ws.append(row)
    book.save(path)
    return path


def _rows(text: str) -> list[list]:
    return [line.split(",") for line in text.strip().splitlines()]


def test_xlsx_case_file_reads_as_the_csv(tmp_path, toy_model):
    (tmp_path / "cases.csv").write_text(CASES, encoding="utf-8")
    book = _workbook(tmp_path / "cases.xlsx", {"Coding": _rows(CASES), "Other": [["x"]]})
    expected, got = read_cases(tmp_path / "cases.csv", toy_model), read_cases(book, toy_model)
    assert got.drop(columns=[]).equals(expected)
    assert got.attrs["rows"] == expected.attrs["rows"] == {"A": "row 2", "B": "row 3", "C": "row 4"}
    assert got.attrs["source"] == f"{book}, sheet 'Coding'"


def test_xlsx_sheet_by_name_and_a_missing_sheet(tmp_path, toy_model):
    book = _workbook(tmp_path / "cases.xlsx", {"notes": [["read me"]], "Cases": _rows(CASES)})
    assert len(read_cases(book, toy_model, sheet="cases")) == 3  # sheet names ignore case
    with pytest.raises(BayesCMOError, match=r"--sheet Casse: no such sheet .*did you mean 'Cases'"):
        read_cases(book, toy_model, sheet="Casse")


def test_every_problem_of_a_case_file_at_once_with_sheet_row_column(tmp_path, toy_model):
    rows = _rows("case_id,legal_agreements,Trust Level,synergy\nA,presnt,3,synergy\nB,absent,2,synergie\n,absent,1,inertia\nB,present,4,inertia")
    book = _workbook(tmp_path / "cases.xlsx", {"Cases": rows})
    with pytest.raises(CaseFileError) as info:
        read_cases(book, toy_model)
    error = info.value
    message = str(error)
    assert "\n" not in message and message.startswith(f"{book}, sheet 'Cases': 5 problems: (1) ")
    assert error.problems == (
        "row 1, column 'Trust Level': unknown column (not a node of the model, nor case_id/label/notes); did you mean "
        "'initial_trust'? (to skip it: --ignore-column 'Trust Level', or start its header with '#')",
        "row 4, column case_id: blank case id (every case needs a name)",
        "row 5, column case_id: duplicate case id 'B' (also on row 3)",
        "row 2 (case 'A'), column legal_agreements: unknown state 'presnt' (expected one of absent, present, or blank "
        "if not observed); did you mean 'present'?",
        "row 3 (case 'B'), column synergy: unknown state 'synergie' (expected one of inertia, synergy, or blank if not "
        "observed); did you mean 'synergy'?",
    )


def test_at_most_twenty_problems_are_listed(tmp_path, toy_model):
    text = "case_id,synergy\n" + "".join(f"c{i},bad\n" for i in range(25))
    (tmp_path / "cases.csv").write_text(text, encoding="utf-8")
    with pytest.raises(CaseFileError, match=r"25 problems \(and 5 more\): \(1\) row 2 ") as info:
        read_cases(tmp_path / "cases.csv", toy_model)
    assert "(20) row 21 " in str(info.value) and "(21)" not in str(info.value)
    assert len(info.value.problems) == 25


def test_extra_columns_ignored_by_name_or_prefix(tmp_path, toy_model):
    extra = CASES.replace("case_id,", "case_id,Trust Level,# coder,Note Trust,").replace("\nA,", "\nA,3,ab,x,").replace(
        "\nB,", "\nB,2,cd,,").replace("\nC,", "\nC,1,,y,")
    book = _workbook(tmp_path / "cases.xlsx", {"Cases": _rows(extra)})
    with pytest.raises(BayesCMOError, match="column 'Trust Level': unknown column"):
        read_cases(book, toy_model)
    (tmp_path / "cases.csv").write_text(CASES, encoding="utf-8")
    got = read_cases(book, toy_model, ignore_columns=["trust level"])
    assert got.equals(read_cases(tmp_path / "cases.csv", toy_model))


def test_xlsx_costs_and_unreadable_spreadsheets(tmp_path, toy_model):
    book = _workbook(tmp_path / "costs.xlsx", {"Costs": [["Node", "Cost"], ["legal_agreements", 1.5], ["Initial Trust", 2]]})
    assert read_costs(book, toy_model) == {"legal_agreements": 1.5, "initial_trust": 2.0}
    (tmp_path / "cases.ods").write_bytes(b"PK\x03\x04")
    with pytest.raises(BayesCMOError, match=r"cases.ods: a .ods spreadsheet cannot be read; save it as .xlsx or as CSV"):
        read_cases(tmp_path / "cases.ods", toy_model)
    (tmp_path / "costs.csv").write_text("node,cost\nlegal_agreements,1\n", encoding="utf-8")
    with pytest.raises(BayesCMOError, match="a CSV file has no sheets"):
        read_costs(tmp_path / "costs.csv", toy_model, sheet="Costs")


def test_update_an_excel_case_file_with_an_extra_column_with_one_flag(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(TOY, tmp_path / "toy")
    (tmp_path / "cases.csv").write_text(CASES, encoding="utf-8")
    _workbook(tmp_path / "cases.xlsx", {"Cases": _rows(CASES.replace("case_id,", "case_id,interviewer,").replace("\nA,", "\nA,ann,").replace("\nB,", "\nB,bob,").replace("\nC,", "\nC,ann,"))})
    assert main(["update", "cases.xlsx", "--out", "a", "--model", "toy", "--quiet"]) == 2
    assert "column 'interviewer': unknown column" in capsys.readouterr().err
    assert main(["update", "cases.xlsx", "--ignore-column", "interviewer", "--out", "a", "--model", "toy", "--quiet", "--json",
                 "--xlsx", "update.xlsx"]) == 0
    excel = json.loads(capsys.readouterr().out)
    assert main(["update", "cases.csv", "--out", "b", "--model", "toy", "--quiet", "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert excel["links"] == plain["links"]
    links = pd.read_excel(tmp_path / "update.xlsx", sheet_name="links", skiprows=3)
    assert list(links["link"]) == [row["link"] for row in plain["links"]]
    np.testing.assert_allclose(links["posterior_weight"], [row["posterior_weight"] for row in plain["links"]], rtol=1e-12)


# --------------------------------------------------------------------------- Excel out


def test_xlsx_tables_have_notes_labels_units_and_read_back(tmp_path, monkeypatch, capsys):
    import openpyxl

    monkeypatch.chdir(tmp_path)
    args = ["shift", "--model", str(TOY), "--context", "legal_agreements", "--target", "synergy"]
    assert main([*args, "--csv", "shift.csv", "--xlsx", "shift.xlsx"]) == 0
    capsys.readouterr()
    csv = pd.read_csv("shift.csv")
    sheet = openpyxl.load_workbook("shift.xlsx").active
    assert sheet.title == "shift" and "bayes-cmo shift" in sheet.cell(1, 1).value and str(TOY) in sheet.cell(1, 1).value
    columns = [c.value for c in sheet[4]]
    assert columns == list(csv.columns)
    units = dict(zip(columns, [c.value for c in sheet[3]]))
    labels = dict(zip(columns, [c.value for c in sheet[2]]))
    assert units["p"] == "probability (0-1)" and units["delta_logodds"] == "log-odds" and labels["p_baseline"] == "P at baseline"
    back = pd.read_excel("shift.xlsx", skiprows=3)
    pd.testing.assert_frame_equal(back, csv, check_dtype=False)
    assert main([*args, "--xlsx", "shift2.csv"]) == 2  # not an .xlsx name
    assert "expected a file name ending in .xlsx" in capsys.readouterr().err
    assert main([*args, "--xlsx", "shift.xlsx"]) == 2  # never overwritten without --force
