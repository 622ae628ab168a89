"""The theory as tables and a figure."""

from __future__ import annotations

import json

import pytest

from bayes_cmo import BayesCMOError, link_table
from bayes_cmo.cli import main
from bayes_cmo.network.describe import LINK_COLUMNS


def test_link_table_toy(toy_theory):
    table = link_table(toy_theory)
    assert list(table.columns) == LINK_COLUMNS
    assert table["link"].tolist() == ["legal_agreements:initial_trust", "mandated:initial_trust", "initial_trust:synergy"]
    assert table["weight"].tolist() == [2.0, -1.0, 2.0]
    assert table["weight_sd"].tolist() == [0.4, 0.6, 0.25]  # medium, low, high confidence
    assert table.loc[0, "cmo"] == "Legal agreements -> greater initial trust"


def test_link_table_filters_by_node_and_shows_moderators(default_theory):
    table = link_table(default_theory, "cultural_compatibility")
    assert (table["from"].eq("cultural_compatibility") | table["to"].eq("cultural_compatibility") | table["moderator"].eq("cultural_compatibility")).all()
    moderated = table[table["moderator"] == "cultural_compatibility"]
    assert not moderated.empty and moderated["multipliers"].str.contains("low:").all()
    with pytest.raises(BayesCMOError, match="did you mean 'legal_agreements'"):
        link_table(default_theory, "legal")


def test_every_shipped_link_has_its_sentence(default_theory):
    table = link_table(default_theory)
    assert (table["section"] != "").all() and (table["cmo"] != "").all()


def test_cli_links(toy_path, tmp_path, capsys):
    assert main(["links", "--model", str(toy_path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 3 and set(rows[0]) == set(LINK_COLUMNS)
    out = tmp_path / "links.csv"
    plot = tmp_path / "theory.png"
    assert main(["links", "--model", str(toy_path), "--csv", str(out), "--plot", str(plot)]) == 0
    assert out.read_text().startswith("link,from,to") and plot.stat().st_size > 10_000
    assert main(["links", "--model", str(toy_path.parent / "asia.bif")]) == 2
    assert "needs a priors folder" in capsys.readouterr().err


def test_plot_theory_accepts_ax(default_theory):
    import matplotlib.pyplot as plt

    from bayes_cmo.plots.theory import plot_theory

    fig, ax = plt.subplots()
    assert plot_theory(default_theory, ax=ax) is fig
    assert len(ax.texts) == len(default_theory.nodes)
    plt.close(fig)
