"""check, query, export: the network itself."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..inference.claims import check_claims
from ..network.describe import link_table, summary
from ..inference import headline as _headline
from ..inference.whatif import what_if
from .._errors import BayesCMOError
from ..network.model import FORMATS, export_model, load_model
from ..inference.rounds import MAX_ROUNDS, MIN_SAMPLES
from . import _common


def register(subparsers) -> None:
    check = subparsers.add_parser(
        "check",
        help="validate a priors folder, summarise the network, verify every programme-theory claim",
        description=(
            "Validate the priors files, build the network, print a summary (nodes by role, links, "
            "largest parent set, prior cases per link) and verify with exact inference that the model reproduces the "
            "direction of every claim in claims.yaml; lint every link against the strength and confidence rules "
            "of links.yaml. Exits 1 naming each claim that fails, or listing each departure without a rule_exception."
        ),
    )
    _common.add_model(check)
    check.add_argument("--json", action="store_true", help="print the claim table as JSON rows")
    check.set_defaults(run=run_check)

    query = subparsers.add_parser(
        "query",
        help="P(target | evidence) or P(target | do(...)): a what-if probability query",
        description=(
            "Exact probabilities of each target's states given findings (--evidence) and/or "
            "interventions (--do). Example: bayes-cmo query --evidence CONTEXT=STATE --target OUTCOME"
        ),
    )
    _common.add_model(query)
    query.add_argument(
        "--target", "-t", action="append", default=None, metavar="NODE",
        help="node to query (repeatable; default: the headline targets of headline.yaml)",
    )
    query.add_argument("--scenario", "-s", metavar="ID", help="background scenario from scenarios.yaml (its evidence and do())")
    _common.add_findings(query)
    _common.add_draws(query)
    _common.add_output(query)
    query.set_defaults(run=run_query)

    export = subparsers.add_parser(
        "export",
        help="write the network for GeNIe (xdsl), Hugin (net), or as BIF / XMLBIF",
        description="Write the model (point values) in a format other Bayesian-network tools read.",
    )
    _common.add_model(export)
    export.add_argument("--format", choices=sorted(FORMATS), help="file format (default: from the --out suffix)")
    export.add_argument("--out", required=True, metavar="FILE", help="file to write (never overwritten without --force)")
    export.add_argument("--force", action="store_true", help="replace FILE if it exists")
    export.set_defaults(run=run_export)

    links = subparsers.add_parser(
        "links",
        help="the CMO links as a table with their citations (and the theory as a figure with --plot)",
        description=(
            "One row per CMO link: sign, strength, weight and its sd, confidence, the evidence behind it, "
            "moderator, lag, and the paper's section and sentence. --node keeps the links touching one node; "
            "--plot draws the whole programme theory."
        ),
    )
    _common.add_model(links)
    links.add_argument("--node", metavar="NODE", help="only the links into, out of, or moderated by NODE")
    _common.add_output(links, plot=True)
    links.set_defaults(run=run_links)

    rounds = subparsers.add_parser(
        "rounds",
        help="the feedback loops unrolled over rounds: P(still intact), or any node, by round",
        description=(
            "Unroll the feedback links (lag: 1) over rounds. Without --target: the probability that the "
            "absorbing outcome of headline.yaml (e.g. the partnership ending) has not happened by each round, "
            "exact given the contexts like --target (findings on nodes that change by round apply to round 1). "
            "With --target NODE (repeatable): each node's distribution in every round, exact given the "
            "contexts (enumerated when few, else importance-sampled, with a standard error); the absorbing "
            "outcome stays absorbed; findings and interventions by round as NODE@ROUND=STATE "
            "(e.g. --evidence NODE@2=STATE --do NODE@1=STATE); a context holds in every round."
        ),
    )
    _common.add_model(rounds)
    rounds.add_argument(
        "--rounds", type=_common.at_least(1, MAX_ROUNDS), default=5, help=f"number of rounds, 1 to {MAX_ROUNDS} (default 5)"
    )
    rounds.add_argument(
        "--samples", type=_common.at_least(MIN_SAMPLES), default=None,
        help=f"importance samples of the contexts when they are too many to enumerate, at least {MIN_SAMPLES} (default 2000)"
    )
    rounds.add_argument(
        "--target", "-t", action="append", default=None, metavar="NODE",
        help="node to follow round by round (repeatable); the tidy table has round, target, state, p",
    )
    _common.add_findings(rounds)
    rounds.add_argument("--scenario", "-s", metavar="ID", help="background scenario from scenarios.yaml (its evidence and do())")
    _common.add_draws(rounds)
    _common.add_output(rounds, plot=True)
    rounds.set_defaults(run=run_rounds)


def run_check(args: argparse.Namespace) -> int:
    from ..theory.lint import unexplained, lint_links

    model = load_model(args.model)
    claims = check_claims(model)
    departures = unexplained(lint_links(model.theory)) if model.theory is not None else None
    if args.json:
        _common.emit(claims, args)
    else:
        print(f"priors: {model.source}")
        print(_common.format_table(summary(model)))
        print()
        shown = claims.assign(holds=claims["holds"].map({True: "yes", False: "NO"}))
        print(_common.format_table(shown[["claim", "target", "mode", "expect", "difference", "holds"]]))
        print()
        if departures is not None and len(departures):
            print("links departing from the strength/confidence rules of links.yaml without a rule_exception:")
            print(_common.format_table(departures.drop(columns="rule_exception")))
            print()
    failed = claims.loc[~claims["holds"], "claim"].tolist()
    if failed:
        print(f"{len(failed)} of {len(claims)} claims fail: {', '.join(failed)}", file=sys.stderr)
        return 1
    if departures is not None and len(departures):
        print(f"lint: {len(departures)} departure(s) from the rules without a rule_exception", file=sys.stderr)
        return 1
    if not args.json:
        print(f"all {len(claims)} claims hold" + ("; lint clean (every departure has a rule_exception)" if departures is not None else ""))
    return 0


def run_query(args: argparse.Namespace) -> int:
    _common.check_outputs(args, csv=args.csv)
    model = _common.model_from(args)
    evidence = _common.parse_findings(args.evidence, "--evidence")
    do = _common.parse_findings(args.do, "--do")
    targets = args.target or list(_headline.targets(model))
    table = what_if(model, targets, evidence=evidence, do=do, scenario=args.scenario, level=args.level)
    if not args.json:
        given = ", ".join(
            [f"scenario {args.scenario}"] * bool(args.scenario)
            + [f"{k}={v}" for k, v in evidence.items()] + [f"do({k}={v})" for k, v in do.items()]
        )
        print(f"P(target | {given or 'nothing observed'})" + (f"  [{args.draws} draws, {args.level:.0%} interval]" if args.draws else ""))
    _common.emit(table, args)
    return 0


def run_links(args: argparse.Namespace) -> int:
    from ..theory import load_theory

    _common.check_outputs(args, csv=args.csv, plot=args.plot)
    theory = load_theory(args.model)
    table = link_table(theory, args.node)
    if args.json:
        _common.emit(table, args)
    else:
        if args.csv:
            _common.write_table(args, "csv", table)
        _common.write_xlsx(args, {"links": table})
        print(_common.format_table(table[["link", "sign", "strength", "confidence", "prior_cases", "studies", "moderator", "lag", "section"]]))
    if args.plot:
        from ..plots.theory import plot_theory

        _common.save_figure(plot_theory(theory), args)
    return 0


def run_export(args: argparse.Namespace) -> int:
    _common.check_outputs(args, out=(args.out, "network"))
    model = load_model(args.model)
    path = export_model(model, Path(args.out), args.format, force=args.force)
    print(f"wrote {path}", file=sys.stderr)
    return 0


def run_rounds(args: argparse.Namespace) -> int:
    from ..inference.survival import survival

    _common.check_outputs(args, csv=args.csv, plot=args.plot)
    if args.model is not None and Path(args.model).is_file():
        raise BayesCMOError(f"{args.model}: the round-by-round view needs a priors folder (its lag: 1 links), not a network file")
    if args.target:
        return _rounds_by_target(args)
    table = survival(
        _common.model_from(args),
        args.rounds,
        evidence=_common.parse_findings(args.evidence, "--evidence"),
        do=_common.parse_findings(args.do, "--do"),
        scenario=args.scenario,
        samples=args.samples,
        level=args.level,
    )
    _common.emit(table, args)
    if args.plot:
        from ..plots.rounds import plot_survival

        _common.save_figure(plot_survival(table), args)
    return 0


def _rounds_by_target(args: argparse.Namespace) -> int:
    """rounds --target: any node by round, exact given the contexts (bayes_cmo.inference.loop.by_round)."""
    from ..inference.loop import by_round

    if args.scenario:
        raise BayesCMOError("--scenario with --target: give the scenario's findings as --evidence/--do (NODE@ROUND=STATE)")
    model = _common.model_from(args)
    headline = model.theory.headline
    absorbing = (headline.absorbing, headline.absorbing_state) if headline.absorbing else None
    table = by_round(
        model,
        args.target,
        rounds=args.rounds,
        evidence=_common.parse_findings(args.evidence, "--evidence"),
        do=_common.parse_findings(args.do, "--do"),
        absorbing=absorbing,
        **({"samples": args.samples} if args.samples else {}),
        seed=args.seed,
        level=args.level,
    )
    if headline.round and not args.json:
        print(f"one round = {headline.round}", file=sys.stderr)
    _common.emit(table, args)
    if args.plot:
        from ..plots.rounds import plot_by_round

        _common.save_figure(plot_by_round(table, unit=headline.round), args)
    return 0
