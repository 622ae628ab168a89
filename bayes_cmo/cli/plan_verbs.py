"""plan voi / sensitivity / sample-size / calibration: evaluation planning."""

from __future__ import annotations

import argparse
import json

from .. import _validate as check
from .._errors import BayesCMOError
from .._runner import check_cluster
from ..network.model import load_model
from ..planning.sample_size import ALL, DEFAULT_ASSURANCE, DEFAULT_N, FITS, PRIORS, cases_needed, sample_size
from ..planning.sensitivity import judgement_sensitivity
from ..planning.voi import best_measurements, read_costs, value_of_information
from . import _common


def _check_outputs(args: argparse.Namespace) -> None:
    """--csv / --plot through the one output guard (never an input: priors, network or costs file)."""
    _common.check_outputs(args, csv=args.csv, plot=args.plot)


def register(subparsers) -> None:
    plan = subparsers.add_parser(
        "plan",
        help="evaluation planning: what to measure next, which judgements matter, how many cases",
        description=(
            "Plan phase 2 of an evaluation: value of information (voi), judgement sensitivity, sample size, "
            "and replicate studies of the update (calibration)."
        ),
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
            "Example: bayes-cmo plan voi --target OUTCOME --k 3"
        ),
    )
    _common.add_model(voi)
    voi.add_argument("--target", "-t", required=True, metavar="NODE", help="what the evaluation wants to learn about")
    voi.add_argument("--state", metavar="STATE", help="target state for the expected change (default: its highest state)")
    _common.add_findings(voi)
    voi.add_argument("--scenario", metavar="ID", help="a scenario from scenarios.yaml (findings and interventions)")
    voi.add_argument(
        "--costs",
        metavar="FILE.csv",
        help="cost per measurement: CSV or .xlsx with columns node,cost (lists what can be measured; ';' and a decimal comma are fine)",
    )
    voi.add_argument("--sheet", metavar="NAME", help="the sheet of an .xlsx --costs file (default: the first)")
    _common.add_level(voi)
    voi.add_argument("--k", type=_common.POSITIVE, default=1, metavar="K", help="size of the best set of measurements (default 1: ranking only)")
    _common.add_output(voi, plot=True)
    voi.set_defaults(run=run_voi)

    sens = verbs.add_parser(
        "sensitivity",
        help="which elicited judgements (link weights, baselines) move a headline probability most",
        description=(
            "Move each elicited judgement by one confidence width down and up and report the change in "
            "P(target = state | evidence), plus the derivative, largest swing first; --plot draws a tornado. "
            "Example: bayes-cmo plan sensitivity --target OUTCOME --top 10"
        ),
    )
    _common.add_model(sens)
    sens.add_argument("--target", "-t", required=True, metavar="NODE")
    sens.add_argument("--state", metavar="STATE", help="target state (default: its highest state)")
    _common.add_findings(sens)
    sens.add_argument("--scenario", metavar="ID", help="a scenario from scenarios.yaml (findings and interventions)")
    sens.add_argument("--top", type=_common.COUNT, default=15, metavar="N", help="show the N judgements that matter most (default 15; 0 = all)")
    _common.add_output(sens, plot=True)
    sens.set_defaults(run=run_sensitivity)

    size = verbs.add_parser(
        "sample-size",
        help="how many cases a phase-2 study needs to settle a link (preposterior simulation)",
        description=(
            "Simulate phase-2 studies of n cases from the priors, update the link's weight on each, and report "
            "the expected credible-interval width and the chance of getting its sign right. "
            "--link all plans every link and ranks them by the cases needed. --fit full refits the whole model by EM "
            "per study (slow; --jobs or --cluster spread the studies). "
            "Example: bayes-cmo plan sample-size --link FROM:TO --n 10 20 40 80"
        ),
    )
    _common.add_model(size)
    size.add_argument(
        "--link", metavar="FROM:TO",
        help=f"the CMO link to settle (default: the link of headline.yaml); '{ALL}': every link, ranked by cases needed",
    )
    size.add_argument("--n", type=_common.POSITIVE, nargs="+", default=list(DEFAULT_N), metavar="N", help="study sizes (default 10 20 40 80)")
    size.add_argument("--coded", nargs="+", metavar="NODE", help="nodes the case studies record (default: all)")
    size.add_argument(
        "--missing", type=_common.fraction("1 would leave every cell blank"), default=0.3,
        help="chance each recorded cell is blank (default 0.3)",
    )
    size.add_argument("--replicates", type=_common.at_least(2), default=100, metavar="R", help="simulated studies per size (default 100)")
    size.add_argument("--seed", type=_common.COUNT, default=0, help="random seed (default 0)")
    _common.add_level(size)
    size.add_argument(
        "--prior",
        type=check.option(check.choice, str, options=PRIORS),
        default="elicited",
        help="prior on the link in the update: the elicited one, or sceptical Normal(0, 2) (data alone)",
    )
    size.add_argument(
        "--fit",
        type=check.option(check.choice, str, options=FITS),
        default="family",
        help="family: refit the link's target family only (fast, default); full: refit the whole model by EM per study",
    )
    size.add_argument(
        "--assurance", type=_common.UNIT, default=DEFAULT_ASSURANCE, metavar="A",
        help=f"with --link {ALL}: cases needed = the smallest n whose own data settle the sign in this share of studies "
        f"(default {DEFAULT_ASSURANCE})",
    )
    _add_runner(size)
    size.add_argument("--quiet", action="store_true", help="no progress bar")
    _common.add_output(size, plot=True)
    size.set_defaults(run=run_sample_size)

    calib = verbs.add_parser(
        "calibration",
        help="replicate studies of the update: do its intervals cover the truth, how often do its verdicts cry wolf",
        description=(
            "Draw true theories from the priors, simulate a phase-2 study of --n cases from each, update the priors "
            "and report per link how often the credible interval covers the true weight (worst first). --null: "
            "simulate from the elicited theory itself (or with --set-link changes) and report how often each link "
            "is flagged. Example: bayes-cmo plan calibration --replicates 20 --jobs 2"
        ),
    )
    _common.add_model(calib)
    calib.add_argument("--n", type=_common.POSITIVE, default=200, metavar="N", help="cases per simulated study (default 200)")
    calib.add_argument(
        "--missing", type=_common.fraction("1 would leave every cell blank"), default=0.3,
        help="chance each recorded cell is blank (default 0.3)",
    )
    calib.add_argument("--coded", nargs="+", metavar="NODE", help="nodes the case studies record (default: all)")
    calib.add_argument("--replicates", type=_common.POSITIVE, default=20, metavar="R", help="simulated studies (default 20)")
    calib.add_argument("--seed", type=_common.COUNT, default=0, help="random seed (default 0)")
    _common.add_level(calib)
    calib.add_argument("--margin", type=_common.NONNEGATIVE, default=0.5, help="practical margin of the verdicts, log-odds (default 0.5)")
    calib.add_argument("--fdr", type=_common.UNIT, default=0.1, help="false discovery rate of the verdicts (default 0.1)")
    calib.add_argument("--joint", action="store_true", help="take each link's sd from the joint information (about 30 s per study on the shipped priors)")
    calib.add_argument("--null", action="store_true", help="a null study: simulate from the elicited theory itself and count flags")
    calib.add_argument(
        "--set-link", action="append", default=[], metavar="FROM:TO=WEIGHT",
        help="with --null: simulate with this link's signed weight instead (repeatable); its flags are hits",
    )
    _add_runner(calib)
    calib.add_argument("--quiet", action="store_true", help="no progress bar")
    _common.add_output(calib)
    calib.set_defaults(run=run_calibration)


