"""The layered theory diagram: arcs never run through a label; a legend for every colour and dash."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.path import Path  # noqa: E402

from bayes_cmo.plots.layout import BOX_H, BOX_W, arc_points, feedback_points  # noqa: E402
from bayes_cmo.plots.theory import plot_theory, theory_layout  # noqa: E402


def _samples(pts, codes) -> np.ndarray:
    return Path(pts, codes).interpolated(60).vertices


def _inside(points: np.ndarray, centre, shrink: float = 0.98) -> np.ndarray:
    x, y = centre
    return (np.abs(points[:, 0] - x) < BOX_W / 2 * shrink) & (np.abs(points[:, 1] - y) < BOX_H / 2 * shrink)


@pytest.mark.parametrize("which", ["toy", "default"])
def test_no_arc_crosses_a_label(which, toy_theory, default_theory):
    theory = toy_theory if which == "toy" else default_theory
    layout = theory_layout(theory)
    pos = layout.position
    arcs = [(chain, arc_points(layout, chain)) for chain in layout.chains.values()]
    lags = [link for link in theory.links if link.lag]
    arcs += [((link.source, link.target), feedback_points(layout, link.source, link.target, i)) for i, link in enumerate(lags)]
    assert len(arcs) == len(theory.links)
    for chain, (pts, codes) in arcs:
        samples = _samples(pts, codes)
        for node in layout.real:
            hits = _inside(samples, pos[node])
            assert not hits.any(), f"arc {chain[0]} -> {chain[-1]} runs through the label of {node}"
    # every node once, contexts before the outcomes that depend on them
    assert sorted(layout.real) == sorted(theory.nodes)
    column = {v: c for c, col in enumerate(layout.columns) for v in col}
    for link in theory.dag_links:
        assert column[link.source] < column[link.target]


def test_figure_has_a_complete_legend(default_theory):
    fig = plot_theory(default_theory)
    names = [t.get_text() for t in fig.legends[0].get_texts()]
    assert {"context", "mechanism", "outcome"} <= set(names)
    assert any("raises" in n for n in names) and any("lowers" in n for n in names)
    assert any("moderated" in n for n in names) and any("next round" in n for n in names)
    # the legend's colours are the arcs' colours
    from matplotlib.colors import to_hex
    from matplotlib.patches import FancyArrowPatch

    arc_colours = {to_hex(p.get_edgecolor()) for p in fig.axes[0].patches if isinstance(p, FancyArrowPatch)}
    legend_colours = {to_hex(h.get_color()) for h in fig.legends[0].legend_handles if hasattr(h, "get_xdata")}
    assert arc_colours <= legend_colours
    plt.close(fig)
