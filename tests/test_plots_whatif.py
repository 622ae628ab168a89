"""What-if figures: returned figures, labelled axes, one bar per plotted row, ax= accepted."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from bayes_cmo import BayesCMOError, compare_scenarios, shift, sweep  # noqa: E402
from bayes_cmo.plots.whatif import scenario_chart, shift_heatmap, tornado  # noqa: E402


@pytest.fixture(scope="module")
def drawn(toy_model):
    return toy_model.with_draws(40, seed=0)


@pytest.fixture(scope="module")
def swept(drawn):
    return sweep(drawn, ["synergy", "initial_trust"])


def bars(ax) -> list[Rectangle]:
    return [p for p in ax.patches if isinstance(p, Rectangle)]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_tornado_one_panel_per_target(swept):
    fig = tornado(swept, labels={"legal_agreements": "Legal agreements (formal)"})
    assert isinstance(fig, Figure)
    axes = fig.axes
    assert len(axes) == 2
    shown = swept[(swept["mode"] == "observe") & swept["target_state"].isin(["synergy", "high"])]
    for ax, target in zip(axes, ["synergy", "initial_trust"]):
        rows = shown[shown["target"] == target]
        assert len(bars(ax)) == len(rows) == 4
        assert "percentage points" in ax.get_xlabel()
        assert ax.get_title()
        # widths are the changes, in the frame's ranked order
        widths = sorted(round(b.get_width(), 12) for b in bars(ax))
        assert widths == sorted(round(d, 12) for d in rows["delta"])
    labels = [t.get_text() for t in axes[0].get_yticklabels()]
    assert labels[0].startswith("Legal agreements (formal): ")  # the most influential context first
    assert "Mandated: yes" in labels
    # interval whiskers come from the frame's interval columns: one segment per bar, none without draws
    (whiskers,) = [c for c in axes[0].collections if isinstance(c, LineCollection)]
    assert len(whiskers.get_segments()) == 4
    point = tornado(swept.drop(columns=["ci_low", "ci_high", "delta_ci_low", "delta_ci_high"]))
    assert not [c for c in point.axes[0].collections if isinstance(c, LineCollection)]


def test_tornado_into_given_ax_dodges_targets_and_modes(swept):
    fig, ax = plt.subplots()
    out = tornado(swept, mode=None, ax=ax, top=1)
    assert out is fig
    assert len(bars(ax)) == 2 * 2 * 2  # 2 states of the top context x 2 targets x 2 modes
    assert ax.get_legend() is not None
    assert ax.get_xlabel()


def test_tornado_bad_state(swept):
    with pytest.raises(BayesCMOError, match="target_state of tornado: expected a state of"):
        tornado(swept, target_state="maybe")
    with pytest.raises(BayesCMOError, match="lacks column"):
        tornado(swept.drop(columns=["delta"]))


def test_heatmap_cells_and_labels(toy_model, swept):
    fig = shift_heatmap(swept)
    ax = fig.axes[0]
    assert isinstance(fig, Figure)
    # 4 context states x 2 targets, each annotated
    assert len(ax.texts) == 8
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Synergy\nP(synergy)", "Initial trust\nP(high)"]
    fig2, ax2 = plt.subplots()
    assert shift_heatmap(shift(toy_model, "mandated", "synergy"), mode=None, ax=ax2) is fig2
    assert len(ax2.texts) == 2 * 2  # 2 states x (1 target x 2 modes)


def test_scenario_chart(drawn):
    table = compare_scenarios(drawn, ["synergy", "initial_trust"])
    fig = scenario_chart(table)
    assert len(fig.axes) == 2
    for ax in fig.axes:
        assert len(bars(ax)) == table["scenario"].nunique()
        assert "pp" in ax.get_xlabel()  # the change from the baseline, not P itself
        assert "baseline" in ax.get_title()
    # bars are the changes, whiskers their interval: the panel holds every whisker
    shown = table[table["target"] == "synergy"]
    shown = shown[shown["target_state"] == "synergy"]
    assert sorted(round(b.get_width(), 12) for b in bars(fig.axes[0])) == sorted(round(d, 12) for d in shown["delta"])
    low, high = fig.axes[0].get_xlim()
    assert low <= shown["delta_ci_low"].min() and high >= shown["delta_ci_high"].max()
    assert fig.axes[0].get_yticklabels()[0].get_text() == "Enforced, no agreement"
    fig2, ax = plt.subplots()
    assert scenario_chart(table, ax=ax) is fig2
    assert len(bars(ax)) == 2 * table["scenario"].nunique()


def _colours(ax) -> list[str]:
    from matplotlib.colors import to_hex

    return [to_hex(b.get_facecolor()) for b in bars(ax)]


def test_tornado_colours_by_good_or_bad_for_the_partnership(swept):
    from bayes_cmo.plots.labels import BAD, GOOD

    shown = swept[(swept["mode"] == "observe") & (swept["target_state"] == "synergy")]
    # default: the highest state is good, so a rise of P(synergy) is blue
    fig = tornado(swept[swept["target"] == "synergy"], top=None)
    ax = fig.axes[0]
    order = [(t.get_text()) for t in ax.get_yticklabels()]
    assert len(order) == len(shown)
    expected = sorted(GOOD.lower() if d > 0 else BAD.lower() for d in shown["delta"])
    assert sorted(_colours(ax)) == expected
    # declaring the low pole good flips every colour (as for dissolution: sustained is good)
    flipped = tornado(swept[swept["target"] == "synergy"], top=None, good={"synergy": "inertia"})
    assert sorted(_colours(flipped.axes[0])) == sorted(BAD.lower() if d > 0 else GOOD.lower() for d in shown["delta"])
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["good for the partnership", "bad for the partnership"]
    with pytest.raises(BayesCMOError, match="'good' parameter"):
        tornado(swept, good={"synergy": "maybe"})


def test_tornado_top_n_says_what_was_left_out(swept):
    fig = tornado(swept, top=1)
    assert len(fig.axes[0].get_yticklabels()) == 2  # the two states of the top context
    assert "1 more factor with smaller changes not shown" in fig._supxlabel.get_text()
    # the axis ends near the largest whisker, not far beyond it
    shown = swept[(swept["mode"] == "observe") & swept["target_state"].isin(["synergy", "high"])]
    top_context = shown.loc[shown["delta"].abs().idxmax(), "context"]
    rows = shown[shown["context"] == top_context]
    extent = rows[["delta_ci_low", "delta_ci_high"]].abs().max().max()
    assert fig.axes[0].get_xlim()[1] == pytest.approx(extent * 1.12)


def test_heatmap_colours_mean_good_or_bad(swept):
    from matplotlib.colors import to_hex

    frame = swept[swept["target"] == "synergy"]
    fig = shift_heatmap(frame, good={"synergy": "inertia"})
    ax = fig.axes[0]
    assert "percentage points" in ax.get_title(loc="left")
    mesh = ax.collections[0]
    shown = frame[(frame["mode"] == "observe") & (frame["target_state"] == "synergy")]
    # with inertia good, the cell of the largest rise of P(synergy) has the most negative (bad) value
    assert mesh.get_array().min() == pytest.approx(-100 * shown["delta"].max())
    assert to_hex(mesh.cmap(0.0)) == "#d55e00"


def test_every_figure_says_which_number_it_shows(toy_model, drawn, swept):
    """Issue 11 item 5: the point answer and the mean over draws differ, so each figure names the one it shows."""
    fig = tornado(swept)
    assert "mean of 40 draws of the judgements" in fig.get_supxlabel()
    fig, ax = plt.subplots()
    tornado(swept, ax=ax)
    assert "mean of 40 draws" in ax.get_xlabel()
    point = sweep(toy_model, ["synergy"])
    assert set(point["estimate"]) == {"point values"}
    fig = shift_heatmap(point)
    assert "values: at the point values of the judgements" in fig.axes[0].get_title(loc="left")
    fig = tornado(point)
    assert "at the point values" in fig.get_supxlabel()
    scenarios = compare_scenarios(drawn, ["synergy"])
    assert "values: mean of 40 draws" in scenario_chart(scenarios).get_supxlabel()
    fig, ax = plt.subplots()
    scenario_chart(compare_scenarios(toy_model, ["synergy"]), ax=ax)
    assert "at the point values" in ax.get_xlabel()
