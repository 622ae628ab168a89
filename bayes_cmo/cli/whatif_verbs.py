"""shift, sweep, scenarios: how much evidence about a context moves the outcomes."""

from __future__ import annotations

import argparse
import sys

from .._format import interval, percent, points
from .._lazy import pandas as pd
from ..inference import headline as _headline
from ..inference.shift import compare_scenarios, shift, sweep
from . import _common


def reported_rows(frame: pd.DataFrame, model) -> pd.DataFrame:
    """Rows of each target's reported state (headline.yaml, else its highest): the others are mirror images."""
    state = {t: _headline.reported_state(model, t) for t in frame["target"].unique()}
    return frame[frame["target_state"] == frame["target"].map(state)]

_MODES = {"observe": ("observe",), "do": ("do",), "both": ("observe", "do")}


def register(subparsers) -> None:
    one = subparsers.add_parser(
        "shift",
        help="how much each state of one context shifts the targets (observed and do), vs the baseline",
        description=(
            "For each state of a context: P(target | context = state) against the baseline P(target), "
            "observed (conditioning) and intervened (do), as change, ratio and change in log-odds. "
            "Example: bayes-cmo shift --context CONTEXT --target OUTCOME --draws 1000"
        ),
    )
    _common.add_model(one)
    one.add_argument("--context", "-c", required=True, metavar="NODE", help="the context (any node) whose states to compare")
    _targets(one)
    _background(one)
    one.add_argument("--mode", choices=sorted(_MODES), default="both", help="observe (condition), do (intervene) or both (default)")
    _common.add_draws(one)
    _common.add_output(one, plot=True)
    one.set_defaults(run=run_shift)

    many = subparsers.add_parser(
        "sweep",
        help="the shift of every context at once, ranked by impact (tornado chart with --plot)",
        description=(
            "The shift of every context node (with --mechanisms also every mechanism) on the targets, "
            "one row per context, state, target state and mode, contexts ranked by their largest change. "
            "Example: bayes-cmo sweep --target OUTCOME --draws 1000 --plot tornado.png"
        ),
    )
    _common.add_model(many)
    _targets(many)
    _background(many)
    many.add_argument(
        "--context", "-c", action="append", default=None, metavar="NODE",
        help="sweep only these nodes (repeatable; default: every context)",
    )
    many.add_argument("--mechanisms", action="store_true", help="also sweep every mechanism node")
    many.add_argument("--mode", choices=sorted(_MODES), default="observe", help="observe (default), do or both")
    many.add_argument("--top", type=_common.POSITIVE, metavar="N", help="keep only the N most influential contexts")
    _common.add_draws(many)
    _common.add_output(many, plot=True)
    many.add_argument("--heatmap", type=_common.FIGURE, metavar="FILE.png", help="also draw the context x target heatmap")
    many.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    many.set_defaults(run=run_sweep)

    side = subparsers.add_parser(
        "scenarios",
        help="named scenarios (scenarios.yaml) side by side, each against the baseline",
        description=(
            "P(target) under each named scenario from the priors' scenarios.yaml against the baseline "
            "(--evidence / --do: a background added to every scenario and to the baseline). "
            "Example: bayes-cmo scenarios --target OUTCOME --draws 1000 --plot scenarios.png"
        ),
    )
    _common.add_model(side)
    _targets(side)
    side.add_argument("--scenario", "-s", action="append", default=None, metavar="ID", help="scenario id (repeatable; default: all)")
    _common.add_findings(side)
    _common.add_draws(side)
    _common.add_output(side, plot=True)
    side.set_defaults(run=run_scenarios)


def _targets(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target", "-t", action="append", default=None, metavar="NODE",
        help="outcome to watch (repeatable; default: the headline targets of headline.yaml)",
    )


def _background(parser: argparse.ArgumentParser) -> None:
    _common.add_findings(parser)
    parser.add_argument("--scenario", "-s", metavar="ID", help="background scenario from scenarios.yaml (its evidence and do())")


def _labels(model) -> dict[str, str] | None:
    if model.theory is None:
        return None
    return {n: node.label for n, node in model.theory.nodes.items()}


def _terminal(frame: pd.DataFrame, model, level: float, key: list[str]) -> str:
    shown = reported_rows(frame, model)
    table = shown[key].copy()
    table["outcome"] = [f"P({s})" for s in shown["target_state"]]
    table["baseline"] = shown["p_baseline"].map(percent)
    table["p"] = shown["p"].map(percent)
    if "ci_low" in shown:
        table[f"p {level:.0%} CI"] = [interval(lo, hi) for lo, hi in zip(shown["ci_low"], shown["ci_high"])]
    table["change pp"] = shown["delta"].map(points)
    if "delta_ci_low" in shown:
        table[f"change {level:.0%} CI"] = [
            interval(lo, hi, points=True) for lo, hi in zip(shown["delta_ci_low"], shown["delta_ci_high"])
        ]
    table["ratio"] = shown["ratio"].map(lambda v: f"{v:.2f}")
    table["d log-odds"] = shown["delta_logodds"].map(lambda v: f"{v:+.2f}")
    table = table.drop(columns=["target_state"], errors="ignore")
    return _common.format_table(table)  # fits 100 columns unless --wide


