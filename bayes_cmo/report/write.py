"""The report folder: compute once, render as Markdown and HTML, write tables and figures atomically."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path

from .._errors import BayesCMOError
from .._files import folder_atomically
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


def _check_out(model: Model, out: Path, force: bool) -> None:
    theory = model.theory
    if out.exists() and not out.is_dir():
        raise BayesCMOError(f"{out}: exists and is not a folder; choose another --out")
    if out.exists() and not force:
        raise BayesCMOError(f"{out}: already exists; choose another --out or pass --force to replace it")
    if theory.path is not None and (out.resolve() == Path(theory.path).resolve() or Path(theory.path).resolve().is_relative_to(out.resolve())):
        raise BayesCMOError(f"{out}: would replace the priors folder {theory.path}; choose another --out")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise BayesCMOError(f"{parent}: folder does not exist")


def write_report(
    model: Model,
    out: str | Path,
    *,
    context: str = "legal_agreements",
    targets: Sequence[str] = ("synergy", "dissolution"),
    n_draws: int = 1000,
    seed: int = 0,
    level: float = 0.9,
    rounds: int = 5,
    good_direction: Mapping[str, str] | None = None,
    force: bool = False,
) -> Path:
    """Write ``out/report.md`` and ``out/report.html`` with their tables (CSV) and figures (PNG); returns ``out``.

    ``model`` must come from a priors folder (point values; draws are made
    here, ``n_draws`` with ``seed``). ``good_direction`` (``{node: state}``)
    says which state of a target is good for the partnership (default: the
    theory's headline section, else the highest state). ``out`` is never
    replaced unless ``force``; it is written atomically.
    """
    import matplotlib.pyplot as plt

    out = Path(out)
    check_report_args(model, context, targets, rounds)
    _check_out(model, out, force)
    result = compute_report(
        model, context=context, targets=targets, n_draws=n_draws, seed=seed, level=level, rounds=rounds,
        good_direction=good_direction,
    )
    figures = report_figures(result)
    pngs = {}
    for name, fig in figures.items():
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=150, bbox_inches="tight")
        plt.close(fig)
        pngs[name] = buffer.getvalue()
    content = blocks(result)
    with folder_atomically(out) as tmp:
        (tmp / "report.md").write_text(render_markdown(content), encoding="utf-8")
        (tmp / "report.html").write_text(render_html(content, pngs), encoding="utf-8")
        for name, frame in result.tables.items():
            frame.to_csv(tmp / name, index=False)
        for name, data in pngs.items():
            (tmp / name).write_bytes(data)
    return out
