"""plan voi / sensitivity / sample-size: evaluation planning."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .._errors import BayesCMOError
from ..inference.whatif import background
from ..network.model import load_model
from ..planning.sample_size import DEFAULT_N, sample_size
from ..planning.sensitivity import judgement_sensitivity
from ..planning.voi import best_measurements, read_costs, value_of_information
from . import _common
from .update_verbs import check_level, check_missing, check_not_input, check_plot_name


def _check_outputs(args: argparse.Namespace, model, *more_inputs) -> None:
    """--csv / --plot: never one of the inputs; the plot's suffix checked before the work."""
    check_plot_name(args.plot)
    inputs = (args.model or model.source, *more_inputs)
    check_not_input(args.csv, "--csv", inputs)
    check_not_input(args.plot, "--plot", inputs)


def register(subparsers) -> None:
    plan = subparsers.add_parser(
        "plan",
        help="evaluation planning: what to measure next, which judgements matter, how many cases",
        description="Plan phase 2 of an evaluation: value of information (voi), judgement sensitivity, sample size.",
    )
    verbs = plan.add_subparsers(dest="plan_verb", metavar="PLAN_VERB", required=True)

    voi = verbs.add_parser(
        "voi",
        help="rank factors by what measuring them would tell about a target (value of information)",
        description=(
            "Rank every unobserved node by the mutual information (bits) between it and the target given "
            "the evidence, and by the expected change of P(target state); with --costs (CSV node,cost) by "
            "bits per unit cost. --k > 1 also picks the best set of k measurements greedily. With --json "
            "and --k > 1 the output is {\"ranking\": [...], \"best_set\": [...]}. "
            "Example: bayes-cmo plan voi --target dissolution --k 3"
        ),
    )
    _common.add_model(voi)
    voi.add_argument("--target", "-t", required=True, metavar="NODE", help="what the evaluation wants to learn about")
    voi.add_argument("--state", metavar="STATE", help="target state for the expected change (default: its highest state)")
    _common.add_findings(voi, do=False)
    voi.add_argument("--scenario", metavar="ID", help="a scenario from scenarios.yaml as background evidence")
    voi.add_argument(
        "--costs",
        metavar="FILE.csv",
        help="cost per measurement: CSV with columns node,cost (lists what can be measured; ';' and a decimal comma are fine)",
    )
    voi.add_argument("--k", type=int, default=1, metavar="K", help="size of the best set of measurements (default 1: ranking only)")
    _common.add_output(voi, plot=True)
    voi.set_defaults(run=run_voi)

    sens = verbs.add_parser(
        "sensitivity",
        help="which elicited judgements (link weights, baselines) move a headline probability most",
        description=(
            "Move each elicited judgement by one confidence width down and up and report the change in "
            "P(target = state | evidence), plus the derivative, largest swing first; --plot draws a tornado. "
            "Example: bayes-cmo plan sensitivity --target synergy --top 10"
        ),
    )
    _common.add_model(sens)
    sens.add_argument("--target", "-t", required=True, metavar="NODE")
    sens.add_argument("--state", metavar="STATE", help="target state (default: its highest state)")
    _common.add_findings(sens)
    sens.add_argument("--scenario", metavar="ID", help="a scenario from scenarios.yaml (findings and interventions)")
    sens.add_argument("--top", type=int, default=15, metavar="N", help="show the N judgements that matter most (default 15; 0 = all)")
    _common.add_output(sens, plot=True)
    sens.set_defaults(run=run_sensitivity)

    size = verbs.add_parser(
        "sample-size",
        help="how many cases a phase-2 study needs to settle a link (preposterior simulation)",
        description=(
            "Simulate phase-2 studies of n cases from the priors, update the link's weight on each, and report "
            "the expected credible-interval width and the chance of getting its sign right. "
            "Example: bayes-cmo plan sample-size --link legal_agreements:initial_trust --n 10 20 40 80"
        ),
    )
    _common.add_model(size)
    size.add_argument("--link", default="legal_agreements:initial_trust", metavar="FROM:TO", help="the CMO link to settle")
    size.add_argument("--n", type=int, nargs="+", default=list(DEFAULT_N), metavar="N", help="study sizes (default 10 20 40 80)")
    size.add_argument("--coded", nargs="+", metavar="NODE", help="nodes the case studies record (default: all)")
    size.add_argument("--missing", type=float, default=0.3, help="chance each recorded cell is blank (default 0.3)")
    size.add_argument("--replicates", type=int, default=100, metavar="R", help="simulated studies per size (default 100)")
    size.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    size.add_argument("--level", type=float, default=0.9, help="credible level of the intervals (default 0.9)")
    size.add_argument(
        "--prior",
        choices=["elicited", "sceptical"],
        default="elicited",
        help="prior on the link in the update: the elicited one, or sceptical Normal(0, 2) (data alone)",
    )
    size.add_argument("--quiet", action="store_true", help="no progress bar")
    _common.add_output(size, plot=True)
    size.set_defaults(run=run_sample_size)


