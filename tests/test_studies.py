"""Replicate studies on the runner: one answer however they run, every link at once, the full EM, failures."""

from __future__ import annotations

import importlib
import json

import numpy as np
import pandas as pd
import pytest

import bayes_cmo as bc
from bayes_cmo import BayesCMOError
from bayes_cmo.cli import main
from bayes_cmo.planning.sample_size import cases_needed, exchange_prior, plannable_links, sample_size
from bayes_cmo.planning.studies import calibration_study, coverage, flag_rates, null_study

from conftest import TOY

ss = importlib.import_module("bayes_cmo.planning.sample_size")  # the module (the package exports the function)

LINK = "legal_agreements:initial_trust"
DASK = "Dask is an optional extra: pip install '.[cluster]' (the test extra has it)"


def _json(capsys, argv) -> list[dict]:
    assert main(argv) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_jobs_and_cluster_give_the_serial_table(capsys):
    pytest.importorskip("distributed", reason=DASK)
    argv = ["plan", "sample-size", "--model", str(TOY), "--link", "all", "--n", "10", "30", "--replicates", "4", "--quiet", "--json"]
    serial = _json(capsys, argv + ["--jobs", "1"])
    assert len(serial) == 3 and {r["link"] for r in serial} == set(plannable_links(bc.load_theory(TOY)))
    assert _json(capsys, argv + ["--jobs", "2"]) == serial
    assert _json(capsys, argv + ["--cluster", "local:2"]) == serial


def test_calibration_on_two_processes_gives_the_serial_table(capsys):
    argv = ["plan", "calibration", "--model", str(TOY), "--n", "40", "--replicates", "3", "--quiet", "--json"]
    serial = _json(capsys, argv)
    assert _json(capsys, argv + ["--jobs", "2"]) == serial
    assert {r["link"] for r in serial} == {LINK, "mandated:initial_trust", "initial_trust:synergy"}
    assert all(r["link_runs"] == 9 for r in serial)


def test_every_link_plan_holds_each_links_own_plan(toy_model):
    kwargs = dict(n=(10, 40), replicates=6, seed=5)
    every = sample_size(toy_model, "all", **kwargs)
    assert list(every["link"].unique()) == plannable_links(toy_model.theory)
    alone = sample_size(toy_model, LINK, **kwargs)
    pd.testing.assert_frame_equal(every[every["link"] == LINK].reset_index(drop=True), alone)
    # the same seeds whatever else is planned: a list of two links holds the same rows
    two = sample_size(toy_model, [LINK, "initial_trust:synergy"], **kwargs)
    pd.testing.assert_frame_equal(two[two["link"] == LINK].reset_index(drop=True), alone)


def test_full_em_fit(toy_model):
    kwargs = dict(n=(20, 160), replicates=6, seed=1, missing=0.2)
    full = sample_size(toy_model, "all", fit="full", **kwargs)
    assert (full["fit"] == "full").all()
    one = sample_size(toy_model, LINK, fit="full", **kwargs)
    pd.testing.assert_frame_equal(full[full["link"] == LINK].reset_index(drop=True), one)
    for _, part in full.groupby("link"):
        widths = part["expected_ci_width"].to_numpy()
        assert widths[1] < widths[0] < part["prior_ci_width"].iloc[0]
    # the same studies analysed by the family fit: the toy link's family is where its information is
    family = sample_size(toy_model, LINK, **kwargs)
    assert one["expected_ci_width"].to_numpy() == pytest.approx(family["expected_ci_width"].to_numpy(), rel=0.1)
    assert one["p_sign_correct"].tolist() == family["p_sign_correct"].tolist() == [1.0, 1.0]


def test_full_em_sceptical_prior(toy_model):
    frame = sample_size(toy_model, LINK, fit="full", prior="sceptical", n=(10, 80), replicates=5, seed=2)
    assert frame["prior_ci_width"].iloc[0] == pytest.approx(2 * 1.6448536 * ss.SCEPTICAL_SD, rel=1e-6)
    assert (frame["expected_ci_width"] < frame["prior_ci_width"]).all()
    assert (frame["settled_by"] == "").all()


def test_exchange_prior_is_exact_for_a_normal_likelihood():
    # data N(1.2, 0.5): under N(2, 0.4) the posterior is known in closed form, and so under N(0, 2)
    def posterior(m0, s0):
        precision = 1 / 0.5**2 + 1 / s0**2
        return (1.2 / 0.5**2 + m0 / s0**2) / precision, precision**-0.5

    mean, sd = posterior(2.0, 0.4)
    got = exchange_prior(mean, sd, 2.0, 0.4, 0.0, 2.0)
    assert np.allclose(got, posterior(0.0, 2.0), atol=1e-12)
    # no information in the data: the new prior; no Laplace sd: NaN
    assert np.allclose(exchange_prior(2.0, 0.4, 2.0, 0.4, 0.0, 2.0), (0.0, 2.0))
    assert np.isnan(exchange_prior(2.0, np.nan, 2.0, 0.4, 0.0, 2.0)).all()


