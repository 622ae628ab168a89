"""Case-data format: reading, validation, one-line errors naming row and column."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from bayes_cmo import BayesCMOError
from bayes_cmo.update.cases import AllBlankColumnWarning, case_findings, case_likelihoods, read_cases



def write(tmp_path, text, name="cases.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_blanks_and_text_columns(tmp_path, toy_model):
    path = write(tmp_path, "case_id,label,legal_agreements,synergy,notes\nA,Alliance,present,,x\nB,,NA, synergy ,\n")
    cases = read_cases(path, toy_model)
    assert list(cases.columns) == ["case_id", "label", "notes", "legal_agreements", "synergy"]
    assert case_findings(cases) == [{"legal_agreements": "present"}, {"synergy": "synergy"}]
    lik = case_likelihoods(cases, toy_model)
    np.testing.assert_array_equal(lik["legal_agreements"], [[0, 1], [1, 1]])
    np.testing.assert_array_equal(lik["synergy"], [[1, 1], [0, 1]])
    assert cases.attrs["rows"] == {"A": "row 2", "B": "row 3"}


def test_dataframe_with_nan_and_none(toy_model):
    frame = pd.DataFrame({"case_id": ["a", "b"], "mandated": ["yes", None], "synergy": [np.nan, "inertia"]})
    cases = read_cases(frame, toy_model)
    assert case_findings(cases) == [{"mandated": "yes"}, {"synergy": "inertia"}]


@pytest.mark.parametrize(
    "text, fragments",
    [
        ("case_id,legal_agreement\nA,present\n", ["row 1", "column 'legal_agreement'", "unknown column", "did you mean 'legal_agreements'"]),
        ("case_id,legal_agreements\nA,present\nB,presnt\n", ["row 3", "case 'B'", "column legal_agreements", "unknown state 'presnt'", "did you mean 'present'"]),
        ("case_id,synergy\nA,synergy\nB,inertia\nA,inertia\n", ["row 4", "duplicate case id 'A'", "also on row 2"]),
        ("case_id,synergy\n,synergy\n", ["row 2", "blank case id"]),
        ("caseid,synergy\nA,synergy\n", ["missing the 'case_id' column", "did you mean 'case_id'"]),
        ("case_id,synergy,synergy\nA,synergy,inertia\n", ["duplicate column"]),
        ("hello world\n", ["not a CSV case file"]),
        ("", ["not a readable CSV file"]),
    ],
)
def test_bad_files_give_one_line_errors(tmp_path, toy_model, text, fragments):
    path = write(tmp_path, text)
    with pytest.raises(BayesCMOError) as info:
        read_cases(path, toy_model)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    for fragment in fragments:
        assert fragment in message


def test_not_csv_binary_and_spreadsheet(tmp_path, toy_model):
    binary = tmp_path / "cases.csv"
    binary.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xff\xfe\x00\x80")
    with pytest.raises(BayesCMOError, match="not a CSV"):
        read_cases(binary, toy_model)
    sheet = write(tmp_path, "x", name="cases.xlsx")
    with pytest.raises(BayesCMOError, match="save it as CSV"):
        read_cases(sheet, toy_model)
    with pytest.raises(BayesCMOError, match="file not found"):
        read_cases(tmp_path / "missing.csv", toy_model)


def test_all_blank_column_warns(tmp_path, toy_model):
    path = write(tmp_path, "case_id,mandated,synergy\nA,,synergy\nB,,inertia\n")
    with pytest.warns(AllBlankColumnWarning, match="column 'mandated' is blank in every case"):
        cases = read_cases(path, toy_model)
    assert "mandated" not in case_likelihoods(cases, toy_model)


def test_no_warning_when_every_column_is_used(tmp_path, toy_model):
    path = write(tmp_path, "case_id,mandated\nA,no\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_cases(path, toy_model)


def test_state_named_like_a_blank_marker_is_kept(toy_model):
    # 'no' is a real state of mandated, not a blank
    cases = read_cases(pd.DataFrame({"case_id": ["a"], "mandated": ["no"]}), toy_model)
    assert case_findings(cases) == [{"mandated": "no"}]


def test_bad_arguments(toy_model):
    with pytest.raises(BayesCMOError, match="source: expected a CSV or .xlsx path or a DataFrame"):
        read_cases(42, toy_model)