def _emit(frame: pd.DataFrame, model, args: argparse.Namespace, header: str, key: list[str]) -> None:
    if args.csv:
        _common.write_table(args, "csv", frame)
    _common.write_xlsx(args, {args.verb: frame})
    if args.json:
        _common.emit(frame, argparse.Namespace(json=True, csv=None))
        return
    print(header)
    print(_terminal(frame, model, args.level, key))
    print("(each target's reported state shown; change in percentage points; --json / --csv give every state and column)")
    if args.csv:
        print(f"wrote {args.csv}", file=sys.stderr)  # stdout stays pure table / JSON


def _describe_background(args: argparse.Namespace, evidence: dict[str, str], do: dict[str, str]) -> str:
    parts = [f"{k}={v}" for k, v in evidence.items()] + [f"do({k}={v})" for k, v in do.items()]
    if getattr(args, "scenario", None):
        parts.insert(0, f"scenario {args.scenario}")
    return ", ".join(parts) or "nothing observed"


def _draws_note(args: argparse.Namespace) -> str:
    return f"  [{args.draws} draws, seed {args.seed}, {args.level:.0%} intervals]" if args.draws else ""


def _query(args: argparse.Namespace):
    """The model (with draws), the targets (default: the headline's) and the background options."""
    model = _common.model_from(args)
    targets = args.target or list(_headline.targets(model))
    background = dict(
        evidence=_common.parse_findings(args.evidence, "--evidence"),
        do=_common.parse_findings(args.do, "--do"),
    )
    return model, targets, background


def run_shift(args: argparse.Namespace) -> int:
    _common.check_outputs(args, csv=args.csv, plot=args.plot)
    model, targets, background = _query(args)
    frame = shift(
        model, args.context, targets, **background, scenario=args.scenario, modes=_MODES[args.mode], level=args.level,
    )
    header = f"shift by {args.context} vs baseline ({_describe_background(args, **background)}){_draws_note(args)}"
    _emit(frame, model, args, header, ["state", "mode", "target", "target_state"])
    if args.plot:
        from ..plots.whatif import tornado

        _common.save_figure(tornado(frame, mode=None, labels=_labels(model)), args)
    return 0


def run_sweep(args: argparse.Namespace) -> int:
    _common.check_outputs(args, csv=args.csv, plot=args.plot, heatmap=args.heatmap)
    model, targets, background = _query(args)
    # JSON alone needs no DataFrame (nor pandas' start-up): the columns go straight to the writer
    json_only = args.json and not (args.csv or getattr(args, "xlsx", None) or args.plot or args.heatmap)
    frame = sweep(
        model, targets, **background, scenario=args.scenario, contexts=args.context,
        include_mechanisms=args.mechanisms, modes=_MODES[args.mode], level=args.level,
        progress=sys.stderr.isatty() and not args.quiet, top=args.top, as_frame=not json_only,
    )
    header = (
        f"shift of each context vs baseline ({_describe_background(args, **background)}), "
        f"most influential first{_draws_note(args)}"
    )
    _emit(frame, model, args, header, ["context", "state", "mode", "target", "target_state"])
    if args.plot or args.heatmap:
        from ..plots.whatif import shift_heatmap, tornado

        mode = None if args.mode == "both" else args.mode
        if args.plot:
            _common.save_figure(tornado(frame, mode=mode, labels=_labels(model)), args)
        if args.heatmap:
            _common.save_figure(shift_heatmap(frame, mode=mode, labels=_labels(model)), args, "heatmap")
    return 0


def run_scenarios(args: argparse.Namespace) -> int:
    _common.check_outputs(args, csv=args.csv, plot=args.plot)
    model, targets, background = _query(args)
    frame = compare_scenarios(model, targets, scenarios=args.scenario, **background, level=args.level)
    given = ", ".join([f"{k}={v}" for k, v in background["evidence"].items()] + [f"do({k}={v})" for k, v in background["do"].items()])
    header = f"named scenarios vs baseline ({given or 'nothing observed'}){_draws_note(args)}"
    _emit(frame, model, args, header, ["scenario", "target", "target_state"])
    if args.plot:
        from ..plots.whatif import scenario_chart

        _common.save_figure(scenario_chart(frame, labels=_labels(model)), args)
    return 0