def test_exchange_prior_close_to_the_refit_on_the_family(toy_theory):
    # the family fit computes the data-alone posterior exactly (a second fit); the exchange approximates it
    study = ss._Study(toy_theory, toy_theory, (LINK,), (40, 160), tuple(toy_theory.order()), 0.2, "elicited", "family")
    rows = ss._family_task((study, bc._runner.spawn_seeds(3, 1)[0]))[LINK]
    link = toy_theory.link(LINK)
    mean, sd = exchange_prior(rows[1], rows[2], link.weight, link.weight_sd, 0.0, ss.SCEPTICAL_SD)
    np.testing.assert_allclose(mean, rows[3], atol=0.15)
    np.testing.assert_allclose(sd, rows[4], rtol=0.1)


def test_cases_needed_ranks_links_by_hand():
    def rows(link, settles, prior_line=""):
        return [
            {"link": link, "n": n, "p_data_settles": p, "expected_ci_width": 1.0 / n, "narrowing": 0.1, "prior_ci_width": 2.0,
             "settled_by": prior_line, "fit": "family", "prior": "elicited", "replicates": 10}
            for n, p in zip((10, 20, 40), settles)
        ]

    frame = pd.DataFrame(rows("a:x", [0.1, 0.5, 0.7]) + rows("b:x", [0.5, 0.85, 0.9], "prior") + rows("c:x", [0.9, 1, 1]) + rows("d:x", [0.2, 0.3, 0.75]))
    ranking = cases_needed(frame, assurance=0.8)
    assert ranking["link"].tolist() == ["c:x", "b:x", "d:x", "a:x"]  # unreached last, nearest first
    assert ranking["cases_needed"].tolist()[:2] == [10.0, 20.0]
    assert ranking["cases_needed"].isna().tolist() == [False, False, True, True]
    assert ranking["reached"].tolist() == [True, True, False, False]
    assert ranking["prior_settles"].tolist() == [False, True, False, False]
    assert ranking["p_data_settles"].tolist() == [1.0, 0.9, 0.75, 0.7]
    assert (ranking["largest_n"] == 40).all() and (ranking["smallest_n"] == 10).all()
    with pytest.raises(BayesCMOError, match="assurance: expected"):
        cases_needed(frame, assurance=80)


def _fails_always(argument):
    raise RuntimeError("disk on fire")


