"""report: the headline answers in one folder (Markdown, CSV tables, figures)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .._errors import BayesCMOError
from ..report import write_report
from ..inference.rounds import MAX_ROUNDS
from . import _common


def register(subparsers) -> None:
    report = subparsers.add_parser(
        "report",
        help="write a folder with the headline answers: report.html, report.md, CSV tables and figures",
        description=(
            "Run the main questions on a priors folder — the claims check, the shift by one context "
            "with credible intervals, every context ranked, the named scenarios, P(still intact) by "
            "round, what to measure next and which judgements matter — and write report.html (one "
            "self-contained page with a plain-language summary, to hand to a policymaker), report.md (tables "
            "to paste), one CSV per table and one PNG per figure into --out. "
            "Example: bayes-cmo report --out report"
        ),
    )
    _common.add_model(report)
    report.add_argument("--out", required=True, metavar="DIR", help="folder to write (never replaced without --force)")
    report.add_argument("--context", "-c", default=None, metavar="NODE", help="the headline context (default: headline.yaml's)")
    report.add_argument(
        "--target", "-t", action="append", default=None, metavar="NODE",
        help="outcome to report on (repeatable; default: the headline targets of headline.yaml)",
    )
    _common.add_draws(report, default=1000)
    report.add_argument(
        "--rounds", type=_common.at_least(1, MAX_ROUNDS), default=5, help="rounds for the time view (default 5)"
    )
    _common.add_good(report)
    report.add_argument("--force", action="store_true", help="replace --out if it exists")
    report.set_defaults(run=run_report)


def run_report(args: argparse.Namespace) -> int:
    if args.draws < 2:
        raise BayesCMOError(f"--draws must be at least 2: the report gives every answer with an interval (got {args.draws})")
    _common.check_outputs(args, out=(args.out, "folder"))
    good = _common.parse_findings(args.good, "--good") or None
    out = write_report(
        _common.model_from(args),
        Path(args.out),
        context=args.context,
        targets=args.target,
        level=args.level,
        rounds=args.rounds,
        good_direction=good,
        force=args.force,
    )
    print(f"wrote {out / 'report.html'} and {out / 'report.md'} with their tables and figures", file=sys.stderr)
    return 0