def _add_runner(parser: argparse.ArgumentParser) -> None:
    """--jobs / --cluster: where the replicate studies run (the same numbers either way)."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--jobs", type=_common.POSITIVE, default=1, metavar="N",
        help="run the replicate studies on N local processes (default 1: in this process)",
    )
    where.add_argument(
        "--cluster", type=check.option(check_cluster, str), metavar="ADDRESS",
        help="run them on Dask: local:N (a LocalCluster of N workers) or a scheduler address such as "
        "tcp://host:8786 (pip install 'bayes_cmo[cluster]')",
    )


def run_voi(args: argparse.Namespace) -> int:
    _check_outputs(args)
    model = _common.model_from(args)
    evidence = _common.parse_findings(args.evidence, "--evidence")
    do = _common.parse_findings(args.do, "--do")
    costs = read_costs(args.costs, model, sheet=args.sheet) if args.costs else None  # read once, for the ranking and the best set
    background = dict(evidence=evidence, do=do, scenario=args.scenario)
    ranking = value_of_information(model, args.target, **background, costs=costs, state=args.state, level=args.level)
    best = None
    if args.k > 1:
        if args.k > len(ranking):
            pool = f"the nodes in {args.costs}" if costs else "the nodes neither the target nor observed"
            raise BayesCMOError(f"--k {args.k}: at most {len(ranking)} measurements can be chosen ({pool})")
        best = best_measurements(model, args.target, args.k, **background, costs=costs)
    if args.json and best is not None:
        if args.csv:
            _common.write_table(args, "csv", ranking)
        rows = lambda f: [{k: _common._jsonable(v) for k, v in r.items()} for r in f.to_dict(orient="records")]  # noqa: E731
        print(json.dumps({"ranking": rows(ranking), "best_set": rows(best)}, indent=2))
    else:
        if not args.json:
            given = ", ".join(
                [f"scenario {args.scenario}"] * bool(args.scenario)
                + [f"{k}={v}" for k, v in evidence.items()] + [f"do({k}={v})" for k, v in do.items()]
            ) or "nothing observed"
            print(f"What to measure to learn about {args.target} (given {given}); "
                  f"expected_abs_change is of P({args.target}={ranking['target_state'].iloc[0]})")
        _common.emit(ranking, argparse.Namespace(**{**vars(args), "xlsx": None}))
        if best is not None:
            print()
            print(f"Best set of {args.k} measurements (greedy, each given the earlier picks):")
            print(_common.format_table(best))
    _common.write_xlsx(args, {"ranking": ranking, **({"best_set": best} if best is not None else {})})
    if args.plot:
        from ..plots.planning import plot_voi

        _common.save_figure(plot_voi(ranking), args)
    return 0


def run_sensitivity(args: argparse.Namespace) -> int:
    _check_outputs(args)
    model = load_model(args.model)
    evidence = _common.parse_findings(args.evidence, "--evidence")
    do = _common.parse_findings(args.do, "--do")
    table = judgement_sensitivity(model, args.target, state=args.state, evidence=evidence, do=do, scenario=args.scenario)
    shown = table.head(args.top) if args.top else table
    if not args.json:
        print(
            f"P({args.target}={table['target_state'].iloc[0]}) = {table['p'].iloc[0]:.4f} at the elicited values; "
            "each judgement moved one confidence width down (p_minus) and up (p_plus)"
        )
    _common.emit(shown, args)
    if args.plot:
        from ..plots.planning import plot_sensitivity

        _common.save_figure(plot_sensitivity(table, top=args.top or 15), args)
    return 0


def run_sample_size(args: argparse.Namespace) -> int:
    _check_outputs(args)
    model = load_model(args.model)
    table = sample_size(
        model,
        args.link,
        n=args.n,
        coded=args.coded,
        missing=args.missing,
        replicates=args.replicates,
        seed=args.seed,
        level=args.level,
        prior=args.prior,
        fit=args.fit,
        jobs=args.jobs,
        cluster=args.cluster,
        progress=not args.quiet,
    )
    what = f"{args.replicates} simulated studies per size, {args.missing:.0%} blanks, {args.prior} prior, {args.fit} fit"
    if args.link == ALL:
        ranking = cases_needed(table, assurance=args.assurance)
        if not args.json:
            print(
                f"{len(ranking)} links: {what}; cases needed = the smallest n whose own data settle the sign in "
                f"{args.assurance:.0%} of studies (blank: more than {int(table['n'].max())})"
            )
        _common.emit(ranking, argparse.Namespace(**{**vars(args), "xlsx": None}))
        _common.write_xlsx(args, {"ranking": ranking, "sample_size": table})
        if args.plot:
            from ..plots.planning import plot_cases_needed

            _common.save_figure(plot_cases_needed(ranking, labels=_labels(model)), args)
        return 0
    if not args.json:
        print(
            f"{table['link'].iloc[0]}: {what}; "
            f"prior {args.level:.0%} interval width {table['prior_ci_width'].iloc[0]:.3f} log-odds"
        )
    _common.emit(table, args)
    if not args.json and len(table) and table["settled_by"].iloc[0]:
        print(table["settled_by"].iloc[0])
    if args.plot:
        from ..plots.planning import plot_sample_size

        _common.save_figure(plot_sample_size(table), args)
    return 0


def _labels(model) -> dict[str, str] | None:
    """The paper's node labels for figures."""
    if model.theory is None:
        return None
    return {node.id: node.label for node in model.theory.nodes.values() if node.label}