def test_failed_replicate_names_its_seed_and_nothing_is_written(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(ss, "_family_task", _fails_always)
    out = tmp_path / "plan.csv"
    argv = ["plan", "sample-size", "--model", str(TOY), "--n", "10", "--replicates", "3", "--seed", "7", "--quiet", "--csv", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "retrying once" in err
    assert "task 0 failed twice (seed entropy 7, spawn key (0,))" in err and "disk on fire; nothing was written" in err
    assert len(err.strip().splitlines()) == 2  # the retry notice and the one-line error, no traceback
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_a_replicate_failing_once_is_retried_and_the_table_is_the_same(tmp_path, capsys, monkeypatch):
    argv = ["plan", "sample-size", "--model", str(TOY), "--n", "10", "--replicates", "3", "--quiet", "--json"]
    clean = _json(capsys, argv)
    real, failed = ss._family_task, []

    def flaky(argument):
        if argument[1].spawn_key == (1,) and not failed:
            failed.append(True)
            raise RuntimeError("worker lost")
        return real(argument)

    monkeypatch.setattr(ss, "_family_task", flaky)
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "1 task(s) failed; retrying once" in captured.err
    assert json.loads(captured.out) == clean


def test_calibration_and_null_studies_on_the_toy(toy_model):
    runs = calibration_study(toy_model, n=60, replicates=8, seed=1)
    assert len(runs) == 8 * 3 and runs["replicate"].nunique() == 8
    inside = (runs["posterior_low"] <= runs["truth"]) & (runs["truth"] <= runs["posterior_high"])
    assert runs["covered"].equals(inside)
    table = coverage(runs)
    assert table["overall_coverage"].iloc[0] == pytest.approx(runs["covered"].mean())
    assert 0.6 <= table["overall_coverage"].iloc[0] <= 1.0  # nominal 90%, 24 link-runs
    assert table["coverage"].is_monotonic_increasing
    # the truths are draws: they differ between replicates; a null study simulates from the elicited weights
    assert runs.groupby("link")["truth"].nunique().min() == 8
    null = null_study(toy_model, n=60, replicates=4, seed=1)
    assert (null["truth"] == null["prior_weight"]).all()
    rates = flag_rates(null)
    assert rates["flags_per_run"].iloc[0] == pytest.approx(null.groupby("replicate")["flagged"].sum().mean())


def test_summaries_by_hand():
    runs = pd.DataFrame(
        {
            "replicate": [0, 0, 1, 1],
            "link": ["a:x", "b:x", "a:x", "b:x"],
            "truth": [1.0, 0.0, 1.0, 0.0],
            "prior_weight": [1.0, 0.0, 1.0, 0.0],
            "posterior_weight": [1.5, 0.0, 0.0, 0.5],
            "posterior_sd": [0.5, 1.0, 0.5, 0.5],
            "covered": [True, True, False, True],
            "flagged": [True, False, True, True],
            "verdict": ["strengthened", "consistent", "weakened", "strengthened"],
            "level": 0.9,
        }
    )
    table = coverage(runs).set_index("link")
    assert table.loc["a:x", "coverage"] == 0.5 and table.loc["b:x", "coverage"] == 1.0
    assert table["overall_coverage"].iloc[0] == 0.75 and table["link_runs"].iloc[0] == 4
    assert table.loc["a:x", "error_sd"] == pytest.approx(np.std([1.0, -2.0], ddof=1))
    rates = flag_rates(runs).set_index("link")
    assert rates.loc["a:x", "p_flagged"] == 1.0 and rates.loc["b:x", "p_flagged"] == 0.5
    assert rates.loc["a:x", "p_strengthened"] == 0.5 and rates.loc["a:x", "p_weakened"] == 0.5
    assert rates["flags_per_run"].iloc[0] == 1.5 and rates["p_any_flag"].iloc[0] == 1.0


def test_cli_all_links_table_figure_and_workbook(tmp_path, capsys):
    pytest.importorskip("openpyxl")
    plot, book = tmp_path / "links.png", tmp_path / "plan.xlsx"
    argv = ["plan", "sample-size", "--model", str(TOY), "--link", "all", "--n", "10", "20", "--replicates", "3", "--quiet",
            "--plot", str(plot), "--xlsx", str(book)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "3 links:" in text and "cases needed" in text
    assert plot.stat().st_size > 0
    sheets = pd.read_excel(book, sheet_name=None, skiprows=3)
    assert set(sheets) == {"ranking", "sample_size"}
    assert len(sheets["ranking"]) == 3 and len(sheets["sample_size"]) == 6


def test_plot_cases_needed_on_given_axes(toy_model):
    import matplotlib.pyplot as plt

    from bayes_cmo.plots.planning import plot_cases_needed

    ranking = cases_needed(sample_size(toy_model, "all", n=(10, 20), replicates=3))
    fig, ax = plt.subplots()
    labels = {n.id: n.label for n in toy_model.theory.nodes.values()}
    assert plot_cases_needed(ranking, ax=ax, labels=labels) is fig
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert f"{labels['legal_agreements']} → {labels['initial_trust'].lower()}" in ticks
    plt.close(fig)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--cluster", "nowhere"], "argument --cluster: expected 'local:N'"),
        (["--cluster", "local:0"], "argument --cluster: expected 'local:N' with N a whole number >= 1"),
        (["--jobs", "0"], "argument --jobs: expected a positive integer, got 0"),
        (["--jobs", "2", "--cluster", "local:2"], "not allowed with argument"),
        (["--fit", "ful"], "did you mean 'full'"),
    ],
)
def test_runner_options_refused_in_one_line(capsys, extra, message):
    assert main(["plan", "sample-size", "--model", str(TOY), "--quiet"] + extra) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_set_link_only_with_null(capsys):
    assert main(["plan", "calibration", "--model", str(TOY), "--set-link", f"{LINK}=3", "--quiet"]) == 2
    assert "--set-link: only with --null" in capsys.readouterr().err


def test_cli_null_study_with_a_changed_link(capsys):
    argv = ["plan", "calibration", "--model", str(TOY), "--null", "--set-link", f"{LINK}=4", "--n", "40", "--replicates", "2", "--quiet"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert f"simulated from the theory with {LINK}=4" in text and "links flagged per study" in text
    rows = _json(capsys, argv + ["--json"])
    truths = {r["link"]: r["truth"] for r in rows}
    assert truths[LINK] == 4.0 and truths["mandated:initial_trust"] == -1.0
    assert all(r["replicates"] == 2 for r in rows)
