"""Shared look for every figure: paper-ready, colour-blind safe, no global state changed."""

from __future__ import annotations

import functools

import matplotlib

matplotlib.use("Agg", force=False)  # headless by default; a notebook's backend is kept

import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

#: Colour-blind-safe palette used by every figure.
PALETTE = sns.color_palette("colorblind")
#: Colours for the two query modes.
MODE_COLOURS = {"observe": PALETTE[0], "do": PALETTE[1]}


def new_axes(ax=None, *, width: float = 7.0, height: float = 4.5):
    """``ax`` and its figure, or a new figure with one Axes in the house style."""
    if ax is not None:
        return ax.figure, ax
    with sns.axes_style("whitegrid"), sns.plotting_context("paper", font_scale=1.15):
        fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    return fig, ax


def plain_text(plot):
    """Draw ``plot``'s text as written: no matplotlib math mode, where a ``$`` in a label would start a
    formula (and a bad one crash the figure). Set only while the figure is built, so no global state changes."""

    @functools.wraps(plot)
    def drawn(*args, **kwargs):
        with matplotlib.rc_context({"text.parse_math": False}):
            return plot(*args, **kwargs)

    return drawn


def escape(text: object) -> str:
    """A label as text (math mode is off while figures are built: see :func:`plain_text`)."""
    return str(text)


def label(node: str) -> str:
    """snake_case id -> readable label for axes (escaped for matplotlib)."""
    return escape(str(node).replace("_", " "))
