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
