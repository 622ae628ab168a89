"""The report folder: every section, numbers that match the functions, nothing overwritten."""

from __future__ import annotations

import pytest

from bayes_cmo import BayesCMOError, load_model, shift, write_report
from bayes_cmo.cli import main


def test_report_on_the_toy_theory(toy_model, tmp_path):
    out = write_report(toy_model.with_draws(50, seed=0), tmp_path / "rep", context="legal_agreements", targets=["synergy"])
    names = {p.name for p in out.iterdir()}
    assert {"report.md", "claims.csv", "headline_shift.csv", "sweep.csv", "voi.csv", "sensitivity.csv", "scenarios.csv"} <= names
    assert {"theory.png", "tornado.png", "voi.png", "sensitivity.png", "scenarios.png"} <= names
    assert "rounds.csv" not in names  # the toy theory has no feedback loop
    text = (out / "report.md").read_text()
    assert "2 of 2 programme-theory claims hold" in text
    # The headline row in the Markdown is the shift() answer, formatted.
    row = shift(toy_model.with_draws(50, seed=0), "legal_agreements", ["synergy"], modes=("observe",))
    present = row[(row["state"] == "present") & (row["target_state"] == "synergy")].iloc[0]
    assert f"{100 * present['delta']:+.1f} [{100 * present['delta_ci_low']:+.1f}, {100 * present['delta_ci_high']:+.1f}]" in text
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folders left


def test_report_default_priors_has_the_time_view(default_model, tmp_path):
    out = write_report(default_model.with_draws(20, seed=0), tmp_path / "rep", rounds=2)
    text = (out / "report.md").read_text()
    assert "## Over rounds" in text and (out / "rounds.png").exists()
    assert "Best set of three measurements" in text


def test_report_refuses_to_overwrite_and_network_files(toy_model, tmp_path):
    (tmp_path / "rep").mkdir()
    (tmp_path / "rep" / "mine.txt").write_text("keep")
    with pytest.raises(BayesCMOError, match="already exists"):
        write_report(toy_model.with_draws(10, seed=0), tmp_path / "rep", targets=["synergy"])
    assert (tmp_path / "rep" / "mine.txt").read_text() == "keep"
    asia = load_model(toy_model.theory.path.parent / "asia.bif")
    with pytest.raises(BayesCMOError, match="needs a priors folder"):
        write_report(asia, tmp_path / "other")
    with pytest.raises(BayesCMOError, match="is the input .*inputs are never overwritten"):
        write_report(toy_model.with_draws(10, seed=0), toy_model.theory.path, targets=["synergy"], force=True)


def test_cli_report(toy_path, tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["report", "--model", str(toy_path), "--out", str(out), "-t", "synergy", "--draws", "30"]) == 0
    assert (out / "report.md").exists()
    assert main(["report", "--model", str(toy_path), "--out", str(out), "-t", "synergy"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["report", "--model", str(toy_path), "--out", str(tmp_path / "x"), "--draws", "0"]) == 2