def run_voi(args: argparse.Namespace) -> int:
    if args.k < 1:
        raise BayesCMOError(f"--k must be a positive integer, got {args.k}")
    model = _common.model_from(args)
    _check_outputs(args, model, args.costs)
    evidence = _common.parse_findings(args.evidence, "--evidence")
    evidence, scen_do = background(model, evidence, None, args.scenario)
    if scen_do:
        raise BayesCMOError(f"scenario '{args.scenario}' has interventions; value of information uses findings only")
    costs = read_costs(args.costs, model) if args.costs else None  # read once, for the ranking and the best set
    ranking = value_of_information(model, args.target, evidence=evidence, costs=costs, state=args.state)
    best = None
    if args.k > 1:
        if args.k > len(ranking):
            pool = f"the nodes in {args.costs}" if costs else "the nodes neither the target nor observed"
            raise BayesCMOError(f"--k {args.k}: at most {len(ranking)} measurements can be chosen ({pool})")
        best = best_measurements(model, args.target, args.k, evidence=evidence, costs=costs)
    if args.json and best is not None:
        if args.csv:
            _common.write_atomic(Path(args.csv), ranking.to_csv(index=False), force=args.force)
        rows = lambda f: [{k: _common._jsonable(v) for k, v in r.items()} for r in f.to_dict(orient="records")]  # noqa: E731
        print(json.dumps({"ranking": rows(ranking), "best_set": rows(best)}, indent=2))
    else:
        if not args.json:
            given = ", ".join(f"{k}={v}" for k, v in evidence.items()) or "nothing observed"
            print(f"What to measure to learn about {args.target} (given {given}); "
                  f"expected_abs_change is of P({args.target}={ranking.attrs['state']})")
        _common.emit(ranking, args)
        if best is not None:
            print()
            print(f"Best set of {args.k} measurements (greedy, each given the earlier picks):")
            print(_common.format_table(best))
    if args.plot:
        from ..plots.planning import plot_voi

        _common.save_figure(plot_voi(ranking), args.plot, args.force)
    return 0


def run_sensitivity(args: argparse.Namespace) -> int:
    if args.top < 0:
        raise BayesCMOError(f"--top must be 0 (all) or a positive number, got {args.top}")
    model = load_model(args.model)
    _check_outputs(args, model)
    evidence = _common.parse_findings(args.evidence, "--evidence")
    do = _common.parse_findings(args.do, "--do")
    table = judgement_sensitivity(model, args.target, args.state, evidence=evidence, do=do, scenario=args.scenario)
    shown = table.head(args.top) if args.top else table
    if not args.json:
        print(
            f"P({args.target}={table.attrs['state']}) = {table.attrs['probability']:.4f} at the elicited values; "
            "each judgement moved one confidence width down (p_minus) and up (p_plus)"
        )
    _common.emit(shown, args)
    if args.plot:
        from ..plots.planning import plot_sensitivity

        _common.save_figure(plot_sensitivity(table, top=args.top or 15), args.plot, args.force)
    return 0


def run_sample_size(args: argparse.Namespace) -> int:
    if min(args.n) < 1:
        raise BayesCMOError(f"--n {min(args.n)}: study sizes must be positive numbers of cases")
    if args.replicates < 2:
        raise BayesCMOError(f"--replicates {args.replicates}: expected at least 2 simulated studies per size")
    check_missing(args.missing)
    check_level(args.level)
    model = load_model(args.model)
    _check_outputs(args, model)
    table = sample_size(
        model,
        args.link,
        args.n,
        coded=args.coded,
        missing=args.missing,
        replicates=args.replicates,
        seed=args.seed,
        level=args.level,
        prior=args.prior,
        progress=not args.quiet,
    )
    if not args.json:
        print(
            f"{args.link}: {args.replicates} simulated studies per size, {args.missing:.0%} blanks, {args.prior} prior; "
            f"prior {args.level:.0%} interval width {table.attrs['prior_ci_width']:.3f} log-odds"
        )
    _common.emit(table, args)
    if not args.json and table.attrs.get("settled_by"):
        print(table.attrs["settled_by"])
    if args.plot:
        from ..plots.planning import plot_sample_size

        _common.save_figure(plot_sample_size(table), args.plot, args.force)
    return 0
