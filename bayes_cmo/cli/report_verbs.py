"""report: the headline answers in one folder (Markdown, CSV tables, figures)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .._errors import BayesCMOError
from ..network.model import load_model
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
    report.add_argument("--context", "-c", default="legal_agreements", metavar="NODE", help="the headline context (default legal_agreements)")
    report.add_argument(
        "--target", "-t", action="append", default=None, metavar="NODE",
        help="outcome to report on (repeatable; default synergy and dissolution)",
    )
    _common.add_draws(report, default=1000)
    report.add_argument("--rounds", type=int, default=5, help="rounds for the time view (default 5)")
    _common.add_good(report)
    report.add_argument("--force", action="store_true", help="replace --out if it exists")
    report.set_defaults(run=run_report)


def run_report(args: argparse.Namespace) -> int:
    _common.check_draws(args)
    if args.draws < 1:
        raise BayesCMOError(f"--draws must be at least 1: the report gives every answer with an interval (got {args.draws})")
    if not 1 <= args.rounds <= MAX_ROUNDS:
        raise BayesCMOError(f"--rounds must be from 1 to {MAX_ROUNDS}, got {args.rounds}")
    good = _common.parse_findings(args.good, "--good") or None
    model = load_model(args.model)
    out = write_report(
        model,
        Path(args.out),
        context=args.context,
        targets=args.target or ("synergy", "dissolution"),
        n_draws=args.draws,
        seed=args.seed,
        level=args.level,
        rounds=args.rounds,
        good_direction=good,
        force=args.force,
    )
    print(f"wrote {out / 'report.html'} and {out / 'report.md'} with their tables and figures", file=sys.stderr)
    return 0
