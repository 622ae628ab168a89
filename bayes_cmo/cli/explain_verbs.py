"""explain: what the theory makes of one partnership (a coded case, or ad-hoc findings)."""

from __future__ import annotations

import argparse
import json
import warnings

from .._errors import BayesCMOError, did_you_mean
from ..inference.explain import DEFAULT_PERMUTATIONS, MAX_EXACT, explain
from ..network.model import load_model
from ..update.cases import ID_COLUMN, case_findings, read_cases
from . import _common


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="one partnership explained: likely mechanisms, and each finding's push on the outcomes",
        description=(
            "For one case of a case file (--cases FILE --case ID) or an ad-hoc partnership (--evidence "
            "NODE=STATE ...): the most probable state of every unobserved mechanism with its probability "
            "(and before the findings), and for each outcome (--target, default the theory's outcome nodes) "
            "how much each finding moved P(highest state): Shapley values, which add up to the case's whole "
            "change, beside the leave-one-out change. Example: bayes-cmo explain --cases cases.csv --case A07"
        ),
    )
    _common.add_model(parser)
    parser.add_argument("--cases", metavar="FILE.csv", help="case file (the format 'update' reads)")
    parser.add_argument("--case", metavar="ID", help="the case_id to explain (with --cases)")
    _common.add_findings(parser, do=False)
    parser.add_argument("--target", "-t", action="append", metavar="NODE", help="outcome to explain (repeatable; default: the outcome nodes)")
    parser.add_argument("--permutations", type=int, default=DEFAULT_PERMUTATIONS, metavar="N",
                        help=f"random orders for the Shapley values when a case has more than {MAX_EXACT} findings (default {DEFAULT_PERMUTATIONS})")
    parser.add_argument("--seed", type=int, default=0, help="seed of those random orders (default 0)")
    _common.add_output(parser, plot=True)
    parser.set_defaults(run=run_explain)


def _case_evidence(args, model) -> tuple[dict[str, str], str]:
    if args.case and not args.cases:
        raise BayesCMOError("--case needs --cases FILE (the case file it comes from)")
    if not args.cases:
        if not args.evidence:
            raise BayesCMOError("give --cases FILE --case ID, or the findings with --evidence NODE=STATE")
        return _common.parse_findings(args.evidence, "--evidence"), "ad-hoc partnership"
    if not args.case:
        raise BayesCMOError(f"--cases {args.cases}: name the case to explain with --case ID")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = read_cases(args.cases, model)
    ids = [str(c) for c in cases[ID_COLUMN]]
    if args.case not in ids:
        raise BayesCMOError(f"--case {args.case}: no such {ID_COLUMN} in {args.cases}{did_you_mean(args.case, ids)}")
    findings = case_findings(cases)[ids.index(args.case)]
    extra = _common.parse_findings(args.evidence, "--evidence")
    return {**findings, **extra}, f"case {args.case} of {args.cases}"


def run_explain(args: argparse.Namespace) -> int:
    _common.check_outputs(args, csv=args.csv, plot=args.plot)
    if args.permutations < 2:
        raise BayesCMOError(f"--permutations {args.permutations}: expected at least 2 random orders")
    model = load_model(args.model)
    evidence, what = _case_evidence(args, model)
    result = explain(model, evidence, args.target, permutations=args.permutations, seed=args.seed)
    if args.csv:
        _common.write_table(args, "csv", result.contributions)
    _common.write_xlsx(args, {"contributions": result.contributions, "mechanisms": result.mechanisms,
                              "outcomes": result.outcomes})
    if args.plot:
        from ..plots.explain import contribution_plot

        _common.save_figure(contribution_plot(result.contributions), args)
    if args.json:
        rows = lambda frame: [{k: _common._jsonable(v) for k, v in r.items()} for r in frame.to_dict(orient="records")]  # noqa: E731
        print(json.dumps({"what": what, "evidence": result.evidence, "method": result.method,
                          "outcomes": rows(result.outcomes), "mechanisms": rows(result.mechanisms),
                          "contributions": rows(result.contributions)}, indent=2))
        return 0
    print(f"{what}: {len(evidence)} finding(s)")
    if len(result.mechanisms):
        print("\nunobserved mechanisms, most probable state given the findings (prior = before any finding):")
        print(_common.format_table(result.mechanisms, digits=3))
    print(f"\noutcomes: P(highest state) before and after the findings; contributions by {result.method}")
    print(_common.format_table(result.outcomes, digits=3))
    for target, part in result.contributions.groupby("target", sort=False):
        print(f"\n{target}: each finding's contribution (Shapley values sum to the total change)")
        print(_common.format_table(part[["finding", "shapley", "shapley_se", "leave_one_out"]], digits=3))
    return 0
