"""The analysis scripts: thin layers over the public API that answer, and never overwrite what they did not write."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pandas as pd
import pytest

ANALYSIS = Path(__file__).parents[1] / "analysis"


@pytest.fixture(scope="module")
def scripts():
    sys.path.insert(0, str(ANALYSIS))
    try:
        yield {name: importlib.import_module(name) for name in ("legal_agreements", "phase2_update", "evaluation_plan", "trust_loop")}
    finally:
        sys.path.remove(str(ANALYSIS))


def test_legal_agreements_writes_its_tables_then_refuses_to_overwrite(scripts, tmp_path, capsys):
    out = tmp_path / "out"
    assert scripts["legal_agreements"].main(["--out", str(out), "--draws", "20"]) == 0
    shift = pd.read_csv(out / "legal_agreements_shift.csv")
    assert set(shift["state"]) == {"absent", "present"} and set(shift["mode"]) == {"observe", "do"}
    assert {"tornado.png", "heatmap.png", "scenarios.png"} <= {p.name for p in out.iterdir()}
    before = (out / "context_sweep.csv").read_bytes()
    capsys.readouterr()
    assert scripts["legal_agreements"].main(["--out", str(out), "--draws", "20"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--force" in err
    assert (out / "context_sweep.csv").read_bytes() == before


@pytest.mark.parametrize("argv, expected", [
    (["--draws", "0"], "--draws 0: expected at least 1 parameter draw"),
    (["--priors", "nowhere"], "nowhere"),
])
def test_legal_agreements_bad_input_is_one_line(scripts, tmp_path, capsys, argv, expected):
    assert scripts["legal_agreements"].main(["--out", str(tmp_path / "o"), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and expected in err
    assert not (tmp_path / "o").exists()


def test_scripts_refuse_an_out_folder_inside_the_priors_before_any_work(scripts, tmp_path, capsys):
    import shutil

    priors = tmp_path / "pr"
    shutil.copytree(Path(__file__).parent / "data" / "toy", priors)
    before = sorted(p.name for p in priors.iterdir())
    for name in ("legal_agreements", "evaluation_plan", "trust_loop"):
        assert scripts[name].main(["--priors", str(priors), "--out", str(priors / "x")]) == 2
        assert "is inside the input folder" in capsys.readouterr().err
    assert sorted(p.name for p in priors.iterdir()) == before


def test_the_example_case_file_fits_the_shipped_theory(default_model):
    import bayes_cmo as bc

    cases = bc.read_cases(ANALYSIS / "example_cases.csv", default_model)
    assert len(cases) == 40 and set(cases.columns) - {"case_id", "notes"} == set(default_model.variables)


@pytest.mark.slow
def test_phase2_update_on_the_example_cases(scripts, tmp_path, capsys):
    out = tmp_path / "out"
    assert scripts["phase2_update"].main(["--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "legal_agreements -> initial_trust (simulated truth 3.0)" in printed
    assert (out / "priors_updated" / "provenance.yaml").exists() and (out / "forest_links.png").exists()
    assert scripts["phase2_update"].main(["--out", str(out)]) == 2  # nothing replaced without --force


def test_trust_loop_curves_start_below_one_and_never_rise(scripts, tmp_path, capsys):
    out = tmp_path / "out"
    assert scripts["trust_loop"].main(["--out", str(out), "--draws", "0", "--rounds", "3"]) == 0
    curves = pd.read_csv(out / "trust_loop_survival.csv")
    for _, one in curves.groupby("curve"):
        p = one.sort_values("round")["p_intact"].to_numpy()
        assert (p <= 1).all() and (p[1:] <= p[:-1] + 1e-12).all()  # dissolution is absorbing
    assert set(curves["scenario"]) == {"voluntary_alliance_with_legal_agreement", "enforced_merger"}
    assert "one round = " in capsys.readouterr().out
    assert scripts["trust_loop"].main(["--out", str(out), "--draws", "0", "--rounds", "3"]) == 2  # never without --force
