"""One folder a researcher can hand round: the headline answers as Markdown, CSV tables and figures.

``write_report(model, out)`` runs the pipeline's main questions through the
public functions — the claims check, the headline context's shift with
credible intervals, the sweep of every context, the named scenarios, the
rounds view, what to measure next and which judgements matter — and writes
``report.md`` (tables to paste), one CSV per table and one PNG per figure.
Computation lives in the other modules; this one only composes and writes.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .. import _validate as check
from .._errors import BayesCMOError
from .._files import csv_text
from .._format import interval as _interval
from .._format import percent as _pct
from .._format import points as _pp
from .._outputs import MARKER, check_output, marker_text
from ..inference import headline as _headline
from ..inference.background import check_targets
from ..inference.claims import check_claims
from ..network.describe import summary
from ..network.model import Model, build_model
from ..inference.rounds import MAX_ROUNDS, survival
from ..planning.sensitivity import judgement_sensitivity
from ..inference.shift import compare_scenarios, shift, sweep
from ..planning.voi import best_measurements, value_of_information


def _markdown(frame: pd.DataFrame) -> str:
    return frame.to_markdown(index=False, disable_numparse=True)


def _highest(frame: pd.DataFrame, model: Model) -> pd.DataFrame:
    """Rows of each target's reported state only (headline.yaml's, else its highest)."""
    top = {t: _headline.reported_state(model, t) for t in frame["target"].unique()}
    return frame[frame["target_state"] == frame["target"].map(top)]


def write_report(
    model: Model,
    out: str | Path,
    *,
    context: str | None = None,
    targets: Sequence[str] | None = None,
    level: float = 0.9,
    rounds: int = 5,
    force: bool = False,
) -> Path:
    """Write ``out/report.md`` with its tables (CSV) and figures (PNG); returns ``out``.

    ``model`` must come from a priors folder and carry parameter draws
    (``model.with_draws(1000, seed=0)``): every what-if answer gets an
    interval; the claims, VOI and sensitivity use the folder's point values.
    ``context`` and ``targets`` default to the folder's ``headline.yaml``.
    ``out`` is never replaced unless ``force``; it is written atomically.
    """
    from ..plots.planning import plot_sensitivity, plot_voi
    from ..plots.rounds import plot_survival
    from ..plots.theory import plot_theory
    from ..plots.whatif import scenario_chart, tornado

    theory = model.theory
    if theory is None:
        raise BayesCMOError(f"{model.source}: the report needs a priors folder (links, claims, scenarios), not a network file")
    if model.network.batch_size is None:
        raise check.InvalidParameter("model", "expected a model with parameter draws (model.with_draws(1000, seed=0)), got point values")
    context = check.node(model.network.states, _headline.context(model) if context is None else context, "context")
    targets = check_targets(model, list(_headline.targets(model)) if targets is None else targets)
    if context in targets:
        raise BayesCMOError(f"'{context}' is both the headline context and a target; drop one of them")
    rounds = check.integer(rounds, "rounds", 1, MAX_ROUNDS)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise BayesCMOError(f"{out}: exists and is not a folder; choose another --out")
    if out.exists() and not force:
        raise BayesCMOError(f"{out}: already exists; choose another --out or pass --force to replace it")
    if theory.path is not None and (out.resolve() == Path(theory.path).resolve() or Path(theory.path).resolve().is_relative_to(out.resolve())):
        raise BayesCMOError(f"{out}: would replace the priors folder {theory.path}; choose another --out")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise BayesCMOError(f"{parent}: folder does not exist")
    # the one output guard: never the priors, --force only over a folder this tool wrote, checked again at the swap
    output = check_output("", out, "folder", inputs=[theory.path], force=force)

    drawn, model = model, build_model(theory, source=model.source)
    n_draws, seed = drawn.network.batch_size, drawn.seed
    claims = check_claims(model)
    headline = shift(drawn, context, targets, level=level)
    every = sweep(drawn, targets, modes=("observe",), level=level)
    scenarios = compare_scenarios(drawn, targets, level=level) if theory.scenarios else None
    absorbing = theory.headline.absorbing
    has_loop = any(link.lag for link in theory.links) and absorbing is not None
    by_round = survival(drawn, rounds, level=level) if has_loop else None
    voi_target = absorbing if absorbing is not None else targets[-1]
    voi = value_of_information(model, voi_target)
    best = best_measurements(model, voi_target, 3)
    sensitivity = judgement_sensitivity(model, targets[0])

    figures: dict[str, object] = {
        "theory.png": plot_theory(theory),
        "tornado.png": tornado(every, top=15),
        "voi.png": plot_voi(voi),
        "sensitivity.png": plot_sensitivity(sensitivity),
    }
    if scenarios is not None:
        figures["scenarios.png"] = scenario_chart(scenarios)
    if by_round is not None:
        figures["rounds.png"] = plot_survival(by_round)
    tables = {
        "claims.csv": claims,
        "headline_shift.csv": headline,
        "sweep.csv": every,
        "voi.csv": voi,
        "sensitivity.csv": sensitivity,
    }
    if scenarios is not None:
        tables["scenarios.csv"] = scenarios
    if by_round is not None:
        tables["rounds.csv"] = by_round



    from .._version import __version__  # lazy: importlib.metadata is slow to import

    lines = [
        "# Programme theory in numbers",
        "",
        f"Priors: `{theory.path}` · bayes_cmo {__version__} · "
        f"{_dt.date.today().isoformat()} · {n_draws:,} parameter draws (seed {seed}), {level:.0%} credible intervals.",
        "",
        "## The theory",
        "",
        _markdown(summary(model)),
        "",
        f"{int(claims['holds'].sum())} of {len(claims)} programme-theory claims hold in the network"
        + ("." if claims["holds"].all() else f"; failing: {', '.join(claims.loc[~claims['holds'], 'claim'])}."),
        "",
        "![The programme theory](theory.png)",
        "",
        f"## How much does {context.replace('_', ' ')} shift the outcomes?",
        "",
    ]
    rows = []
    for row in _highest(headline, model).itertuples():
        rows.append(
            {
                "state": row.state,
                "mode": row.mode,
                "outcome": f"P({row.target}={row.target_state})",
                "baseline": _pct(row.p_baseline),
                "p": f"{_pct(row.p)} {_interval(row.ci_low, row.ci_high)}",
                "change (pp)": f"{_pp(row.delta)} {_interval(row.delta_ci_low, row.delta_ci_high, points=True)}",
            }
        )
    lines += [_markdown(pd.DataFrame(rows)), "", "## Every context, ranked by impact", "", "![Tornado](tornado.png)", ""]
    ranked = _highest(every, model)
    ranked = ranked.assign(impact=ranked["delta"].abs()).sort_values("impact", ascending=False).head(10)
    lines += [
        _markdown(
            pd.DataFrame(
                {
                    "context": ranked["context"],
                    "state": ranked["state"],
                    "outcome": "P(" + ranked["target"] + "=" + ranked["target_state"] + ")",
                    "change (pp)": [f"{_pp(d)} {_interval(lo, hi, points=True)}" for d, lo, hi in zip(ranked["delta"], ranked["delta_ci_low"], ranked["delta_ci_high"], strict=True)],
                }
            )
        ),
        "",
    ]
    if scenarios is not None:
        top = _highest(scenarios, model)
        lines += [
            "## Named scenarios",
            "",
            _markdown(
                pd.DataFrame(
                    {
                        "scenario": top["label"],
                        "outcome": "P(" + top["target"] + "=" + top["target_state"] + ")",
                        "p": [f"{_pct(p)} {_interval(lo, hi)}" for p, lo, hi in zip(top["p"], top["ci_low"], top["ci_high"], strict=True)],
                        "change (pp)": [_pp(d) for d in top["delta"]],
                    }
                )
            ),
            "",
            "![Scenarios](scenarios.png)",
            "",
        ]
    if by_round is not None:
        lines += [
            "## Over rounds: is the partnership still intact?",
            "",
            _markdown(
                pd.DataFrame(
                    {
                        "round": by_round["round"].astype(str),
                        "P(still intact)": [
                            f"{_pct(p)} {_interval(lo, hi)}"
                            for p, lo, hi in zip(by_round["p_intact"], by_round["ci_low"], by_round["ci_high"], strict=True)
                        ],
                        f"P({absorbing}={theory.headline.absorbing_state} in this round, if intact before)": by_round["p_absorbed_in_round"].map(_pct),
                    }
                )
            ),
            "",
            "(Monte Carlo over the unrolled loop; the interval spans parameter draws.)",
            "",
            "![Rounds](rounds.png)",
            "",
        ]
    lines += [
        f"## What to measure next (to learn about {voi_target})",
        "",
        _markdown(voi.head(10)[["node", "mutual_information_bits", "expected_abs_change"]].round(4)),
        "",
        "Best set of three measurements, each given the earlier picks: "
        + ", ".join(f"{r.node} (+{r.gain_bits:.3f} bits)" for r in best.itertuples())
        + ".",
        "",
        "![Value of information](voi.png)",
        "",
        f"## Which elicited judgements matter most (for P({targets[0]}))",
        "",
        _markdown(sensitivity.head(10)[["judgement", "p_minus", "p_plus", "swing"]].round(4)),
        "",
        "![Sensitivity](sensitivity.png)",
        "",
        "Tables: " + ", ".join(f"`{name}`" for name in tables) + ".",
        "",
    ]

    import matplotlib.pyplot as plt

    with output.folder() as tmp:
        (tmp / "report.md").write_text("\n".join(lines), encoding="utf-8")
        for name, frame in tables.items():
            (tmp / name).write_text(csv_text(frame), encoding="utf-8")  # spreadsheet-safe
        for name, fig in figures.items():
            fig.savefig(tmp / name, dpi=150, bbox_inches="tight")
            plt.close(fig)
        created = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
        (tmp / MARKER).write_text(marker_text(created, kind="report", priors=str(theory.path)), encoding="utf-8")
    return out