def run_calibration(args: argparse.Namespace) -> int:
    _common.check_outputs(args, csv=args.csv)
    model = load_model(args.model)
    from ..planning.studies import calibration_study, coverage, flag_rates, null_study

    settings = dict(
        n=args.n, missing=args.missing, coded=args.coded, replicates=args.replicates, seed=args.seed, level=args.level,
        margin=args.margin, fdr=args.fdr, joint=args.joint, jobs=args.jobs, cluster=args.cluster, progress=not args.quiet,
    )
    if args.set_link and not args.null:
        raise BayesCMOError("--set-link: only with --null (a calibration study draws its truths from the priors)")
    what = f"{args.replicates} simulated studies of {args.n} cases, {args.missing:.0%} blanks"
    if not args.null:
        table = coverage(calibration_study(model, **settings))
        if not args.json:
            worst = table.iloc[0] if len(table) else None
            print(
                f"calibration: {what}, truths drawn from the priors; the {args.level:.0%} intervals cover "
                f"{table['overall_coverage'].iloc[0]:.1%} of {int(table['link_runs'].iloc[0])} link-runs"
                + (f"; worst link {worst.link} ({worst.coverage:.0%})" if worst is not None else "")
            )
        _common.emit(table, args)
        return 0
    truth = None
    if args.set_link:
        from ..update.simulate import parse_link_setting, set_link_weight

        if model.theory is None:
            raise BayesCMOError(f"--set-link needs a priors folder (--model), not the network file {args.model}")
        truth = model.theory
        for setting in args.set_link:
            truth = set_link_weight(truth, *parse_link_setting(setting))
    table = flag_rates(null_study(model, truth=truth, **settings))
    if not args.json:
        source = f"the theory with {', '.join(args.set_link)}" if args.set_link else "the elicited theory itself"
        print(
            f"null study: {what}, simulated from {source}; on average {table['flags_per_run'].iloc[0]:.2f} links "
            f"flagged per study, {table['p_any_flag'].iloc[0]:.0%} of studies flag any"
        )
    _common.emit(table, args)
    return 0
