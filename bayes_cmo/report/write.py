"""The report folder: compute once, render as Markdown and HTML, write tables and figures atomically."""

from __future__ import annotations

import datetime as _dt
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

from .._files import csv_text
from .._outputs import MARKER, check_output, marker_text
from ..network.model import Model
from .compute import ReportResult, check_report_args, compute_report
from .html import render_html
from .markdown import render_markdown
from .sections import blocks


def report_figures(result: ReportResult) -> dict:
    """The report's figures (matplotlib Figures) by file name."""
    from ..plots.planning import plot_sensitivity, plot_voi
    from ..plots.rounds import plot_survival
    from ..plots.theory import plot_theory
    from ..plots.whatif import scenario_chart, tornado

    theory = result.theory
    labels = {n: node.label for n, node in theory.nodes.items()}
    figures = {
        "theory.png": plot_theory(theory),
        "tornado.png": tornado(result.sweep, top=12, labels=labels, good=result.good),
        "voi.png": plot_voi(result.voi, labels=labels),
        "sensitivity.png": plot_sensitivity(result.sensitivity, labels=labels),
    }
    if result.scenarios is not None:
        figures["scenarios.png"] = scenario_chart(result.scenarios, labels=labels, good=result.good)
    if result.rounds is not None:
        figures["rounds.png"] = plot_survival(result.rounds)
    return figures


def write_report(
    model: Model,
    out: str | Path,
    *,
    context: str | None = None,
    targets: Sequence[str] | None = None,
    level: float = 0.9,
    rounds: int = 5,
    good_direction: Mapping[str, str] | None = None,
    force: bool = False,
) -> Path:
    """Write ``out/report.md`` and ``out/report.html`` with their tables (CSV) and figures (PNG); returns ``out``.

    ``model`` must come from a priors folder and carry parameter draws
    (``model.with_draws(1000, seed=0)``). ``context`` and ``targets`` default to the
    folder's ``headline.yaml``; ``good_direction`` (``{node: state}``) says which state
    of a target is good for the partnership (default: the headline section, else the
    highest state). ``out`` goes through the one output guard: never the priors, and
    ``--force`` only over a folder this tool wrote; it is written atomically.
    """
    import matplotlib.pyplot as plt

    out = Path(out)
    check_report_args(model, context, targets, rounds)
    output = check_output("", out, "folder", inputs=[model.theory.path], force=force)
    result = compute_report(
        model, context=context, targets=targets, level=level, rounds=rounds, good_direction=good_direction
    )
    figures = report_figures(result)
    pngs = {}
    for name, fig in figures.items():
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=150, bbox_inches="tight")
        plt.close(fig)
        pngs[name] = buffer.getvalue()
    content = blocks(result)
    with output.folder() as tmp:
        (tmp / "report.md").write_text(render_markdown(content), encoding="utf-8")
        (tmp / "report.html").write_text(render_html(content, pngs), encoding="utf-8")
        for name, frame in result.tables.items():
            (tmp / name).write_text(csv_text(frame), encoding="utf-8")  # spreadsheet-safe
        for name, data in pngs.items():
            (tmp / name).write_bytes(data)
        created = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
        (tmp / MARKER).write_text(marker_text(created, kind="report", priors=str(model.theory.path)), encoding="utf-8")
    return out
